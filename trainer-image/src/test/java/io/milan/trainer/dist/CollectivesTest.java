package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Broadcast, all-gather, metric sums and barrier, for 1 to 4 ranks as threads on loopback. */
class CollectivesTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int SMALL_CHUNK_BYTES = 64;

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {1, 2, 3, 4})
    void broadcastCopiesRankZerosFloatsEverywhere(int world) {
        int size = 1001; // many 16-float chunks
        float[] root = AllReduceExpectations.input(0, size, 3);
        List<float[]> results = ThreadRanks.run(world, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            float[] data = group.isPrimary() ? root.clone() : AllReduceExpectations.input(group.rank(), size, 4);
            group.broadcast(data);
            return data;
        });
        for (int rank = 0; rank < world; rank++) {
            assertArrayEquals(root, results.get(rank), "rank " + rank);
        }
    }

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {1, 2, 3, 4})
    void broadcastOfBytesWhoseLengthOnlyRankZeroKnows(int world) {
        byte[] root = new byte[777];
        for (int i = 0; i < root.length; i++) {
            root[i] = (byte) (i * 31);
        }
        List<byte[]> results = ThreadRanks.run(world, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            byte[] empty = group.broadcastBytes(group.isPrimary() ? new byte[0] : null);
            assertEquals(0, empty.length, "an empty broadcast");
            ByteBuffer fixed = ByteBuffer.allocateDirect(5);
            if (group.isPrimary()) {
                fixed.put("fixed".getBytes(StandardCharsets.US_ASCII)).flip();
            }
            group.broadcast(fixed);
            byte[] fixedBytes = new byte[5];
            fixed.get(fixedBytes);
            assertEquals("fixed", new String(fixedBytes, StandardCharsets.US_ASCII), "rank " + group.rank());
            return group.broadcastBytes(group.isPrimary() ? root : null);
        });
        for (int rank = 0; rank < world; rank++) {
            assertArrayEquals(root, results.get(rank), "rank " + rank);
        }
    }

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {1, 2, 3, 4})
    void allGatherAndSumsSeeEveryRank(int world) {
        List<byte[][]> gathered = ThreadRanks.run(world, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            // blocks of different lengths, one longer than a chunk
            byte[] mine = ("rank " + group.rank() + " ").repeat(group.rank() * 10 + 1).getBytes();
            byte[][] all = group.allGather(mine);
            double[] sums = group.allReduceSum(new double[] {group.rank() + 0.5, 1.0});
            assertArrayEquals(new double[] {world * world / 2.0, world}, sums, "double sums on rank " + group.rank());
            long[] counts = group.allReduceSum(new long[] {1L << 40, group.rank()});
            assertArrayEquals(new long[] {world * (1L << 40), world * (world - 1L) / 2}, counts);
            return all;
        });
        for (int rank = 0; rank < world; rank++) {
            for (int from = 0; from < world; from++) {
                assertEquals(("rank " + from + " ").repeat(from * 10 + 1), new String(gathered.get(rank)[from]),
                        "block of rank " + from + " as seen by rank " + rank);
            }
        }
    }

    /**
     * Every rank counts itself in before the barrier; none may see fewer than all after it. (That the barrier
     * really waits for a rank that never arrives is shown in {@link FailureTest}.)
     */
    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {1, 2, 3, 4})
    void afterTheBarrierEveryRankHasArrived(int world) {
        AtomicInteger arrived = new AtomicInteger();
        List<Integer> seen = ThreadRanks.run(world, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            for (int round = 1; round <= 5; round++) {
                arrived.incrementAndGet();
                group.barrier();
                int count = arrived.get();
                if (count < round * world) {
                    throw new AssertionError("rank " + group.rank() + " left barrier " + round + " having seen "
                            + count + " arrivals");
                }
                group.barrier(); // nobody starts the next round before everyone checked this one
            }
            return arrived.get();
        });
        assertEquals(java.util.Collections.nCopies(world, 5 * world), seen);
    }
}
