package io.milan.trainer.torch;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.types.DataType;

/**
 * {@code with torch.autocast(device_type, dtype):} for the calling thread: libtorch's own autocast, switched on in
 * the thread's dispatch state, so every op the thread then runs through libtorch's dispatcher (DJL's ops, the
 * shim's, TorchScript's) gets PyTorch's casting rules: matmuls, linear layers, convolutions and attention in
 * {@code dtype}; on CUDA softmax, layer norm and the losses in float32; on the CPU libtorch's shorter float32 list
 * (losses, norms of matrices...; softmax and layer norm follow their input there, as in PyTorch). The cast of a
 * parameter that requires a gradient is cached until the outermost autocast closes, as in PyTorch.
 *
 * <p>Close it on the thread that opened it (try-with-resources); it restores the previous state, so autocasts
 * nest. Run the backward after closing, as PyTorch recommends: autograd replays each op in the dtype its forward
 * ran in.
 */
public final class Autocast implements AutoCloseable {

    /** c10::ScalarType codes. */
    private static final int HALF = 5;
    private static final int BFLOAT16 = 15;

    private final int cuda;
    private final int previous;
    private final long thread;
    private boolean closed;

    private Autocast(int cuda, int previous) {
        this.cuda = cuda;
        this.previous = previous;
        this.thread = Thread.currentThread().getId();
    }

    /**
     * Enables autocast to {@code dtype} (FLOAT16 or BFLOAT16) for {@code device}'s type on this thread.
     *
     * @throws IllegalArgumentException for another dtype
     */
    public static Autocast enable(Device device, DataType dtype) {
        int code = switch (dtype) {
            case FLOAT16 -> HALF;
            case BFLOAT16 -> BFLOAT16;
            default -> throw new IllegalArgumentException("autocast runs in float16 or bfloat16, not " + dtype);
        };
        MilanTorchNative.requireLoaded();
        int cuda = device.isGpu() ? 1 : 0;
        int previous = MilanTorchNative.milan_torch_autocast_enter(cuda, code);
        if (previous < 0) {
            throw new EngineException(MilanTorchNative.milan_c10d_last_error());
        }
        return new Autocast(cuda, previous);
    }

    /** Whether autocast is on for {@code device}'s type on this thread. */
    public static boolean isEnabled(Device device) {
        MilanTorchNative.requireLoaded();
        return (MilanTorchNative.milan_torch_autocast_state(device.isGpu() ? 1 : 0) & 1) != 0;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread().getId() != thread) {
            throw new IllegalStateException("an autocast must be closed on the thread that opened it");
        }
        closed = true;
        if (MilanTorchNative.milan_torch_autocast_exit(cuda, previous) != 0) {
            throw new EngineException(MilanTorchNative.milan_c10d_last_error());
        }
    }
}
