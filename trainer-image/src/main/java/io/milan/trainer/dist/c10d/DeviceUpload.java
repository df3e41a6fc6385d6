package io.milan.trainer.dist.c10d;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import io.milan.trainer.torch.MilanTorchNative;

/**
 * Host → GPU copies of a batch the way PyTorch's loaders make them, which DJL cannot: with {@code pin}, staged in
 * page-locked memory and copied asynchronously ({@code pin_memory()} + {@code .to(cuda, non_blocking=True)}),
 * so the host goes on preparing the next batch while the copy runs. Through libmilantorch.
 */
public final class DeviceUpload {

    private DeviceUpload() {
    }

    /**
     * Makes {@code device} this thread's current CUDA device (torch.cuda.set_device): CUDA contexts, pinned memory
     * and NCCL communicators of this process then live on its own GPU instead of GPU 0.
     */
    public static void makeCurrent(Device device) {
        MilanTorchNative.requireLoaded();
        if (MilanTorchNative.milan_torch_set_cuda_device(device.getDeviceId()) != 0) {
            throw new IllegalStateException(MilanTorchNative.milan_c10d_last_error());
        }
    }

    /**
     * {@code host} (a CPU array) on {@code device}, as a new array of {@code manager} (which must be of the PyTorch
     * engine); {@code host} itself is unchanged and may be reused as soon as this returns.
     */
    public static NDArray toGpu(NDArray host, Device device, boolean pin, ai.djl.ndarray.NDManager manager) {
        if (!device.isGpu()) {
            throw new IllegalArgumentException("upload: " + device + " is not a GPU");
        }
        MilanTorchNative.requireLoaded();
        long handle = MilanTorchNative.milan_torch_to_cuda(C10dProcessGroup.handleOf(host), device.getDeviceId(),
                pin ? 1 : 0);
        if (handle == 0) {
            throw new IllegalStateException(MilanTorchNative.milan_c10d_last_error());
        }
        return new PtNDArray((PtNDManager) manager, handle);
    }
}
