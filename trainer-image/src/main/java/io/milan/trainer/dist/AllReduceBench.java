package io.milan.trainer.dist;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * All-reduce bandwidth of {@link ProcessGroup} between separate processes on loopback, beside the raw TCP
 * throughput of the same machine measured by iperf3 in the same run.
 *
 * <p>Figures as nccl-tests defines them: algbw = buffer bytes / time per all-reduce; busbw = algbw × 2(n−1)/n,
 * the bytes each rank actually sends per second, comparable with a link's bandwidth whatever n is.
 *
 * <pre>
 * java -cp ... io.milan.trainer.dist.AllReduceBench [--ranks 2,4] [--sizes-mib 1,4,16,64,100,400]
 *     [--iperf-seconds 5] [--log-dir DIR]
 * </pre>
 * Each rank is a JVM started by {@link LocalJob}; a system property {@code -Dmilan.dist.*} given to this command
 * is passed on to the ranks (e.g. {@code -Dmilan.dist.chunkBytes=4194304}).
 */
public final class AllReduceBench {

    private static final long MIB = 1L << 20;
    /** Each size runs until about this many bytes were all-reduced (at least 3, at most 50 times). */
    private static final long BYTES_PER_SIZE = 1536 * MIB;
    private static final Pattern RESULT = Pattern.compile("RESULT ranks=(\\d+) bytes=(\\d+) iterations=(\\d+) "
            + "seconds=([0-9.Ee-]+)");

    private AllReduceBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        if (options.containsKey("worker")) {
            worker(ints(options.get("sizes-mib")));
            return;
        }
        List<Integer> ranks = ints(options.getOrDefault("ranks", "2,4"));
        List<Integer> sizes = ints(options.getOrDefault("sizes-mib", "1,4,16,64,100,400"));
        int iperfSeconds = Integer.parseInt(options.getOrDefault("iperf-seconds", "5"));
        Path logDir = Path.of(options.getOrDefault("log-dir",
                Files.createTempDirectory("allreduce-bench").toString()));

        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "machine: %d cores; ranks are separate JVMs on 127.0.0.1; chunk %d KiB; "
                + "socket buffers %s; logs in %s%n", cores, ProcessGroup.DEFAULT_CHUNK_BYTES / 1024,
                Connection.SOCKET_BUFFER_BYTES > 0 ? Connection.SOCKET_BUFFER_BYTES + " B" : "Linux autotuning",
                logDir);
        System.out.println("load average (other work on this machine skews all figures): " + loadAverage());
        Files.createDirectories(logDir);
        Double iperfGbytes = iperf(1, iperfSeconds, logDir);
        Double duplexGbytes = iperf(2, iperfSeconds, logDir);
        System.out.println(iperfGbytes == null ? "iperf3: not measured (see above)"
                : String.format(Locale.ROOT, "iperf3 -c 127.0.0.1 -t %d, 1 stream: %.2f GB/s (%.1f Gbit/s)",
                        iperfSeconds, iperfGbytes, iperfGbytes * 8));
        System.out.println(duplexGbytes == null ? "iperf3 x2: not measured"
                : String.format(Locale.ROOT, "iperf3 x2 (two pairs at once, opposite directions, as every rank of a"
                        + " ring sends and receives): %.2f GB/s per stream", duplexGbytes));

        List<String> rows = new ArrayList<>();
        for (int n : ranks) {
            if (n > cores) {
                System.out.printf(Locale.ROOT, "note: %d ranks on %d cores share cores (each rank runs a sending "
                        + "and a receiving thread), so these figures understate a real network%n", n, cores);
            }
            rows.addAll(runRanks(n, sizes, logDir.resolve(n + "-ranks"), iperfGbytes, duplexGbytes));
        }
        System.out.println();
        System.out.println("| ranks | size (MiB) | time/op (ms) | algbw (GB/s) | busbw (GB/s) | iperf3 (GB/s) "
                + "| busbw / iperf3 | iperf3 x2 (GB/s) | busbw / iperf3 x2 |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
        System.out.println();
        System.out.println("GB = 1e9 bytes; algbw = size / time; busbw = algbw x 2(n-1)/n (nccl-tests); time is the"
                + " slowest rank's mean over the timed iterations, after one warm-up.");
    }

    private static List<String> runRanks(int n, List<Integer> sizes, Path logDir, Double iperfGbytes,
            Double duplexGbytes) {
        long largest = sizes.stream().mapToLong(Integer::longValue).max().orElse(1) * MIB;
        List<String> jvmOptions = new ArrayList<>();
        jvmOptions.add("-Xmx" + (largest / MIB + 256) + "m");
        System.getProperties().stringPropertyNames().stream().filter(name -> name.startsWith("milan.dist."))
                .forEach(name -> jvmOptions.add("-D" + name + "=" + System.getProperty(name)));
        String sizeList = String.join(",", sizes.stream().map(String::valueOf).toList());
        LocalJob.Spec spec = new LocalJob.Spec(AllReduceBench.class.getName(),
                List.of("--worker", "--sizes-mib", sizeList), n, 0, Duration.ofSeconds(120), logDir, jvmOptions,
                Map.of());
        System.out.printf(Locale.ROOT, "running %d ranks ...%n", n);
        try (LocalJob job = LocalJob.start(spec)) {
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
                rows.add(String.format(Locale.ROOT, "| %d | %d | %.1f | %.3f | %.3f | %s | %s | %s | %s |", n,
                        bytes / MIB, seconds * 1000, algbw, busbw, format(iperfGbytes), ratio(busbw, iperfGbytes),
                        format(duplexGbytes), ratio(busbw, duplexGbytes)));
            }
            return rows;
        }
    }

    /** One rank: for each size, one warm-up all-reduce, then timed ones; rank 0 prints the slowest rank's mean. */
    private static void worker(List<Integer> sizesMib) {
        DistConfig config = DistConfig.fromEnv(System.getenv());
        long largest = sizesMib.stream().mapToLong(Integer::longValue).max().orElse(1) * MIB;
        float[] data = new float[Math.toIntExact(largest / Float.BYTES)];
        Arrays.fill(data, config.rank() + 1f);
        try (ProcessGroup group = ProcessGroup.join(config)) {
            for (int sizeMib : sizesMib) {
                long bytes = sizeMib * MIB;
                int floats = Math.toIntExact(bytes / Float.BYTES);
                int iterations = (int) Math.max(3, Math.min(50, BYTES_PER_SIZE / bytes));
                FloatBuffer buffer = FloatBuffer.wrap(data, 0, floats);
                group.allReduceMean(buffer); // warm-up: JIT, TCP windows
                group.barrier();
                long start = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    group.allReduceMean(buffer);
                }
                double mine = (System.nanoTime() - start) / 1e9 / iterations;
                double slowest = slowest(group, mine);
                if (group.isPrimary()) {
                    System.out.printf(Locale.ROOT, "RESULT ranks=%d bytes=%d iterations=%d seconds=%.6f%n",
                            group.worldSize(), bytes, iterations, slowest);
                    System.out.flush();
                }
            }
        }
    }

    private static double slowest(ProcessGroup group, double mine) {
        ByteBuffer bytes = ByteBuffer.allocate(Double.BYTES).order(ByteOrder.LITTLE_ENDIAN).putDouble(0, mine);
        double max = 0;
        for (byte[] theirs : group.allGather(bytes.array())) {
            max = Math.max(max, ByteBuffer.wrap(theirs).order(ByteOrder.LITTLE_ENDIAN).getDouble(0));
        }
        return max;
    }

    /**
     * Raw loopback TCP throughput in GB/s from iperf3: {@code pairs} server/client pairs run at once (each a
     * bounded {@code -t seconds} run, odd pairs in reverse), and the mean per pair is returned; null if iperf3
     * is missing or fails. One pair is the classic single-stream figure; two pairs in opposite directions load
     * the machine like a ring does (every rank sends and receives at once). iperf3 3.12's own --bidir runs both
     * directions on one thread, so it would measure iperf3 rather than the machine. Also used by
     * {@code c10d.C10dAllReduceBench}.
     */
    public static Double iperf(int pairs, int seconds, Path logDir) throws IOException, InterruptedException {
        List<Process> servers = new ArrayList<>();
        List<Process> clients = new ArrayList<>();
        List<Path> reports = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < pairs; i++) {
                int port = LocalJob.freeLoopbackPort();
                ports.add(port);
                Path log = logDir.resolve("iperf3-" + pairs + "x-server" + i + ".log");
                try {
                    servers.add(new ProcessBuilder("iperf3", "-s", "-B", "127.0.0.1", "-p", String.valueOf(port), "-1",
                            "--forceflush").redirectErrorStream(true).redirectOutput(log.toFile()).start());
                } catch (IOException e) {
                    System.out.println("iperf3 is not installed (apt-get install iperf3): " + e.getMessage());
                    return null;
                }
                if (!awaitListening(log, Duration.ofSeconds(10))) {
                    System.out.println("iperf3 server did not start listening on 127.0.0.1:" + port);
                    return null;
                }
            }
            for (int i = 0; i < pairs; i++) {
                Path json = logDir.resolve("iperf3-" + pairs + "x-client" + i + ".json");
                reports.add(json);
                List<String> command = new ArrayList<>(List.of("iperf3", "-c", "127.0.0.1", "-p",
                        String.valueOf(ports.get(i)), "-t", String.valueOf(seconds), "-J"));
                if (i % 2 == 1) {
                    command.add("-R");
                }
                clients.add(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(json.toFile())
                        .start());
            }
            double sum = 0;
            for (int i = 0; i < pairs; i++) {
                Process client = clients.get(i);
                if (!client.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
                    System.out.println("iperf3 client did not finish within " + (seconds + 30) + " s");
                    return null;
                }
                String report = Files.readString(reports.get(i), StandardCharsets.UTF_8);
                Matcher received = Pattern.compile("\"sum_received\"\\s*:\\s*\\{[^}]*\"bits_per_second\"\\s*:"
                        + "\\s*([0-9.eE+]+)").matcher(report);
                if (client.exitValue() != 0 || !received.find()) {
                    System.out.println("iperf3 client failed (exit " + client.exitValue() + "); see " + reports.get(i));
                    return null;
                }
                sum += Double.parseDouble(received.group(1));
            }
            return sum / pairs / 8 / 1e9;
        } finally {
            clients.forEach(Process::destroyForcibly);
            servers.forEach(Process::destroyForcibly);
        }
    }

    private static String format(Double gbytes) {
        return gbytes == null ? "n/a" : String.format(Locale.ROOT, "%.2f", gbytes);
    }

    private static String ratio(double busbw, Double reference) {
        return reference == null ? "n/a" : String.format(Locale.ROOT, "%.2f", busbw / reference);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Polls the server's log (a probe connection would use up its one-off session). */
    private static boolean awaitListening(Path serverLog, Duration bound) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(serverLog) && Files.readString(serverLog).contains("Server listening")) {
                return true;
            }
            Thread.sleep(50); // poll interval while iperf3 starts
        }
        return false;
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
