package io.milan.trainer.dist.c10d;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import com.sun.jna.Pointer;
import io.milan.trainer.dist.DistConfig;
import io.milan.trainer.torch.MilanTorchNative;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * A process group on libtorch's own distributed engine (c10d), through our shim libmilantorch: the ranks meet at
 * a {@code c10d::TCPStore} served by rank 0 at MASTER_ADDR:MASTER_PORT, then talk over {@code ProcessGroupGloo}
 * (CPU tensors) or {@code ProcessGroupNCCL} (CUDA tensors; {@link Backend#NCCL}). Collectives work in place on DJL NDArrays of the PyTorch engine (their native
 * {@code torch::Tensor}, no copies) and are asynchronous: the {@code ...Async} methods return a {@link C10dWork}
 * to await; the plain ones await it. Every rank must issue the same collectives in the same order.
 *
 * <p>Failures (a peer died, a peer stayed silent past the timeout, the store is unreachable) throw
 * {@link C10dException} naming the operation and this rank. The timeout bounds the rendezvous and every
 * collective.
 */
public final class C10dProcessGroup implements AutoCloseable {

    private final int rank;
    private final int worldSize;
    private final Duration timeout;
    private Pointer handle;

    private C10dProcessGroup(Pointer handle, int rank, int worldSize, Duration timeout) {
        this.handle = handle;
        this.rank = rank;
        this.worldSize = worldSize;
        this.timeout = timeout;
    }

    /** Why the shim cannot be used here, or null when it can. */
    public static String unavailableReason() {
        return MilanTorchNative.UNAVAILABLE;
    }

    /** The libtorch_cpu.so the shim is bound to (it must be the one DJL loaded). */
    public static String libtorchPath() {
        MilanTorchNative.requireLoaded();
        return MilanTorchNative.milan_c10d_libtorch_path();
    }

    /**
     * Joins the group the operator's env describes ({@link DistConfig#fromEnv}). When MASTER_ADDR is a loopback
     * address every rank is on this machine and Gloo binds 127.0.0.1; otherwise the interface named by
     * {@code GLOO_SOCKET_IFNAME}, else the address this host name resolves to (as torch.distributed does).
     */
    public static C10dProcessGroup join(DistConfig config) {
        return join(config, Backend.GLOO);
    }

    /** As {@link #join(DistConfig)}, on the given backend. */
    public static C10dProcessGroup join(DistConfig config, Backend backend) {
        return join(config.masterAddr(), config.masterPort(), config.rank(), config.worldSize(), config.timeout(),
                isLoopback(config.masterAddr()) ? "127.0.0.1" : null, backend);
    }

    /**
     * Joins a group: blocks until all {@code worldSize} ranks have met (at most {@code timeout}).
     *
     * @param localAddress the address this rank's Gloo device binds, or null for the default (see above)
     */
    public static C10dProcessGroup join(String masterAddr, int masterPort, int rank, int worldSize, Duration timeout,
            String localAddress) {
        return join(masterAddr, masterPort, rank, worldSize, timeout, localAddress, Backend.GLOO);
    }

    /** Which c10d backend a group runs on. */
    public enum Backend {
        /** ProcessGroupGloo: CPU tensors; in libtorch_cpu, always available. */
        GLOO,
        /**
         * ProcessGroupNCCL: CUDA tensors; needs libmilantorch_cuda.so on the classpath (the CUDA image), and a
         * CUDA libtorch loaded by DJL. Not built or tested on machines without CUDA.
         */
        NCCL
    }

    /** As above, on the given backend. */
    public static C10dProcessGroup join(String masterAddr, int masterPort, int rank, int worldSize, Duration timeout,
            String localAddress, Backend backend) {
        MilanTorchNative.requireLoaded();
        String library = backend == Backend.NCCL ? MilanTorchNative.cudaLibraryPath() : null;
        Pointer handle = MilanTorchNative.milan_c10d_init(masterAddr, masterPort, rank, worldSize, timeout.toMillis(),
                localAddress, backend.name().toLowerCase(java.util.Locale.ROOT), library);
        if (handle == null) {
            throw new C10dException(MilanTorchNative.milan_c10d_last_error());
        }
        return new C10dProcessGroup(handle, rank, worldSize, timeout);
    }

    public int rank() {
        return rank;
    }

    public int worldSize() {
        return worldSize;
    }

    public Duration timeout() {
        return timeout;
    }

    /** Starts combining {@code array} across the ranks, in place. */
    public C10dWork allReduceAsync(NDArray array, ReduceOp op) {
        return started(MilanTorchNative.milan_c10d_allreduce(live(), handleOf(array), op.ordinal()));
    }

    public void allReduce(NDArray array, ReduceOp op) {
        try (C10dWork work = allReduceAsync(array, op)) {
            work.await();
        }
    }

    /** Starts copying {@code root}'s {@code array} into every other rank's {@code array} (same shape and type). */
    public C10dWork broadcastAsync(NDArray array, int root) {
        return started(MilanTorchNative.milan_c10d_broadcast(live(), handleOf(array), root));
    }

    public void broadcast(NDArray array, int root) {
        try (C10dWork work = broadcastAsync(array, root)) {
            work.await();
        }
    }

    /**
     * Starts gathering every rank's {@code input} into {@code output}, whose shape is [worldSize, input's shape]
     * ({@code output.get(r)} receives rank r's input).
     */
    public C10dWork allGatherAsync(NDArray output, NDArray input) {
        return started(MilanTorchNative.milan_c10d_allgather(live(), handleOf(output), handleOf(input)));
    }

    /** Every rank's {@code input}, stacked: a new array of shape [worldSize, input's shape], in input's manager. */
    public NDArray allGather(NDArray input) {
        Shape shape = new Shape(worldSize).addAll(input.getShape());
        NDArray output = input.getManager().zeros(shape, input.getDataType(), input.getDevice());
        try (C10dWork work = allGatherAsync(output, input)) {
            work.await();
        } catch (RuntimeException e) {
            output.close();
            throw e;
        }
        return output;
    }

    /** Starts a barrier: it completes once every rank has reached it (and this rank's earlier work is done). */
    public C10dWork barrierAsync() {
        return started(MilanTorchNative.milan_c10d_barrier(live()));
    }

    public void barrier() {
        try (C10dWork work = barrierAsync()) {
            work.await();
        }
    }

    /** Leaves the group: waits for queued collectives, stops Gloo's threads and (rank 0) the store. */
    @Override
    public synchronized void close() {
        if (handle != null) {
            MilanTorchNative.milan_c10d_destroy(handle);
            handle = null;
        }
    }

    /** The native group, for the gradient reducer that runs on it. */
    synchronized Pointer live() {
        if (handle == null) {
            throw new IllegalStateException("this c10d process group was closed");
        }
        return handle;
    }

    private static C10dWork started(Pointer work) {
        if (work == null) {
            throw new C10dException(MilanTorchNative.milan_c10d_last_error());
        }
        return new C10dWork(work);
    }

    static long handleOf(NDArray array) {
        if (!(array instanceof PtNDArray pt)) {
            throw new IllegalArgumentException("c10d collectives take PyTorch-engine NDArrays, got "
                    + (array == null ? "null" : array.getClass().getName()));
        }
        return pt.getHandle();
    }

    private static boolean isLoopback(String address) {
        try {
            return address != null && InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
