package io.milan.trainer.dist;

import io.milan.trainer.dist.c10d.C10dStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Tells which rank stopped when a collective fails. c10d says only what this rank saw ("Connection closed by
 * peer [10.244.1.7]:41022", "Timed out waiting 300000ms"); every rank here keeps two counters in the job's
 * TCPStore: a heartbeat bumped twice a second by a daemon thread, and its progress, bumped each time the training
 * loop enters a collective. After a failure, a rank whose heartbeat stands still has died or is frozen; a rank
 * whose progress lags behind this one's never reached the collective (stuck in its own work). If the store itself
 * does not answer, rank 0, which serves it, is the one gone.
 */
final class PeerLiveness implements AutoCloseable {

    private static final Duration BEAT = Duration.ofMillis(500);
    /** How long a heartbeat must stand still to count as stopped (several beats: scheduling jitter). */
    private static final Duration STILL = Duration.ofMillis(2500);
    private static final Duration STORE_TIMEOUT = Duration.ofSeconds(3);

    private final DistConfig config;
    private final C10dStore store;
    private final Thread heart;
    private long progress;

    private PeerLiveness(DistConfig config, C10dStore store) {
        this.config = config;
        this.store = store;
        this.heart = new Thread(this::beat, "milan-dist-heartbeat");
        heart.setDaemon(true);
        heart.start();
    }

    static PeerLiveness start(DistConfig config) {
        return new PeerLiveness(config, C10dStore.connect(config.masterAddr(), config.masterPort(), STORE_TIMEOUT));
    }

    /** Marks that this rank has reached its next collective. */
    synchronized void enter() {
        try {
            progress = store.add(progressKey(config.rank()), 1);
        } catch (RuntimeException e) {
            progress++; // the store is gone; the collective itself will fail and say so
        }
    }

    /** A failure with {@code message}, extended with which ranks stopped, when the counters show it. */
    DistributedException explain(String message, RuntimeException failure) {
        String verdict;
        try {
            verdict = verdict();
        } catch (RuntimeException storeGone) {
            verdict = "rank 0, which serves the TCPStore at " + config.masterAddr() + ":" + config.masterPort()
                    + ", does not answer (" + STORE_TIMEOUT.toSeconds() + " s): it died or hangs";
        }
        return new DistributedException(message + "; " + verdict, failure);
    }

    @Override
    public void close() {
        heart.interrupt();
        try {
            heart.join(STORE_TIMEOUT.toMillis() * 2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
    }

    private String verdict() {
        long[] before = readAll(heartKeyPrefix());
        sleep(STILL);
        long[] after = readAll(heartKeyPrefix());
        long[] reached = readAll("milan/progress/");
        long mine = reached[config.rank()];
        List<String> blamed = new ArrayList<>();
        for (int r = 0; r < config.worldSize(); r++) {
            if (r == config.rank()) {
                continue;
            }
            if (after[r] == before[r]) {
                blamed.add("rank " + r + " stopped (no heartbeat for " + STILL.toMillis() / 1000.0
                        + " s: it died or is frozen)");
            } else if (reached[r] < mine) {
                blamed.add("rank " + r + " is alive but never reached this collective (its collective " + reached[r]
                        + ", this rank's " + mine + "): it is stuck in its own work");
            }
        }
        return blamed.isEmpty() ? "every other rank is alive and has reached this collective"
                : String.join("; ", blamed);
    }

    private long[] readAll(String prefix) {
        long[] values = new long[config.worldSize()];
        for (int r = 0; r < values.length; r++) {
            values[r] = store.add(prefix + r, 0);
        }
        return values;
    }

    private void beat() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                store.add(heartKeyPrefix() + config.rank(), 1);
            } catch (RuntimeException e) {
                // The store is gone (rank 0 died): keep quiet, the collectives report it.
            }
            try {
                Thread.sleep(BEAT.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static String heartKeyPrefix() {
        return "milan/heartbeat/";
    }

    private static String progressKey(int rank) {
        return "milan/progress/" + rank;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
