package io.milan.trainer.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A data-parallel job on this machine: one JVM per rank, talking over loopback, with the same env the operator
 * gives pods (MASTER_ADDR=127.0.0.1, a free MASTER_PORT, WORLD_SIZE, NODE_RANK, ...). Each rank's stdout and
 * stderr go to {@code <logDir>/rank-<r>.log}. Used by the benchmark and the multi-process tests.
 */
public final class LocalJob implements AutoCloseable {

    /**
     * What to start.
     *
     * @param mainClass  the class each rank runs, from this JVM's class path
     * @param args       its arguments (the same for every rank; the rank is in the env)
     * @param jvmOptions e.g. -Xmx1g
     * @param extraEnv   more environment variables for every rank
     */
    public record Spec(String mainClass, List<String> args, int worldSize, int attempt, Duration distTimeout,
            Path logDir, List<String> jvmOptions, Map<String, String> extraEnv) {
    }

    private final Spec spec;
    private final List<Process> processes;
    private final int masterPort;

    private LocalJob(Spec spec, List<Process> processes, int masterPort) {
        this.spec = spec;
        this.processes = processes;
        this.masterPort = masterPort;
    }

    public static LocalJob start(Spec spec) {
        int port = freeLoopbackPort();
        List<Process> processes = new ArrayList<>();
        try {
            Files.createDirectories(spec.logDir());
            for (int rank = 0; rank < spec.worldSize(); rank++) {
                processes.add(startRank(spec, rank, port));
            }
        } catch (IOException | RuntimeException e) {
            processes.forEach(Process::destroyForcibly);
            throw new IllegalStateException("could not start the ranks of " + spec.mainClass() + ": " + e, e);
        }
        return new LocalJob(spec, processes, port);
    }

    public int masterPort() {
        return masterPort;
    }

    public Process process(int rank) {
        return processes.get(rank);
    }

    public Path log(int rank) {
        return spec.logDir().resolve("rank-" + rank + ".log");
    }

    /** The rank's output so far. */
    public String output(int rank) {
        try {
            return Files.exists(log(rank)) ? Files.readString(log(rank)) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits for every rank to exit and returns the exit codes by rank. A rank still running after {@code bound}
     * is killed and reported as a hang.
     */
    public int[] awaitExit(Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        int[] codes = new int[processes.size()];
        for (int rank = 0; rank < processes.size(); rank++) {
            Process process = processes.get(rank);
            try {
                long remaining = Math.max(0, deadline - System.nanoTime());
                if (!process.waitFor(remaining, TimeUnit.NANOSECONDS)) {
                    close();
                    throw new IllegalStateException("rank " + rank + " of " + spec.mainClass() + " did not exit within "
                            + bound + " (it hangs); its log:\n" + output(rank));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while waiting for the ranks", e);
            }
            codes[rank] = process.exitValue();
        }
        return codes;
    }

    /** Kills every rank still running. */
    @Override
    public void close() {
        processes.forEach(Process::destroyForcibly);
    }

    private static Process startRank(Spec spec, int rank, int port) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(spec.jvmOptions());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(spec.mainClass());
        command.addAll(spec.args());
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        env.putAll(spec.extraEnv());
        env.put("MASTER_ADDR", "127.0.0.1");
        env.put("MASTER_PORT", String.valueOf(port));
        env.put("WORLD_SIZE", String.valueOf(spec.worldSize()));
        env.put("NODE_RANK", String.valueOf(rank));
        env.put("NPROC_PER_NODE", env.getOrDefault("NPROC_PER_NODE", "1"));
        env.put("MILAN_ATTEMPT", String.valueOf(spec.attempt()));
        env.put("MILAN_DIST_TIMEOUT", String.valueOf(spec.distTimeout().toMillis() / 1000.0));
        builder.redirectErrorStream(true);
        builder.redirectOutput(spec.logDir().resolve("rank-" + rank + ".log").toFile());
        return builder.start();
    }

    /** A port that was free a moment ago on 127.0.0.1. */
    public static int freeLoopbackPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
