package io.milan.trainer.dist;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One rank of a multi-process test, started by {@link LocalJob} with the rendezvous env.
 *
 * <ul>
 *   <li>{@code check <outDir> <seed> <size>...}: all-reduces {@link AllReduceExpectations#input} of each size and
 *       writes the results to {@code <outDir>/rank-<r>-size-<n>.f32}; then broadcasts rank 0's bytes and sums
 *       ranks, printing {@code BROADCAST <text>} and {@code SUM <n>}.</li>
 *   <li>{@code loop <floats>}: all-reduces forever, printing {@code iteration <k>} after each.</li>
 * </ul>
 * A {@link DistributedException} prints {@code DIST-FAILURE peer=<rank> <message>} and exits with 3.
 */
public final class CollectivesWorker {

    static final int DIST_FAILURE_EXIT = 3;

    private CollectivesWorker() {
    }

    public static void main(String[] args) throws IOException {
        DistConfig config = DistConfig.fromEnv(System.getenv());
        try (ProcessGroup group = ProcessGroup.join(config)) {
            switch (args[0]) {
                case "check" -> check(group, Path.of(args[1]), Long.parseLong(args[2]), args);
                case "loop" -> loop(group, Integer.parseInt(args[1]));
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        } catch (DistributedException e) {
            System.out.println("DIST-FAILURE peer=" + e.peerRank() + " " + e.getMessage());
            System.out.flush();
            System.exit(DIST_FAILURE_EXIT);
        }
    }

    private static void check(ProcessGroup group, Path outDir, long seed, String[] args) throws IOException {
        for (int i = 3; i < args.length; i++) {
            int size = Integer.parseInt(args[i]);
            float[] data = AllReduceExpectations.input(group.rank(), size, seed);
            group.allReduceMean(data);
            ByteBuffer bytes = ByteBuffer.allocate(size * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(data);
            Files.write(outDir.resolve("rank-" + group.rank() + "-size-" + size + ".f32"), bytes.array());
        }
        byte[] text = group.broadcastBytes(group.isPrimary() ? "hello from rank 0".getBytes() : null);
        System.out.println("BROADCAST " + new String(text));
        group.barrier();
        long[] sum = group.allReduceSum(new long[] {group.rank() + 1});
        System.out.println("SUM " + sum[0]);
    }

    private static void loop(ProcessGroup group, int floats) {
        float[] data = AllReduceExpectations.input(group.rank(), floats, 1);
        for (long iteration = 0; ; iteration++) {
            group.allReduceMean(data);
            System.out.println("iteration " + iteration);
            System.out.flush();
        }
    }
}
