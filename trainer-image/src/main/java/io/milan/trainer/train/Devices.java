package io.milan.trainer.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.milan.trainer.dist.DistConfig;
import io.milan.trainer.dist.c10d.DeviceUpload;

/** The one device this process drives: the CPU, or the GPU of its LOCAL_RANK (one process per GPU). */
public final class Devices {
    private Devices() {
    }

    /**
     * @param flag --device: cpu, cuda or auto (a GPU if libtorch sees one, else the CPU)
     * @param dist this process's place: LOCAL_RANK picks the GPU, LOCAL_WORLD_SIZE is how many the pod was given
     */
    public static Device resolve(String flag, DistConfig dist) {
        Device device = resolve(flag, dist, Engine.getInstance().getGpuCount());
        if (device.isGpu()) {
            DeviceUpload.makeCurrent(device); // the training loop's thread: contexts and NCCL on this GPU
        }
        return device;
    }

    static Device resolve(String flag, DistConfig dist, int gpus) {
        if (flag.equals("cpu") || (flag.equals("auto") && gpus == 0)) {
            return Device.cpu();
        }
        if (gpus == 0) {
            // DJL silently falls back to the CPU when only the CPU libtorch is found; say so rather than train slowly.
            throw new IllegalStateException("--device cuda: no GPU visible to libtorch (is the CUDA trainer image"
                    + " and PYTORCH_FLAVOR=cu128 in use?)");
        }
        if (gpus < dist.localWorldSize()) {
            throw new IllegalStateException("--device " + flag + ": " + dist.localWorldSize() + " processes were"
                    + " started on this node (LOCAL_WORLD_SIZE, --nproc_per_node) but libtorch sees only " + gpus
                    + " GPUs");
        }
        return Device.gpu(dist.localRank());
    }
}
