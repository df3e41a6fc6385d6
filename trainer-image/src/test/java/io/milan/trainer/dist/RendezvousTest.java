package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Forming the group: attempts, world sizes and ranks are checked, late starters wait, absent ones time out. */
class RendezvousTest {

    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final int CHUNK = 1 << 16;

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final int port = LocalJob.freeLoopbackPort();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void aRankFromAnOlderAttemptIsRefusedAndTheGroupFormsWithoutIt() throws Exception {
        Duration timeout = Duration.ofSeconds(20);
        Future<float[]> rankZero = pool.submit(() -> allReduceOnce(config(2, 0, 5, timeout), 1f));
        Future<float[]> stale = pool.submit(() -> allReduceOnce(config(2, 1, 4, timeout), 100f));
        Throwable refused = failure(stale);
        assertInstanceOf(DistributedException.class, refused);
        assertTrue(refused.getMessage().contains("rank 1 (attempt 4") && refused.getMessage().contains("refused")
                && refused.getMessage().contains("older attempt: rank 0 runs attempt 5"), refused.getMessage());

        Future<float[]> current = pool.submit(() -> allReduceOnce(config(2, 1, 5, timeout), 3f));
        assertArrayEquals(new float[] {2f, 2f}, current.get(BOUND.toSeconds(), TimeUnit.SECONDS));
        assertArrayEquals(new float[] {2f, 2f}, rankZero.get(BOUND.toSeconds(), TimeUnit.SECONDS),
                "the stale rank's values were not mixed in");
    }

    @Test
    void aRankFromANewerAttemptMeansRankZeroIsStaleAndBothStop() throws Exception {
        Duration timeout = Duration.ofSeconds(20);
        Future<float[]> rankZero = pool.submit(() -> allReduceOnce(config(2, 0, 1, timeout), 1f));
        Future<float[]> worker = pool.submit(() -> allReduceOnce(config(2, 1, 2, timeout), 1f));
        Throwable zero = failure(rankZero);
        Throwable one = failure(worker);
        assertTrue(zero.getMessage().contains("this rank 0 is stale"), zero.getMessage());
        assertTrue(one.getMessage().contains("was refused by rank 0"), one.getMessage());
    }

    @Test
    void disagreeingOnTheWorldSizeStopsBoth() throws Exception {
        Duration timeout = Duration.ofSeconds(20);
        Future<float[]> rankZero = pool.submit(() -> allReduceOnce(config(2, 0, 0, timeout), 1f));
        Future<float[]> worker = pool.submit(() -> allReduceOnce(config(3, 1, 0, timeout), 1f));
        String expected = "has WORLD_SIZE 3 but rank 0 has WORLD_SIZE 2";
        assertTrue(failure(rankZero).getMessage().contains(expected), failure(rankZero).getMessage());
        assertTrue(failure(worker).getMessage().contains(expected), failure(worker).getMessage());
    }

    @Test
    void aRankJoiningTwiceStopsTheGroup() throws Exception {
        Duration timeout = Duration.ofSeconds(20);
        // World 3 but rank 2 never comes, so rank 0 is still admitting when the second "rank 1" dials in.
        Future<float[]> rankZero = pool.submit(() -> allReduceOnce(config(3, 0, 0, timeout), 1f));
        Future<float[]> first = pool.submit(() -> allReduceOnce(config(3, 1, 0, timeout), 1f));
        Future<float[]> twin = pool.submit(() -> allReduceOnce(config(3, 1, 0, timeout), 1f));
        Throwable zero = failure(rankZero);
        assertTrue(zero.getMessage().contains("joined twice"), zero.getMessage());
        assertInstanceOf(DistributedException.class, failure(first));
        assertInstanceOf(DistributedException.class, failure(twin));
    }

    @Test
    void rankZeroGivesUpOnAMissingRankAndTellsTheOthers() throws Exception {
        Duration timeout = Duration.ofMillis(1500);
        Future<float[]> rankZero = pool.submit(() -> allReduceOnce(config(3, 0, 0, timeout), 1f));
        Future<float[]> one = pool.submit(() -> allReduceOnce(config(3, 1, 0, timeout), 1f));
        Throwable zero = failure(rankZero);
        assertEquals(2, ((DistributedException) zero).peerRank());
        assertTrue(zero.getMessage().contains("rank 2 did not join within 1.5 s"), zero.getMessage());
        Throwable told = failure(one);
        assertTrue(told.getMessage().contains("rank 0 gave up forming the group")
                && told.getMessage().contains("rank 2 did not join"), told.getMessage());
    }

    @Test
    void withoutRankZeroAWorkerGivesUpAtTheTimeout() throws Exception {
        Future<float[]> lonely = pool.submit(() -> allReduceOnce(config(2, 1, 0, Duration.ofSeconds(1)), 1f));
        Throwable error = failure(lonely);
        assertEquals(0, ((DistributedException) error).peerRank());
        assertTrue(error.getMessage().contains("rank 1 could not connect to rank 0 (127.0.0.1:" + port + ") within 1 s"),
                error.getMessage());
    }

    @Test
    void aWorkerStartedBeforeRankZeroKeepsDialingUntilItIsUp() throws Exception {
        Duration timeout = Duration.ofSeconds(20);
        CountDownLatch dialFailed = new CountDownLatch(1);
        List<String> errors = new ArrayList<>();
        Future<float[]> early = pool.submit(() -> {
            Rendezvous.Events events = (peer, attempt, error) -> {
                synchronized (errors) {
                    errors.add(peer + ": " + error);
                }
                dialFailed.countDown();
            };
            try (ProcessGroup group = ProcessGroup.join(config(2, 1, 0, timeout), events, CHUNK)) {
                float[] data = {4f};
                group.allReduceMean(data);
                return data;
            }
        });
        assertTrue(dialFailed.await(BOUND.toSeconds(), TimeUnit.SECONDS), "the worker never dialled");
        Future<float[]> late = pool.submit(() -> allReduceOnce(config(2, 0, 0, timeout), 2f, 1));
        assertArrayEquals(new float[] {3f}, early.get(BOUND.toSeconds(), TimeUnit.SECONDS));
        assertArrayEquals(new float[] {3f}, late.get(BOUND.toSeconds(), TimeUnit.SECONDS));
        synchronized (errors) {
            assertTrue(errors.get(0).startsWith("rank 0 (127.0.0.1:" + port + "): java.net.ConnectException"),
                    errors.get(0));
        }
    }

    @Test
    void envIsReadAndCheckedWithClearMessages() {
        DistConfig config = DistConfig.fromEnv(java.util.Map.of("MASTER_ADDR", "milan-0.milan", "MASTER_PORT",
                "29500", "WORLD_SIZE", "4", "NODE_RANK", "3", "NPROC_PER_NODE", "8", "MILAN_ATTEMPT", "2",
                "MILAN_DIST_TIMEOUT", "2.5"));
        assertEquals(new DistConfig("milan-0.milan", 29500, 4, 3, 8, 2, Duration.ofMillis(2500)), config);
        assertEquals(DistConfig.DEFAULT_TIMEOUT, DistConfig.fromEnv(java.util.Map.of()).timeout());
        assertEquals(1, DistConfig.fromEnv(java.util.Map.of()).worldSize(), "no env: a single process");
        IllegalArgumentException rank = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DistConfig.fromEnv(java.util.Map.of("MASTER_ADDR", "a", "MASTER_PORT", "1", "WORLD_SIZE", "2",
                        "NODE_RANK", "2")));
        assertEquals("NODE_RANK must be in [0, WORLD_SIZE=2), got 2", rank.getMessage());
        IllegalArgumentException master = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> DistConfig.fromEnv(java.util.Map.of("WORLD_SIZE", "2",
                        "MASTER_PORT", "1")));
        assertEquals("MASTER_ADDR must be set when WORLD_SIZE > 1", master.getMessage());
        IllegalArgumentException timeout = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> DistConfig.fromEnv(java.util.Map.of("MILAN_DIST_TIMEOUT",
                        "soon")));
        assertEquals("MILAN_DIST_TIMEOUT must be a number of seconds, got 'soon'", timeout.getMessage());
    }

    private DistConfig config(int world, int rank, int attempt, Duration timeout) {
        return new DistConfig("127.0.0.1", port, world, rank, 1, attempt, timeout);
    }

    private static float[] allReduceOnce(DistConfig config, float value) {
        return allReduceOnce(config, value, 2);
    }

    private static float[] allReduceOnce(DistConfig config, float value, int length) {
        try (ProcessGroup group = ProcessGroup.join(config, Rendezvous.Events.NONE, CHUNK)) {
            float[] data = new float[length];
            java.util.Arrays.fill(data, value);
            group.allReduceMean(data);
            return data;
        }
    }

    private static Throwable failure(Future<?> future) throws Exception {
        try {
            Object value = future.get(BOUND.toSeconds(), TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + value);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
    }
}
