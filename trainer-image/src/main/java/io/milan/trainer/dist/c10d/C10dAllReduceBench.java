package io.milan.trainer.dist.c10d;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.bench.Iperf3;
import io.milan.trainer.dist.DistConfig;
import io.milan.trainer.dist.Launcher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * All-reduce bandwidth of c10d's ProcessGroupGloo (through libmilantorch) between separate processes on loopback,
 * beside iperf3 on the same machine in the same run. Prints figures, asserts nothing.
 *
 * <p>Figures as nccl-tests defines them: algbw = buffer bytes / time per all-reduce; busbw = algbw × 2(n−1)/n.
 * Each size is a float32 DJL NDArray all-reduced in place (SUM).
 *
 * <pre>
 * java -cp ... io.milan.trainer.dist.c10d.C10dAllReduceBench [--ranks 2,4] [--sizes-mib 1,4,16,64,100,400]
 *     [--iperf-seconds 5] [--log-dir DIR]
 * </pre>
 */
public final class C10dAllReduceBench {

    private static final long MIB = 1L << 20;
    /** Each size runs until about this many bytes were all-reduced (at least 3, at most 50 times). */
    private static final long BYTES_PER_SIZE = 1536 * MIB;
    private static final Pattern RESULT = Pattern.compile("RESULT ranks=(\\d+) bytes=(\\d+) iterations=(\\d+) "
            + "seconds=([0-9.Ee-]+)");

    private C10dAllReduceBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        if (options.containsKey("worker")) {
            worker(ints(options.get("sizes-mib")));
            System.exit(0); // DJL's engine threads would keep the JVM alive
            return;
        }
        List<Integer> ranks = ints(options.getOrDefault("ranks", "2,4"));
        String sizeList = options.getOrDefault("sizes-mib", "1,4,16,64,100,400");
        List<Integer> sizes = ints(sizeList);
        int iperfSeconds = Integer.parseInt(options.getOrDefault("iperf-seconds", "5"));
        Path logDir = Path.of(options.getOrDefault("log-dir",
                Files.createTempDirectory("c10d-allreduce-bench").toString()));
        Files.createDirectories(logDir);
        String reason = C10dProcessGroup.unavailableReason();
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "machine: %d cores; ranks are separate JVMs on 127.0.0.1; c10d "
                + "ProcessGroupGloo (libtorch %s); logs in %s%n", cores, C10dProcessGroup.libtorchPath(), logDir);
        System.out.println("load average (other work on this machine skews all figures): " + loadAverage());
        Double iperf = Iperf3.iperf(1, iperfSeconds, logDir);
        Double iperf2 = Iperf3.iperf(2, iperfSeconds, logDir);
        System.out.println(iperf == null ? "iperf3: not measured" : String.format(Locale.ROOT,
                "iperf3 -c 127.0.0.1 -t %d, 1 stream: %.2f GB/s; two pairs at once: %s GB/s per stream", iperfSeconds,
                iperf, iperf2 == null ? "n/a" : String.format(Locale.ROOT, "%.2f", iperf2)));
        List<String> rows = new ArrayList<>();
        for (int n : ranks) {
            rows.addAll(runRanks(n, sizes, sizeList, logDir.resolve(n + "-ranks"), iperf, iperf2));
        }
        System.out.println();
        System.out.println("c10d Gloo all-reduce (SUM, float32, in place on DJL NDArrays):");
        System.out.println("| ranks | size (MiB) | time/op (ms) | algbw (GB/s) | busbw (GB/s) | busbw / iperf3 "
                + "| busbw / iperf3 x2 |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
        System.out.println();
        System.out.println("GB = 1e9 bytes; algbw = size / time; busbw = algbw x 2(n-1)/n (nccl-tests); time is the"
                + " slowest rank's mean over the timed iterations, after one warm-up.");
        System.exit(0);
    }

    private static List<String> runRanks(int n, List<Integer> sizes, String sizeList, Path logDir, Double iperf,
            Double iperf2) {
        Launcher.Spec spec = Launcher.Spec.local(C10dAllReduceBench.class.getName(),
                List.of("--worker", "--sizes-mib", sizeList), n, Duration.ofSeconds(300), logDir,
                List.of("-Xmx512m"), Map.of());
        System.out.printf(Locale.ROOT, "running %d ranks ...%n", n);
        try (Launcher job = Launcher.start(spec)) {
            int[] codes = job.awaitExit(Duration.ofMinutes(20));
            for (int rank = 0; rank < n; rank++) {
                if (codes[rank] != 0) {
                    throw new IllegalStateException("rank " + rank + " exited with " + codes[rank] + ":\n"
                            + job.output(rank));
                }
            }
            List<String> rows = new ArrayList<>();
            Matcher m = RESULT.matcher(job.output(0));
            while (m.find()) {
                long bytes = Long.parseLong(m.group(2));
                double seconds = Double.parseDouble(m.group(4));
                double algbw = bytes / seconds / 1e9;
                double busbw = algbw * 2 * (n - 1) / n;
                rows.add(String.format(Locale.ROOT, "| %d | %d | %.1f | %.3f | %.3f | %s | %s |", n, bytes / MIB,
                        seconds * 1000, algbw, busbw, ratio(busbw, iperf), ratio(busbw, iperf2)));
            }
            return rows;
        }
    }

    /** One rank: for each size, one warm-up all-reduce, then timed ones; rank 0 prints the slowest rank's mean. */
    private static void worker(List<Integer> sizesMib) {
        DistConfig config = DistConfig.fromEnv(System.getenv());
        try (NDManager manager = NDManager.newBaseManager();
                C10dProcessGroup group = C10dProcessGroup.join(config)) {
            for (int sizeMib : sizesMib) {
                long bytes = sizeMib * MIB;
                int iterations = (int) Math.max(3, Math.min(50, BYTES_PER_SIZE / bytes));
                try (NDArray data = manager.full(new Shape(bytes / Float.BYTES), group.rank() + 1f)) {
                    group.allReduce(data, ReduceOp.SUM); // warm-up: connections, page faults
                    group.barrier();
                    long start = System.nanoTime();
                    for (int i = 0; i < iterations; i++) {
                        group.allReduce(data, ReduceOp.SUM);
                    }
                    double mine = (System.nanoTime() - start) / 1e9 / iterations;
                    try (NDArray time = manager.create(new double[] {mine});
                            NDArray all = group.allGather(time)) {
                        double slowest = all.max().toType(DataType.FLOAT64, false).getDouble();
                        if (group.rank() == 0) {
                            System.out.printf(Locale.ROOT, "RESULT ranks=%d bytes=%d iterations=%d seconds=%.6f%n",
                                    group.worldSize(), bytes, iterations, slowest);
                            System.out.flush();
                        }
                    }
                }
            }
        }
    }

    private static String ratio(double busbw, Double reference) {
        return reference == null ? "n/a" : String.format(Locale.ROOT, "%.2f", busbw / reference);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + args[i] + "'");
            }
            String name = args[i].substring(2);
            if (name.equals("worker")) {
                options.put(name, "true");
            } else if (i + 1 < args.length) {
                options.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + name + " needs a value");
            }
        }
        return options;
    }

    private static List<Integer> ints(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).map(Integer::parseInt).toList();
    }
}
