package io.milan.trainer.dist.c10d;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.dist.DistConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * One rank of a {@link C10dProcessGroupTest} job, started by {@link io.milan.trainer.dist.Launcher} with the
 * rendezvous env (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, MILAN_DIST_TIMEOUT).
 *
 * <ul>
 *   <li>{@code check}: all-reduces, broadcasts and all-gathers DJL NDArrays and compares every element with the
 *       exact expected value; prints {@code CHECKED <what>} per check, {@code MISMATCH ...} and exits 2 on a
 *       wrong element.</li>
 *   <li>{@code loop}: all-reduces forever, printing {@code iteration <k>} after each.</li>
 *   <li>{@code hang <rank>}: like loop, but that rank stops taking part after 3 iterations (stays alive).</li>
 * </ul>
 * A {@link C10dException} prints {@code C10D-FAILURE <message>} and exits with 3.
 */
public final class C10dWorker {

    static final int MISMATCH_EXIT = 2;
    static final int FAILURE_EXIT = 3;

    private C10dWorker() {
    }

    public static void main(String[] args) throws Exception {
        DistConfig config = DistConfig.fromEnv(System.getenv());
        try (NDManager manager = NDManager.newBaseManager();
                C10dProcessGroup group = C10dProcessGroup.join(config)) {
            try {
                switch (args[0]) {
                    case "check" -> check(group, manager);
                    case "loop" -> loop(group, manager, -1);
                    case "hang" -> loop(group, manager, Integer.parseInt(args[1]));
                    default -> throw new IllegalArgumentException("unknown mode " + args[0]);
                }
            } catch (C10dException e) {
                failed(e); // before closing the group, which waits for c10d's queued work
            }
        } catch (C10dException e) {
            failed(e);
        }
        System.out.flush();
        System.exit(0); // DJL's engine threads would keep the JVM alive
    }

    private static void failed(C10dException e) {
        System.out.println("C10D-FAILURE " + e.getMessage());
        System.out.flush();
        System.exit(FAILURE_EXIT);
    }

    private static void check(C10dProcessGroup group, NDManager manager) throws IOException {
        int rank = group.rank();
        int world = group.worldSize();
        System.out.println("LIBTORCH " + C10dProcessGroup.libtorchPath());
        System.out.println("LIBTORCH-MAPPINGS " + libtorchMappings());

        // Three all-reduces in flight at once (odd sizes, 1 float to 4 MB), awaited afterwards. Integer-valued
        // floats below 2^24: every sum is exact, so the comparison is exact.
        int[] sizes = {1, 1000, 1_000_003};
        List<NDArray> arrays = new ArrayList<>();
        List<C10dWork> works = new ArrayList<>();
        for (int size : sizes) {
            NDArray a = manager.arange(0f, size, 1f).mod(1000).add(1000f * rank);
            arrays.add(a);
            works.add(group.allReduceAsync(a, ReduceOp.SUM));
        }
        for (C10dWork work : works) {
            work.await();
            work.close();
        }
        for (int i = 0; i < sizes.length; i++) {
            float[] got = arrays.get(i).toFloatArray();
            for (int j = 0; j < got.length; j++) {
                float expected = world * (j % 1000) + 1000f * world * (world - 1) / 2;
                expectEqual("allreduce sum, " + sizes[i] + " floats, element " + j, expected, got[j]);
            }
            System.out.println("CHECKED allreduce SUM " + sizes[i] + " floats");
        }

        // AVG (sum / world; exact for world 2 and 4), on a 2-D int-valued float array; MAX on int32.
        NDArray avg = manager.full(new Shape(3, 5), 4f * (rank + 1));
        group.allReduce(avg, ReduceOp.AVG);
        float expectedAvg = 4f * (world + 1) / 2;
        for (float v : avg.toFloatArray()) {
            expectEqual("allreduce avg", expectedAvg, v);
        }
        System.out.println("CHECKED allreduce AVG");
        NDArray max = manager.create(new int[] {rank, -rank, 7});
        group.allReduce(max, ReduceOp.MAX);
        expectEqual("allreduce max", Arrays.toString(new int[] {world - 1, 0, 7}), Arrays.toString(max.toIntArray()));
        System.out.println("CHECKED allreduce MAX int32");

        // A parameter's gradient, averaged in place through the handle getGradient() returns (same storage).
        // The factor is a tensor, not mul(Number): DJL frees that number's buffer while autograd still holds it.
        NDArray w = manager.create(new float[] {1, 2, 3});
        w.setRequiresGradient(true);
        try (GradientCollector collector = manager.getEngine().newGradientCollector()) {
            collector.backward(w.mul(manager.full(new Shape(), rank + 1f)).sum());
        }
        group.allReduce(w.getGradient(), ReduceOp.AVG);
        for (float v : w.getGradient().toFloatArray()) {
            expectEqual("averaged gradient", (world + 1) / 2f, v);
        }
        System.out.println("CHECKED gradient AVG");

        // Broadcast from the last rank into every rank's array, in place.
        int root = world - 1;
        NDArray b = rank == root ? manager.arange(0f, 10_000f, 1f).mul(3) : manager.zeros(new Shape(10_000));
        group.broadcast(b, root);
        float[] bv = b.toFloatArray();
        for (int j = 0; j < bv.length; j++) {
            expectEqual("broadcast element " + j, 3f * j, bv[j]);
        }
        System.out.println("CHECKED broadcast from rank " + root);

        // All-gather: rank r contributes [r*10, r*10+1, ...]; row r of the result is rank r's.
        NDArray mine = manager.arange(0f, 6f, 1f).add(10f * rank).reshape(2, 3);
        NDArray gathered = group.allGather(mine);
        expectEqual("allgather shape", new Shape(world, 2, 3).toString(), gathered.getShape().toString());
        float[] gv = gathered.toFloatArray();
        for (int r = 0; r < world; r++) {
            for (int j = 0; j < 6; j++) {
                expectEqual("allgather rank " + r + " element " + j, 10f * r + j, gv[r * 6 + j]);
            }
        }
        NDArray ints = manager.create(new long[] {rank, 100L + rank});
        NDArray gatheredInts = manager.zeros(new Shape(world, 2), DataType.INT64);
        try (C10dWork work = group.allGatherAsync(gatheredInts, ints)) {
            work.await();
        }
        long[] iv = gatheredInts.toLongArray();
        for (int r = 0; r < world; r++) {
            expectEqual("allgather int64 rank " + r, r + "," + (100 + r), iv[2 * r] + "," + iv[2 * r + 1]);
        }
        System.out.println("CHECKED allgather");

        group.barrier();
        System.out.println("CHECKED barrier");
    }

    private static void loop(C10dProcessGroup group, NDManager manager, int hangingRank) throws InterruptedException {
        NDArray a = manager.ones(new Shape(100_000));
        for (int iteration = 0; ; iteration++) {
            if (group.rank() == hangingRank && iteration == 3) {
                System.out.println("HANGING");
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE); // alive, sockets open, but no longer taking part
            }
            a.muli(0).addi(1);
            group.allReduce(a, ReduceOp.SUM);
            System.out.println("iteration " + iteration);
            System.out.flush();
        }
    }

    private static void expectEqual(String what, Object expected, Object actual) {
        if (!expected.equals(actual)) {
            System.out.println("MISMATCH " + what + ": expected " + expected + ", got " + actual);
            System.out.flush();
            System.exit(MISMATCH_EXIT);
        }
    }

    /** The distinct libtorch_cpu.so files mapped into this process (one: DJL's). */
    private static String libtorchMappings() throws IOException {
        TreeSet<String> files = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            if (line.endsWith("libtorch_cpu.so")) {
                files.add(line.substring(line.indexOf('/')));
            }
        }
        return String.join(",", files);
    }
}
