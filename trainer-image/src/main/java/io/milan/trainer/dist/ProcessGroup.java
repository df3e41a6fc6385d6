package io.milan.trainer.dist;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.dist.c10d.C10dProcessGroup;
import io.milan.trainer.dist.c10d.C10dReducer;
import io.milan.trainer.dist.c10d.C10dStore;
import io.milan.trainer.dist.c10d.C10dWork;
import io.milan.trainer.dist.c10d.ReduceOp;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The trainer processes of one job and the collectives the training loop needs, on libtorch's c10d: NCCL when
 * this process drives a GPU, Gloo on the CPU. One process per device (see {@link Launcher}); rank 0 writes
 * checkpoints, logs and progress.
 *
 * <p>Every rank must call the same collectives in the same order. Every wait is bounded by the config's timeout;
 * a failure throws a {@link DistributedException} naming the operation, this rank and, when it can tell, the
 * rank that stopped (see {@link PeerLiveness}); the process should then exit non-zero.
 *
 * <pre>{@code
 * try (ProcessGroup group = ProcessGroup.join(DistConfig.fromEnv(System.getenv()), device);
 *         GradientSync sync = group.gradientSync(parameters)) {
 *     sync.reduceNextBackward();        // then backward(): gradients arrive averaged over all ranks
 *     if (group.isPrimary()) { writeCheckpoint(); }
 * }
 * }</pre>
 */
public final class ProcessGroup implements AutoCloseable {

    private final DistConfig config;
    private final Device device;
    private final C10dProcessGroup c10d; // null for a single process
    private final PeerLiveness liveness; // null for a single process
    private final NDManager scratch;
    /** A collective failed: c10d's queues may hold work that waits on a dead peer, so close() must not wait. */
    private volatile boolean broken;

    private ProcessGroup(DistConfig config, Device device, C10dProcessGroup c10d) {
        this.config = config;
        this.device = device;
        this.c10d = c10d;
        this.liveness = c10d == null ? null : PeerLiveness.start(config);
        this.scratch = NDManager.newBaseManager(device);
    }

    /** A CPU (Gloo) group. */
    public static ProcessGroup join(DistConfig config) {
        return join(config, Device.cpu());
    }

    /**
     * Joins the group described by {@code config}; returns once every rank is there (at most the timeout).
     * Collectives run on {@code device}: NCCL for a GPU, Gloo for the CPU.
     */
    public static ProcessGroup join(DistConfig config, Device device) {
        return join(config, device, RendezvousAuth.fromEnv(System.getenv()));
    }

    /** As above; every rank must prove {@code auth}'s secret before the group is used (see {@link RendezvousAuth}). */
    public static ProcessGroup join(DistConfig config, Device device, RendezvousAuth auth) {
        if (config.worldSize() == 1) {
            return new ProcessGroup(config, device, null);
        }
        C10dProcessGroup.Backend backend = device.isGpu() ? C10dProcessGroup.Backend.NCCL
                : C10dProcessGroup.Backend.GLOO;
        C10dProcessGroup c10d = C10dProcessGroup.join(config, backend);
        if (auth.enabled()) {
            // On a refusal the group is left as is: it may hold a stranger, and the process exits.
            try (C10dStore store = C10dStore.connect(config.masterAddr(), config.masterPort(), AUTH_STORE_TIMEOUT)) {
                auth.verify(config, store);
            }
        }
        return new ProcessGroup(config, device, c10d);
    }

    private static final Duration AUTH_STORE_TIMEOUT = Duration.ofSeconds(10);

    public int rank() {
        return config.rank();
    }

    public int worldSize() {
        return config.worldSize();
    }

    /** Rank 0: the one process that writes checkpoints, logs and progress. */
    public boolean isPrimary() {
        return config.rank() == 0;
    }

    public DistConfig config() {
        return config;
    }

    /** Where this process's collectives (and model) live. */
    public Device device() {
        return device;
    }

    /**
     * DDP's gradient averaging for {@code parameters} (those that require a gradient): see {@link GradientSync}.
     */
    public GradientSync gradientSync(Map<String, NDArray> parameters) {
        return gradientSync(parameters, C10dReducer.DEFAULT_BUCKET_BYTES);
    }

    /** As above with buckets of about {@code bucketBytes}. */
    public GradientSync gradientSync(Map<String, NDArray> parameters, long bucketBytes) {
        return c10d == null ? GradientSync.local(this) : GradientSync.over(this, c10d, parameters, bucketBytes);
    }

    /**
     * Element-wise sums over all ranks (loss sums, sample counts): one all-reduce in double precision, whose
     * result is the same on every rank.
     */
    public double[] allReduceSum(double[] values) {
        if (c10d == null) {
            return values.clone();
        }
        try (NDArray array = scratch.create(values)) {
            allReduce(array);
            return array.toDoubleArray();
        }
    }

    /** Element-wise sums of counts over all ranks. */
    public long[] allReduceSum(long[] values) {
        if (c10d == null) {
            return values.clone();
        }
        try (NDArray array = scratch.create(values)) {
            allReduce(array);
            return array.toLongArray();
        }
    }

    /** Every rank's bytes, indexed by rank (lengths may differ). For small payloads. */
    public byte[][] allGather(byte[] mine) {
        if (c10d == null) {
            return new byte[][] {mine.clone()};
        }
        long[] lengths;
        try (NDArray length = scratch.create(new long[] {mine.length}); NDArray all = gather(length)) {
            lengths = all.toLongArray();
        }
        int longest = (int) Arrays.stream(lengths).max().orElse(0);
        byte[] padded = Arrays.copyOf(mine, Math.max(1, longest)); // c10d refuses empty tensors
        byte[] all;
        try (NDArray bytes = scratch.create(ByteBuffer.wrap(padded), new Shape(padded.length), DataType.UINT8);
                NDArray gathered = gather(bytes)) {
            all = gathered.toByteArray();
        }
        byte[][] byRank = new byte[lengths.length][];
        for (int r = 0; r < byRank.length; r++) {
            int from = r * padded.length;
            byRank[r] = Arrays.copyOfRange(all, from, from + (int) lengths[r]);
        }
        return byRank;
    }

    /** Rank 0's bytes, on every rank; the other ranks pass null (only rank 0 needs to know the length). */
    public byte[] broadcastBytes(byte[] fromPrimary) {
        if (isPrimary() && fromPrimary == null) {
            throw new IllegalArgumentException("rank 0 must pass the bytes to broadcast");
        }
        if (c10d == null) {
            return fromPrimary;
        }
        try (NDArray length = scratch.create(new long[] {isPrimary() ? fromPrimary.length : 0})) {
            broadcast(length);
            byte[] bytes = isPrimary() ? fromPrimary : new byte[(int) length.getLong(0)];
            if (bytes.length == 0) {
                return bytes;
            }
            try (NDArray array = scratch.create(ByteBuffer.wrap(bytes), new Shape(bytes.length), DataType.UINT8)) {
                broadcast(array);
                return array.toByteArray();
            }
        }
    }

    /**
     * Overwrites each array, in place, with rank 0's values (initial or resumed weights, optimizer state). Every
     * rank passes the same names, dtypes and shapes, on this group's device; that is checked first, and a
     * difference fails every rank with the same message naming the array. Arrays go out in name order, all
     * broadcasts in flight at once.
     */
    public void broadcastFromPrimary(Map<String, NDArray> unordered) {
        if (c10d == null) {
            return;
        }
        Map<String, NDArray> arrays = new TreeMap<>(unordered);
        requireSameLayout(arrays);
        collective("broadcast of " + arrays.size() + " arrays", () -> {
            List<C10dWork> works = new ArrayList<>();
            try {
                for (NDArray array : arrays.values()) {
                    if (array.size() > 0) {
                        works.add(c10d.broadcastAsync(array, 0));
                    }
                }
                works.forEach(C10dWork::await);
            } finally {
                works.forEach(C10dWork::close);
            }
            return null;
        });
    }

    /** Returns once every rank has called it (bounded by the timeout like every other wait). */
    public void barrier() {
        if (c10d != null) {
            collective("barrier", () -> {
                c10d.barrier();
                return null;
            });
        }
    }

    /** Whether a collective failed (the process is about to exit non-zero). */
    boolean isBroken() {
        return broken;
    }

    /**
     * Leaves the group. After a failed collective it leaves the native group as it is (destroying it would wait
     * for c10d's queued work, up to the timeout, while the process should exit at once).
     */
    @Override
    public void close() {
        if (liveness != null) {
            liveness.close();
        }
        if (c10d != null && !broken) {
            c10d.close();
        }
        scratch.close();
    }

    private void allReduce(NDArray array) {
        collective("all-reduce", () -> {
            c10d.allReduce(array, ReduceOp.SUM);
            return null;
        });
    }

    private void broadcast(NDArray array) {
        collective("broadcast", () -> {
            c10d.broadcast(array, 0);
            return null;
        });
    }

    /** Every rank's {@code input}, stacked in rank order ([worldSize, input's shape]). */
    private NDArray gather(NDArray input) {
        return collective("all-gather", () -> c10d.allGather(input));
    }

    private void requireSameLayout(Map<String, NDArray> arrays) {
        StringBuilder layout = new StringBuilder();
        arrays.forEach((name, array) -> layout.append(name).append(' ').append(array.getDataType()).append(' ')
                .append(array.getShape()).append('\n'));
        byte[][] all = allGather(layout.toString().getBytes(StandardCharsets.UTF_8));
        String[] primary = new String(all[0], StandardCharsets.UTF_8).split("\n", -1);
        for (int rank = 1; rank < all.length; rank++) {
            String[] theirs = new String(all[rank], StandardCharsets.UTF_8).split("\n", -1);
            for (int i = 0; i < Math.max(primary.length, theirs.length); i++) {
                String expected = i < primary.length ? primary[i] : "(nothing)";
                String actual = i < theirs.length ? theirs[i] : "(nothing)";
                if (!expected.equals(actual)) {
                    throw new DistributedException("cannot broadcast: array " + i + " is '" + actual + "' on rank "
                            + rank + " but '" + expected + "' on rank 0; every rank must pass the same names,"
                            + " dtypes and shapes");
                }
            }
        }
    }

    /**
     * Runs a collective; when it fails, the exception names the operation, this rank and which rank stopped, if
     * the store can tell. A failure inside autograd's engine (the gradient reducer) reaches Java as DJL's
     * EngineException.
     */
    <T> T collective(String operation, java.util.function.Supplier<T> body) {
        liveness.enter();
        try {
            return body.get();
        } catch (DistributedException | ai.djl.engine.EngineException e) {
            broken = true;
            String message = e instanceof DistributedException ? e.getMessage()
                    : operation + " failed on rank " + rank() + " of " + worldSize() + ": " + e.getMessage();
            throw liveness.explain(message, e);
        }
    }
}
