package io.milan.trainer.dist;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs the ranks of a job as threads of this JVM, each with its own {@link ProcessGroup} on loopback sockets.
 * Every wait is bounded: a rank that has not finished by {@code bound} fails the test.
 */
final class ThreadRanks {

    /** What one rank does once its group is formed. */
    interface Body<T> {
        T run(ProcessGroup group) throws Exception;
    }

    /** One rank's result or error. */
    record Outcome<T>(T value, Throwable error) {
        T get() {
            if (error != null) {
                throw new AssertionError("rank failed: " + error, error);
            }
            return value;
        }
    }

    private ThreadRanks() {
    }

    static DistConfig config(int worldSize, int rank, int port, Duration timeout) {
        return new DistConfig("127.0.0.1", port, worldSize, rank, 1, 0, timeout);
    }

    /** Runs {@code body} on every rank; fails if any rank fails. */
    static <T> List<T> run(int worldSize, int chunkBytes, Duration timeout, Body<T> body) {
        List<T> values = new ArrayList<>();
        for (Outcome<T> outcome : runEach(worldSize, chunkBytes, timeout, body)) {
            values.add(outcome.get());
        }
        return values;
    }

    /** Runs {@code body} on every rank and returns each rank's outcome, failures included. */
    static <T> List<Outcome<T>> runEach(int worldSize, int chunkBytes, Duration timeout, Body<T> body) {
        int port = LocalJob.freeLoopbackPort();
        List<DistConfig> configs = new ArrayList<>();
        for (int rank = 0; rank < worldSize; rank++) {
            configs.add(config(worldSize, rank, port, timeout));
        }
        return runConfigs(configs, chunkBytes, timeout.multipliedBy(4).plusSeconds(30), body);
    }

    /** Runs one thread per config (any ranks, attempts, world sizes); waits at most {@code bound}. */
    static <T> List<Outcome<T>> runConfigs(List<DistConfig> configs, int chunkBytes, Duration bound, Body<T> body) {
        ExecutorService pool = Executors.newFixedThreadPool(configs.size());
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (DistConfig config : configs) {
                futures.add(pool.submit(() -> {
                    try (ProcessGroup group = ProcessGroup.join(config, Rendezvous.Events.NONE, chunkBytes)) {
                        return body.run(group);
                    }
                }));
            }
            return collect(futures, bound);
        } finally {
            pool.shutdownNow();
        }
    }

    static <T> List<Outcome<T>> collect(List<Future<T>> futures, Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        List<Outcome<T>> outcomes = new ArrayList<>();
        for (Future<T> future : futures) {
            try {
                long remaining = Math.max(0, deadline - System.nanoTime());
                outcomes.add(new Outcome<>(future.get(remaining, TimeUnit.NANOSECONDS), null));
            } catch (ExecutionException e) {
                outcomes.add(new Outcome<>(null, e.getCause()));
            } catch (TimeoutException e) {
                throw new AssertionError("a rank did not finish within " + bound + " (it hangs)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
        return outcomes;
    }
}
