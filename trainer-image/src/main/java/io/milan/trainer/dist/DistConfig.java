package io.milan.trainer.dist;

import java.time.Duration;
import java.util.Map;

/**
 * Where this process sits in the data-parallel job, read from the env torchrun's convention gives each trainer
 * process: {@code milan-trainer launch} (one process per GPU) sets RANK and LOCAL_RANK for every child; the
 * operator gives every pod MASTER_ADDR, MASTER_PORT, WORLD_SIZE (all processes of the run) and NODE_RANK.
 *
 * @param masterAddr     rank 0's host name or address ({@code MASTER_ADDR}); the others dial its TCPStore
 * @param masterPort     rank 0's store port ({@code MASTER_PORT})
 * @param worldSize      number of processes in the job, pods × processes per pod ({@code WORLD_SIZE})
 * @param rank           this process's rank, 0..worldSize-1 ({@code RANK}; without it {@code NODE_RANK}, a pod
 *                       that runs one process)
 * @param localRank      this process's index in its pod, the GPU it drives ({@code LOCAL_RANK}, 0)
 * @param localWorldSize processes in this pod ({@code LOCAL_WORLD_SIZE}, 1)
 * @param attempt        gang attempt ({@code MILAN_ATTEMPT})
 * @param timeout        longest a collective or the rendezvous may wait for a peer ({@code --dist_timeout},
 *                       {@code MILAN_DIST_TIMEOUT}, else 300 s)
 */
public record DistConfig(String masterAddr, int masterPort, int worldSize, int rank, int localRank,
        int localWorldSize, int attempt, Duration timeout) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);

    public DistConfig {
        require(worldSize >= 1, "WORLD_SIZE must be >= 1, got " + worldSize);
        require(rank >= 0 && rank < worldSize, "RANK must be in [0, WORLD_SIZE=" + worldSize + "), got " + rank);
        require(localWorldSize >= 1 && localWorldSize <= worldSize,
                "LOCAL_WORLD_SIZE must be in [1, WORLD_SIZE=" + worldSize + "], got " + localWorldSize);
        require(localRank >= 0 && localRank < localWorldSize,
                "LOCAL_RANK must be in [0, LOCAL_WORLD_SIZE=" + localWorldSize + "), got " + localRank);
        require(attempt >= 0, "MILAN_ATTEMPT must be >= 0, got " + attempt);
        require(timeout != null && !timeout.isNegative() && !timeout.isZero(),
                "the distributed timeout must be > 0, got " + timeout);
        if (worldSize > 1) {
            require(masterAddr != null && !masterAddr.isBlank(), "MASTER_ADDR must be set when WORLD_SIZE > 1");
            require(masterPort >= 1 && masterPort <= 65535, "MASTER_PORT must be in [1, 65535], got " + masterPort);
        }
    }

    /** A one-process job: no network, every collective is local. */
    public static DistConfig single() {
        return new DistConfig("127.0.0.1", 0, 1, 0, 0, 1, 0, DEFAULT_TIMEOUT);
    }

    /**
     * Reads the rendezvous env. Without {@code WORLD_SIZE} the job is a single process (a local run). The timeout
     * comes from {@code MILAN_DIST_TIMEOUT} (seconds, may be fractional), else 300 s; an explicit
     * {@code --dist_timeout} flag is then applied with {@link #withTimeout(Duration)}.
     */
    public static DistConfig fromEnv(Map<String, String> env) {
        int worldSize = intVar(env, "WORLD_SIZE", 1);
        return new DistConfig(
                env.getOrDefault("MASTER_ADDR", worldSize > 1 ? null : "127.0.0.1"),
                intVar(env, "MASTER_PORT", worldSize > 1 ? -1 : 0),
                worldSize,
                intVar(env, "RANK", intVar(env, "NODE_RANK", 0)),
                intVar(env, "LOCAL_RANK", 0),
                intVar(env, "LOCAL_WORLD_SIZE", 1),
                intVar(env, "MILAN_ATTEMPT", 0),
                timeoutVar(env));
    }

    /** The same placement with another timeout (e.g. from {@code --dist_timeout}). */
    public DistConfig withTimeout(Duration newTimeout) {
        return new DistConfig(masterAddr, masterPort, worldSize, rank, localRank, localWorldSize, attempt,
                newTimeout);
    }

    /** The timeout as people write it ("300 s", "2.5 s"), for error messages. */
    public String timeoutText() {
        long millis = timeout.toMillis();
        return (millis % 1000 == 0 ? String.valueOf(millis / 1000) : String.valueOf(millis / 1000.0)) + " s";
    }

    static int intVar(Map<String, String> env, String name, int fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + value + "'");
        }
    }

    private static Duration timeoutVar(Map<String, String> env) {
        String value = env.get("MILAN_DIST_TIMEOUT");
        if (value == null || value.isBlank()) {
            return DEFAULT_TIMEOUT;
        }
        try {
            double seconds = Double.parseDouble(value.trim());
            require(seconds > 0 && Double.isFinite(seconds), "MILAN_DIST_TIMEOUT must be > 0 seconds, got " + value);
            return Duration.ofMillis(Math.max(1, Math.round(seconds * 1000)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("MILAN_DIST_TIMEOUT must be a number of seconds, got '" + value + "'");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
