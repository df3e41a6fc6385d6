package io.milan.trainer.dist;

import static io.milan.trainer.dist.AllReduceExpectations.assertMean;
import static io.milan.trainer.dist.AllReduceExpectations.input;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Ring all-reduce between ranks running as threads of this JVM, each with its own sockets on loopback. */
class RingAllReduceTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** 16 floats per frame: even small buffers span many chunks, so the pipelining paths are exercised. */
    private static final int SMALL_CHUNK_BYTES = 64;

    static Stream<Arguments> worldsAndSizes() {
        List<Arguments> cases = new ArrayList<>();
        for (int world = 1; world <= 4; world++) {
            // empty, 1 element, fewer elements than ranks, sizes dividing / not dividing by every world size,
            // exactly one chunk, one more than a chunk, many chunks
            for (int size : new int[] {0, 1, 2, 3, 5, 12, 16, 17, 1000, 4099}) {
                cases.add(Arguments.of(world, size));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} ranks, {1} floats")
    @MethodSource("worldsAndSizes")
    void everyRankGetsTheMean(int world, int size) {
        List<float[]> inputs = inputs(world, size, 17L * size + world);
        List<float[]> results = ThreadRanks.run(world, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            float[] data = inputs.get(group.rank()).clone();
            group.allReduceMean(data);
            return data;
        });
        assertMean(inputs, results);
    }

    @ParameterizedTest(name = "{0} ranks, 12 MB in 1 MiB chunks")
    @MethodSource("largeWorlds")
    void largeBuffersStreamThroughTheRing(int world) {
        int size = 3_000_001; // not a multiple of any world size or of the chunk
        List<float[]> inputs = inputs(world, size, 99);
        List<float[]> results = ThreadRanks.run(world, ProcessGroup.DEFAULT_CHUNK_BYTES, TIMEOUT, group -> {
            float[] data = inputs.get(group.rank()).clone();
            group.allReduceMean(data);
            return data;
        });
        assertMean(inputs, results);
    }

    static Stream<Integer> largeWorlds() {
        return Stream.of(2, 3, 4);
    }

    @Test
    void directFloatBufferWindowIsReducedAndTheRestLeftAlone() {
        int world = 3;
        List<float[]> inputs = inputs(world, 1000, 5);
        List<float[]> results = ThreadRanks.run(world, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            FloatBuffer buffer = ByteBuffer.allocateDirect(1000 * Float.BYTES).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            buffer.put(inputs.get(group.rank()));
            buffer.position(100).limit(900);
            group.allReduceMean(buffer);
            assertEquals(100, buffer.position(), "position unchanged");
            assertEquals(900, buffer.limit(), "limit unchanged");
            float[] all = new float[1000];
            buffer.clear().get(all);
            return all;
        });
        List<float[]> windowInputs = new ArrayList<>();
        List<float[]> windowResults = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            float[] in = inputs.get(rank);
            float[] out = results.get(rank);
            for (int i = 0; i < 1000; i++) {
                if (i < 100 || i >= 900) {
                    assertEquals(in[i], out[i], "rank " + rank + " element " + i + " outside the window changed");
                }
            }
            windowInputs.add(java.util.Arrays.copyOfRange(in, 100, 900));
            windowResults.add(java.util.Arrays.copyOfRange(out, 100, 900));
        }
        assertMean(windowInputs, windowResults);
    }

    @Test
    void repeatedCallsReuseTheRing() {
        int world = 4;
        List<List<float[]>> results = ThreadRanks.run(world, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            List<float[]> mine = new ArrayList<>();
            for (int call = 0; call < 20; call++) {
                float[] data = input(group.rank(), 50 + call, call);
                group.allReduceMean(data);
                mine.add(data);
            }
            return mine;
        });
        for (int call = 0; call < 20; call++) {
            List<float[]> inputs = new ArrayList<>();
            List<float[]> outputs = new ArrayList<>();
            for (int rank = 0; rank < world; rank++) {
                inputs.add(input(rank, 50 + call, call));
                outputs.add(results.get(rank).get(call));
            }
            assertMean(inputs, outputs);
        }
    }

    @Test
    void ranksWithDifferentBufferSizesAllFailSayingSo() {
        List<ThreadRanks.Outcome<Object>> outcomes = ThreadRanks.runEach(3, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            group.allReduceMean(new float[group.rank() == 1 ? 10 : 12]);
            return null;
        });
        for (int rank = 0; rank < 3; rank++) {
            Throwable error = outcomes.get(rank).error();
            assertInstanceOf(DistributedException.class, error, "rank " + rank + " must fail");
            assertTrue(error.getMessage().contains("every rank must pass buffers of the same size"),
                    "rank " + rank + ": " + error.getMessage());
        }
    }

    @Test
    void ranksCallingDifferentCollectivesAllFailSayingSo() {
        List<ThreadRanks.Outcome<Object>> outcomes = ThreadRanks.runEach(3, SMALL_CHUNK_BYTES, TIMEOUT, group -> {
            if (group.rank() == 2) {
                group.broadcast(new float[8]);
            } else {
                group.allReduceMean(new float[8]);
            }
            return null;
        });
        for (int rank = 0; rank < 3; rank++) {
            Throwable error = outcomes.get(rank).error();
            assertInstanceOf(DistributedException.class, error, "rank " + rank + " must fail");
            assertTrue(error.getMessage().contains("must call the same collectives in the same order"),
                    "rank " + rank + ": " + error.getMessage());
        }
    }

    private static List<float[]> inputs(int world, int size, long seed) {
        List<float[]> inputs = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            inputs.add(input(rank, size, seed));
        }
        return inputs;
    }
}
