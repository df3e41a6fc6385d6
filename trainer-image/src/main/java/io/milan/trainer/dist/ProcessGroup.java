package io.milan.trainer.dist;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The trainer processes of one job (one per pod), connected in a TCP ring, and the collectives the training
 * loop needs: mean all-reduce of float32 gradients, broadcast from rank 0, all-gather and sums of small metrics,
 * and a barrier.
 *
 * <p>Every rank must call the same collectives in the same order with buffers of the same size (checked: a
 * mismatch fails on every rank with a message saying so). Calls come from one thread at a time. Every wait is
 * bounded by the config's timeout; any failure throws a {@link DistributedException} naming the peer, closes
 * the group and makes the other ranks fail too, so the process can exit non-zero and the operator restarts the
 * gang from the last checkpoint.
 *
 * <pre>{@code
 * try (ProcessGroup group = ProcessGroup.join(DistConfig.fromEnv(System.getenv()))) {
 *     group.allReduceMean(gradients);           // float[] or FloatBuffer, in place
 *     if (group.isPrimary()) { writeCheckpoint(); }
 * }
 * }</pre>
 */
public final class ProcessGroup implements AutoCloseable {

    /** Bytes per frame on the ring; override with -Dmilan.dist.chunkBytes (every rank must use the same). */
    public static final int DEFAULT_CHUNK_BYTES = Integer.getInteger("milan.dist.chunkBytes", 1 << 20);

    private final DistConfig config;
    private final Ring ring; // null for a single process
    private final List<Peer> peers;

    private ProcessGroup(DistConfig config, Ring ring, List<Peer> peers) {
        this.config = config;
        this.ring = ring;
        this.peers = peers;
    }

    /** Joins the group described by {@code config}; returns once every rank is connected. */
    public static ProcessGroup join(DistConfig config) {
        return join(config, Rendezvous.Events.NONE, DEFAULT_CHUNK_BYTES);
    }

    static ProcessGroup join(DistConfig config, Rendezvous.Events events, int chunkBytes) {
        if (chunkBytes < 64 || chunkBytes % Float.BYTES != 0) {
            throw new IllegalArgumentException("chunk size must be a multiple of 4 bytes >= 64, got " + chunkBytes);
        }
        if (config.worldSize() == 1) {
            return new ProcessGroup(config, null, List.of(new Peer(0, config.masterAddr(), config.masterPort())));
        }
        RingLinks links = Rendezvous.establish(config, events);
        return new ProcessGroup(config, new Ring(links, config.rank(), config.timeout(), chunkBytes), links.peers());
    }

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

    /** Every rank's address (rank 0's as MASTER_ADDR:MASTER_PORT), indexed by rank. */
    public List<Peer> peers() {
        return peers;
    }

    /** Replaces {@code data} by its element-wise mean over all ranks. */
    public void allReduceMean(float[] data) {
        allReduceMean(FloatBuffer.wrap(data));
    }

    /** Replaces the elements between position and limit by their mean over all ranks; position is unchanged. */
    public synchronized void allReduceMean(FloatBuffer data) {
        if (ring != null) {
            ring.run(Frame.Op.ALL_REDUCE_MEAN, seq -> {
                RingAllReduce.mean(ring, seq, data);
                return null;
            });
        }
    }

    /** Overwrites {@code data} on every rank with rank 0's values. */
    public void broadcast(float[] data) {
        broadcast(FloatBuffer.wrap(data));
    }

    /** Overwrites the elements between position and limit with rank 0's; every rank passes the same length. */
    public synchronized void broadcast(FloatBuffer data) {
        broadcastRegion(new Region.Floats(data));
    }

    /** Overwrites the bytes between position and limit with rank 0's; every rank passes the same length. */
    public synchronized void broadcast(ByteBuffer data) {
        broadcastRegion(new Region.Bytes(data));
    }

    /** Rank 0's bytes, on every rank; other ranks pass null (only rank 0 needs to know the length). */
    public synchronized byte[] broadcastBytes(byte[] fromPrimary) {
        if (isPrimary() && fromPrimary == null) {
            throw new IllegalArgumentException("rank 0 must pass the bytes to broadcast");
        }
        if (ring == null) {
            return fromPrimary;
        }
        Region region = ring.run(Frame.Op.BROADCAST, seq -> RingCollectives.broadcast(ring, seq,
                isPrimary() ? new Region.Bytes(ByteBuffer.wrap(fromPrimary)) : null, -1,
                length -> new Region.Bytes(ByteBuffer.allocate(length))));
        ByteBuffer bytes = ((Region.Bytes) region).data();
        return isPrimary() ? fromPrimary : bytes.array();
    }

    /** Every rank's bytes, indexed by rank (lengths may differ). For small payloads. */
    public synchronized byte[][] allGather(byte[] mine) {
        if (ring == null) {
            return new byte[][] {mine};
        }
        return ring.run(Frame.Op.ALL_GATHER, seq -> RingCollectives.allGather(ring, seq, mine));
    }

    /**
     * Element-wise sums over all ranks (loss sums, sample counts, correct top-k counts). Added in rank order in
     * double precision, so every rank gets exactly the same result.
     */
    public double[] allReduceSum(double[] values) {
        ByteBuffer mine = ByteBuffer.allocate(values.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        mine.asDoubleBuffer().put(values);
        double[] sum = new double[values.length];
        byte[][] all = allGather(mine.array());
        for (int r = 0; r < all.length; r++) {
            ByteBuffer theirs = ByteBuffer.wrap(all[r]).order(ByteOrder.LITTLE_ENDIAN);
            requireLength(r, theirs.remaining() / Double.BYTES, values.length);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += theirs.getDouble(i * Double.BYTES);
            }
        }
        return sum;
    }

    /** Element-wise sums of counts over all ranks. */
    public long[] allReduceSum(long[] values) {
        ByteBuffer mine = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        mine.asLongBuffer().put(values);
        long[] sum = new long[values.length];
        byte[][] all = allGather(mine.array());
        for (int r = 0; r < all.length; r++) {
            ByteBuffer theirs = ByteBuffer.wrap(all[r]).order(ByteOrder.LITTLE_ENDIAN);
            requireLength(r, theirs.remaining() / Long.BYTES, values.length);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += theirs.getLong(i * Long.BYTES);
            }
        }
        return sum;
    }

    /** Returns once every rank has called it (bounded by the timeout like every other wait). */
    public void barrier() {
        allGather(new byte[0]);
    }

    @Override
    public synchronized void close() {
        if (ring != null) {
            ring.close();
        }
    }

    /** Drops the connections with a TCP reset and no notice, as if this process had crashed (for tests). */
    synchronized void closeAbruptly() {
        if (ring != null) {
            ring.closeAbruptly();
        }
    }

    private void broadcastRegion(Region region) {
        if (ring != null) {
            ring.run(Frame.Op.BROADCAST, seq -> RingCollectives.broadcast(ring, seq, region, region.length(),
                    length -> region));
        }
    }

    private void requireLength(int fromRank, int theirs, int mine) {
        if (theirs != mine) {
            throw new IllegalArgumentException("allReduceSum: rank " + fromRank + " passed " + theirs
                    + " values but rank " + rank() + " passed " + mine + "; every rank must pass the same number");
        }
    }
}
