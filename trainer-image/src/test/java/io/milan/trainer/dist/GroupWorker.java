package io.milan.trainer.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One rank of a {@link ProcessGroupTest} job, started by {@link Launcher}.
 * <ul>
 *   <li>{@code check}: the trainer's collectives with exact expected values; prints {@code CHECKED <what>}, or
 *       {@code MISMATCH ...} and exits 2.</li>
 *   <li>{@code loop}: sums forever, printing {@code iteration <k>} after each.</li>
 *   <li>{@code stall <rank>}: like loop, but that rank stops taking part after 3 iterations (alive, busy with
 *       its own work as a rank stuck in data loading would be).</li>
 *   <li>{@code secret <rank>}: every rank proves a rendezvous secret, that rank a wrong one (-1: none wrong);
 *       prints {@code AUTHED} and sums once.</li>
 * </ul>
 * A {@link DistributedException} prints {@code FAILURE <message>} and exits 3.
 */
public final class GroupWorker {

    static final int FAILURE_EXIT = 3;

    private GroupWorker() {
    }

    public static void main(String[] args) throws Exception {
        DistConfig config = DistConfig.fromEnv(System.getenv());
        RendezvousAuth auth = args[0].equals("secret")
                ? RendezvousAuth.of(("attempt secret" + (config.rank() == Integer.parseInt(args[1]) ? " (stale)" : "")
                        + " 0123456789").getBytes(StandardCharsets.UTF_8))
                : RendezvousAuth.none();
        try (ProcessGroup group = ProcessGroup.join(config, ai.djl.Device.cpu(), auth);
                NDManager manager = NDManager.newBaseManager()) {
            switch (args[0]) {
                case "secret" -> {
                    System.out.println("AUTHED");
                    expect("sum after the check", "[" + (double) group.worldSize() + "]",
                            Arrays.toString(group.allReduceSum(new double[] {1})));
                }
                case "check" -> check(group, manager);
                case "loop" -> loop(group, -1);
                case "stall" -> loop(group, Integer.parseInt(args[1]));
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        } catch (DistributedException e) {
            System.out.println("FAILURE " + e.getMessage());
            System.out.flush();
            Runtime.getRuntime().halt(FAILURE_EXIT); // not exit(): closing a broken group may wait on c10d
        }
        System.out.flush();
        System.exit(0); // DJL's engine threads would keep the JVM alive
    }

    private static void check(ProcessGroup group, NDManager manager) {
        int rank = group.rank();
        int world = group.worldSize();
        double[] sums = group.allReduceSum(new double[] {rank + 0.25, 1e-3});
        expect("double sums", Arrays.toString(new double[] {world * (world - 1) / 2.0 + world * 0.25, world * 1e-3}),
                Arrays.toString(sums));
        long[] counts = group.allReduceSum(new long[] {rank, 1L << 40});
        expect("long sums", Arrays.toString(new long[] {world * (world - 1L) / 2, world * (1L << 40)}),
                Arrays.toString(counts));
        System.out.println("CHECKED sums");

        // Rank r contributes r bytes (rank 0 none): lengths differ, every rank gets all of them.
        byte[] mine = new byte[rank];
        Arrays.fill(mine, (byte) (rank + 1));
        byte[][] all = group.allGather(mine);
        for (int r = 0; r < world; r++) {
            byte[] expected = new byte[r];
            Arrays.fill(expected, (byte) (r + 1));
            expect("all-gather of rank " + r, Arrays.toString(expected), Arrays.toString(all[r]));
        }
        byte[] text = group.broadcastBytes(group.isPrimary() ? "from rank 0".getBytes(StandardCharsets.UTF_8) : null);
        expect("broadcast bytes", "from rank 0", new String(text, StandardCharsets.UTF_8));
        System.out.println("CHECKED bytes");

        // Weights and optimizer state: every rank ends with rank 0's values, in place, any dtype.
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        arrays.put("w", manager.arange(0f, 5000f, 1f).add(rank * 10_000f));
        arrays.put("step", manager.create(new long[] {rank, 7L * rank}));
        NDArray w = arrays.get("w");
        group.broadcastFromPrimary(arrays);
        expect("broadcast weights", Arrays.toString(manager.arange(0f, 5000f, 1f).toFloatArray()),
                Arrays.toString(w.toFloatArray()));
        expect("broadcast int64", "[0, 0]", Arrays.toString(arrays.get("step").toLongArray()));
        System.out.println("CHECKED broadcast");

        // A rank whose arrays differ in shape: every rank refuses, naming the array and the rank.
        Map<String, NDArray> odd = Map.of("w", manager.zeros(new ai.djl.ndarray.types.Shape(rank == world - 1 ? 4 : 3)));
        try {
            group.broadcastFromPrimary(odd);
            expect("a layout mismatch refused", "refused", "broadcast");
        } catch (DistributedException e) {
            System.out.println("REFUSED " + e.getMessage());
        }
        group.barrier();
        System.out.println("CHECKED barrier");
    }

    private static void loop(ProcessGroup group, int stallingRank) throws InterruptedException {
        for (int iteration = 0; ; iteration++) {
            if (group.rank() == stallingRank && iteration == 3) {
                System.out.println("STALLING");
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE); // alive and heartbeating, but never reaching the next collective
            }
            group.allReduceSum(new double[] {1});
            System.out.println("iteration " + iteration);
            System.out.flush();
            Thread.sleep(20); // a step's own work
        }
    }

    private static void expect(String what, String expected, String actual) {
        if (!expected.equals(actual)) {
            System.out.println("MISMATCH " + what + ": expected " + expected + ", got " + actual);
            System.out.flush();
            System.exit(2);
        }
    }
}
