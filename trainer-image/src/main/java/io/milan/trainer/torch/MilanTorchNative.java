package io.milan.trainer.torch;

import ai.djl.engine.Engine;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The one JNA binding of libmilantorch ({@code src/main/cpp/milan_c10d.cpp}), our C shim over the parts of
 * libtorch 2.7.1 that DJL 0.36 does not expose: c10d (used by {@code io.milan.trainer.dist.c10d}) and a few plain
 * ops ({@code milan_torch_*}, wrapped by {@link TorchOps} and {@code DeviceUpload}). Built by the trainer's Maven
 * build into the classes (linux-x86-64/), like libmilanjpeg. The library is linked against DJL's libtorch by
 * SONAME only, so DJL's PyTorch engine is started first: the dynamic loader then binds the shim to the libtorch
 * DJL loaded instead of looking for (and failing to find, or worse, finding a second) one.
 *
 * <p>Every function that can fail returns null, 0 or -1 and leaves a message in {@link #milan_c10d_last_error()}
 * (thread-local in the library; JNA calls it on the same native thread). These are raw entry points: call them
 * through the wrappers, which check their arguments and turn failures into exceptions.
 */
public final class MilanTorchNative {

    /** Why the library is not loadable, or null when it is. */
    public static final String UNAVAILABLE = load();

    private MilanTorchNative() {
    }

    private static String load() {
        try {
            Engine.getEngine("PyTorch"); // loads libc10/libtorch_cpu, which the shim's DT_NEEDED entries bind to
            Native.register(MilanTorchNative.class, NativeLibrary.getInstance("milantorch"));
            return null;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | IllegalArgumentException e) {
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse(""); // JNA appends its search path
            return "libmilantorch (our libtorch shim: c10d, fused attention) is not loadable: " + why
                    + "; it is built by the trainer's Maven build (src/main/cpp/build.sh) and needs DJL's PyTorch"
                    + " engine (libtorch 2.7.1)";
        }
    }

    /**
     * The file of libmilantorch_cuda.so (ProcessGroupNCCL; only the CUDA image carries it, see
     * src/main/cpp/build-cuda.sh) found on the classpath like libmilantorch, or null when there is none.
     */
    public static String cudaLibraryPath() {
        try {
            return Native.extractFromResourcePath("milantorch_cuda").getAbsolutePath();
        } catch (java.io.IOException | UnsatisfiedLinkError e) {
            return null;
        }
    }

    public static void requireLoaded() {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException(UNAVAILABLE);
        }
    }

    public static native String milan_c10d_last_error();

    public static native String milan_c10d_libtorch_path();

    public static native Pointer milan_c10d_init(String masterAddr, int port, int rank, int world, long timeoutMs,
            String localAddress, String backend, String backendLibrary);

    public static native void milan_c10d_destroy(Pointer group);

    public static native Pointer milan_c10d_allreduce(Pointer group, long tensor, int op);

    public static native Pointer milan_c10d_broadcast(Pointer group, long tensor, int root);

    public static native Pointer milan_c10d_allgather(Pointer group, long output, long input);

    public static native Pointer milan_c10d_barrier(Pointer group);

    public static native int milan_c10d_wait(Pointer work, long timeoutMs);

    public static native int milan_c10d_is_completed(Pointer work);

    public static native void milan_c10d_work_free(Pointer work);

    public static native Pointer milan_c10d_reducer_create(Pointer group, long[] tensors, String names, int n,
            long[] bucketSizes, int buckets, long[] order, long bucketBytesCap);

    public static native int milan_c10d_reducer_prepare(Pointer reducer);

    public static native void milan_c10d_reducer_destroy(Pointer reducer);

    public static native Pointer milan_c10d_store_connect(String masterAddr, int port, long timeoutMs);

    public static native long milan_c10d_store_add(Pointer store, String key, long delta);

    public static native void milan_c10d_store_free(Pointer store);

    public static native long milan_torch_to_cuda(long tensor, int deviceIndex, int pin);

    public static native int milan_torch_set_cuda_device(int deviceIndex);

    public static native long milan_torch_sdpa(long query, long key, long value, double scale);

    public static native void milan_torch_set_tf32(int cublas, int cudnn);

    public static native int milan_torch_tf32();

    public static native int milan_torch_autocast_enter(int cuda, int dtype);

    public static native int milan_torch_autocast_exit(int cuda, int previous);

    public static native int milan_torch_autocast_state(int cuda);

    public static native int milan_torch_amp_unscale(long[] grads, int n, long foundInf, long invScale);

    public static native int milan_torch_amp_update_scale(long scale, long growthTracker, long foundInf,
            double growth, double backoff, long interval);

    public static native int milan_torch_scalar_type(long tensor);

    public static native long milan_torch_softmax(long tensor, long dim, int log);

    public static native long milan_torch_to_dtype(long tensor, int dtype);
}
