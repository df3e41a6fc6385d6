package io.milan.trainer.dist;

import io.milan.api.TrainerExitCodes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * torchrun for the trainer: starts one JVM per device of this pod (or machine), each with the env of its place in
 * the job, and supervises them. Child {@code l} gets LOCAL_RANK=l, RANK=NODE_RANK×N+l, LOCAL_WORLD_SIZE=N and the
 * pod's WORLD_SIZE (all processes of the job; default N), MASTER_ADDR (default 127.0.0.1) and MASTER_PORT (default:
 * a free local port, only when this is the whole job). When a child exits non-zero the others are stopped
 * (SIGTERM, then SIGKILL after a grace period) and the launcher reports that child's exit code and message; a
 * child that stopped on SIGTERM ({@link TrainerExitCodes#DISRUPTED}) stopped together with the others, which are
 * given the grace period to finish before that. The launcher's own SIGTERM is passed on to every child
 * ({@link #forwardSigterm()}), and its exit code is then theirs.
 *
 * <p>Each child writes its Kubernetes termination message to a file of its own; the launcher writes the first
 * failing child's, with its rank, into the real one, or after a success the first non-empty one (rank 0's summary
 * on the first node).
 *
 * <p>Like torchrun, several children share the node's CPUs and memory: unless the env or the JVM flags say
 * otherwise, each gets OMP_NUM_THREADS = cores / N and a heap of at most 25 % / N of the container's memory
 * (the JVM's default is 25 % each).
 */
public final class Launcher implements AutoCloseable {

    /** How long stopped children get to finish their own SIGTERM handling before they are killed. */
    static final Duration GRACE = Duration.ofSeconds(30);

    /**
     * What to start.
     *
     * @param mainClass  the class each child runs, from this JVM's class path
     * @param args       its arguments (the same for every child; the rank is in the env)
     * @param nproc      children on this node (--nproc_per_node)
     * @param env        the node's env: WORLD_SIZE, NODE_RANK, MASTER_ADDR, MASTER_PORT... (children also inherit
     *                   this JVM's own env)
     * @param jvmOptions the children's JVM flags (e.g. -Xmx1g)
     * @param logDir     where child l's stdout and stderr go ({@code local-<l>.log}); null: this process's own
     */
    public record Spec(String mainClass, List<String> args, int nproc, Map<String, String> env,
            List<String> jvmOptions, Path logDir) {

        /** A whole job of {@code nproc} processes on this machine, as the tests and benchmarks run it. */
        public static Spec local(String mainClass, List<String> args, int nproc, Duration distTimeout, Path logDir,
                List<String> jvmOptions, Map<String, String> extraEnv) {
            Map<String, String> env = new HashMap<>(extraEnv);
            env.put("MILAN_DIST_TIMEOUT", String.valueOf(distTimeout.toMillis() / 1000.0));
            return new Spec(mainClass, args, nproc, env, jvmOptions, logDir);
        }
    }

    private final Spec spec;
    private final List<Process> children;
    private final List<Path> messages;
    private final int masterPort;

    private Launcher(Spec spec, List<Process> children, List<Path> messages, int masterPort) {
        this.spec = spec;
        this.children = children;
        this.messages = messages;
        this.masterPort = masterPort;
    }

    /** Starts the children (the env is checked first: a bad value names the variable). */
    public static Launcher start(Spec spec) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(spec.env());
        int nproc = spec.nproc();
        if (nproc < 1) {
            throw new IllegalArgumentException("--nproc_per_node must be >= 1, got " + nproc);
        }
        int world = DistConfig.intVar(env, "WORLD_SIZE", nproc);
        int nodeRank = DistConfig.intVar(env, "NODE_RANK", 0);
        if (world % nproc != 0 || (nodeRank + 1) * nproc > world) {
            throw new IllegalArgumentException("WORLD_SIZE=" + world + " and NODE_RANK=" + nodeRank + " do not fit "
                    + nproc + " processes per node (WORLD_SIZE must be nodes × --nproc_per_node)");
        }
        int port = DistConfig.intVar(env, "MASTER_PORT", 0);
        if (port == 0) {
            if (world > nproc) {
                throw new IllegalArgumentException("MASTER_PORT must be set for a job of " + world / nproc
                        + " nodes");
            }
            port = freeLoopbackPort();
        }
        List<Process> children = new ArrayList<>();
        List<Path> messages = new ArrayList<>();
        try {
            Path messageDir = Files.createTempDirectory("milan-launch");
            if (spec.logDir() != null) {
                Files.createDirectories(spec.logDir());
            }
            for (int local = 0; local < nproc; local++) {
                Path message = Files.createFile(messageDir.resolve("rank-" + (nodeRank * nproc + local) + ".msg"));
                messages.add(message);
                children.add(startChild(spec, env, world, nodeRank * nproc + local, local, port, message));
            }
        } catch (IOException | RuntimeException e) {
            children.forEach(Process::destroyForcibly);
            throw new IllegalStateException("could not start the processes of " + spec.mainClass() + ": " + e, e);
        }
        return new Launcher(spec, children, messages, port);
    }

    public int masterPort() {
        return masterPort;
    }

    public Process process(int local) {
        return children.get(local);
    }

    public Path log(int local) {
        return spec.logDir().resolve("local-" + local + ".log");
    }

    /** Child {@code local}'s output so far (with a log directory). */
    public String output(int local) {
        try {
            return Files.exists(log(local)) ? Files.readString(log(local)) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits for every child to exit and returns the exit codes by local rank. A child still running after
     * {@code bound} is killed and reported as a hang. (Tests: unlike {@link #supervise()}, a failure does not stop
     * the others.)
     */
    public int[] awaitExit(Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        int[] codes = new int[children.size()];
        for (int local = 0; local < children.size(); local++) {
            Process child = children.get(local);
            if (!waitFor(child, Math.max(0, deadline - System.nanoTime()))) {
                close();
                throw new IllegalStateException("process " + local + " of " + spec.mainClass() + " did not exit"
                        + " within " + bound + " (it hangs)" + (spec.logDir() == null ? "" : "; its log:\n"
                        + output(local)));
            }
            codes[local] = child.exitValue();
        }
        return codes;
    }

    /** The outcome of a supervised job: 0, or the first failing child's exit code and message. */
    public record Outcome(int exitCode, String message) {
    }

    /**
     * Waits until every child has exited 0, or until one fails: then stops the others and returns that child's
     * exit code and message ("rank R (local rank L of N) exited with code C: its termination message"); after a
     * success, code 0 and the first non-empty termination message of the children. A child that exited with the
     * configuration code wins over the first failure (the others may have failed only because it left the group);
     * after a child that stopped on SIGTERM (code 75) the others, which stop after the same step, get the grace
     * period before they are stopped.
     */
    public Outcome supervise() {
        List<Process> running = new ArrayList<>(children);
        while (!running.isEmpty()) {
            try {
                java.util.concurrent.CompletableFuture.anyOf(
                        running.stream().map(Process::onExit).toArray(java.util.concurrent.CompletableFuture[]::new))
                        .get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopAll();
                return new Outcome(130, "interrupted while supervising the trainer processes");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
            for (Process child : List.copyOf(running)) {
                if (child.isAlive()) {
                    continue;
                }
                running.remove(child);
                if (child.exitValue() != 0) {
                    if (TrainerExitCodes.isDisruption(child.exitValue())) {
                        awaitAll(GRACE); // the others stop after the same step, or say why they could not
                    }
                    Outcome outcome = mostTelling(children.indexOf(child));
                    stopAll();
                    return outcome;
                }
            }
        }
        return new Outcome(0, firstMessage());
    }

    /**
     * The launcher's SIGTERM, passed on: SIGTERM to every child still running, which stops at its next step
     * boundary; {@link #supervise()} reports how they ended.
     */
    public void forwardSigterm() {
        children.stream().filter(Process::isAlive).forEach(Process::destroy);
    }

    /** SIGTERM to every child still running, SIGKILL to those still running after the grace period. */
    public void stopAll() {
        children.stream().filter(Process::isAlive).forEach(Process::destroy);
        long deadline = System.nanoTime() + GRACE.toNanos();
        for (Process child : children) {
            if (!waitFor(child, Math.max(0, deadline - System.nanoTime()))) {
                child.destroyForcibly();
            }
        }
    }

    /** Waits up to {@code bound} for every child to exit. */
    private void awaitAll(Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        for (Process child : children) {
            waitFor(child, Math.max(0, deadline - System.nanoTime()));
        }
    }

    /**
     * What the job's exit code says, from the children that have exited on their own, {@code first} the first
     * that failed: a configuration error, which no restart fixes, before anything else (the others may have failed
     * only because that rank left the group); a failure before a stop on SIGTERM, which it may have caused; of
     * children that all stopped, the lowest local rank (local rank 0 of the first node is rank 0, with the summary).
     */
    private Outcome mostTelling(int first) {
        int chosen = first;
        for (int local = 0; local < children.size(); local++) {
            int code = children.get(local).isAlive() ? 0 : children.get(local).exitValue();
            if (code == TrainerExitCodes.CONFIGURATION) {
                chosen = local;
                break;
            }
            boolean chosenStopped = TrainerExitCodes.isDisruption(children.get(chosen).exitValue());
            if (chosenStopped && code != 0 && (!TrainerExitCodes.isDisruption(code) || local < chosen)) {
                chosen = local;
            }
        }
        int code = children.get(chosen).exitValue();
        return new Outcome(code, describeFailure(chosen, code));
    }

    /** Kills every child still running. */
    @Override
    public void close() {
        children.forEach(Process::destroyForcibly);
    }

    /** The first child's non-empty termination message (rank 0's summary), or "". */
    private String firstMessage() {
        for (Path message : messages) {
            try {
                String text = Files.readString(message, StandardCharsets.UTF_8).strip();
                if (!text.isEmpty()) {
                    return text;
                }
            } catch (IOException e) {
                // none from this child
            }
        }
        return "";
    }

    private String describeFailure(int local, int code) {
        int nproc = children.size();
        String message = "";
        try {
            message = Files.readString(messages.get(local), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            // none: the code says what there is to say
        }
        String rank = messages.get(local).getFileName().toString().replaceAll("\\D", "");
        String how = code == TrainerExitCodes.DISRUPTED ? "stopped on SIGTERM (exit code " + code + ")"
                : code > 128 ? "was killed by signal " + (code - 128) + " (exit code " + code + ")"
                : "exited with code " + code;
        return "rank " + rank + " (local rank " + local + " of " + nproc + ") " + how
                + (message.isEmpty() ? "" : ": " + message);
    }

    private static Process startChild(Spec spec, Map<String, String> env, int world, int rank, int local, int port,
            Path message) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(spec.jvmOptions());
        boolean heapSet = spec.jvmOptions().stream().anyMatch(o -> o.startsWith("-Xmx")
                || o.startsWith("-XX:MaxRAMPercentage") || o.startsWith("-XX:MaxRAM="));
        if (spec.nproc() > 1 && !heapSet) {
            command.add("-XX:MaxRAMPercentage=" + Math.max(1.0, 25.0 / spec.nproc()));
        }
        command.add("-Dmilan.terminationLog=" + message);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(spec.mainClass());
        command.addAll(spec.args());
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> childEnv = builder.environment();
        childEnv.putAll(env);
        childEnv.putIfAbsent("MASTER_ADDR", "127.0.0.1");
        childEnv.put("MASTER_PORT", String.valueOf(port));
        childEnv.put("WORLD_SIZE", String.valueOf(world));
        childEnv.put("RANK", String.valueOf(rank));
        childEnv.put("LOCAL_RANK", String.valueOf(local));
        childEnv.put("LOCAL_WORLD_SIZE", String.valueOf(spec.nproc()));
        if (spec.nproc() > 1) {
            childEnv.putIfAbsent("OMP_NUM_THREADS",
                    String.valueOf(Math.max(1, Runtime.getRuntime().availableProcessors() / spec.nproc())));
        }
        if (spec.logDir() == null) {
            builder.inheritIO();
        } else {
            builder.redirectErrorStream(true);
            builder.redirectOutput(spec.logDir().resolve("local-" + local + ".log").toFile());
        }
        return builder.start();
    }

    /** This JVM's own flags, for children that should run like it (heap size, system properties). */
    public static List<String> ownJvmOptions() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(option -> !option.startsWith("-agentlib") && !option.startsWith("-javaagent"))
                .toList();
    }

    private static boolean waitFor(Process process, long nanos) {
        try {
            return process.waitFor(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
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
