package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A peer that dies or goes silent makes every other rank throw a {@link DistributedException} naming it, within
 * the configured timeout (a short one here). Ranks are threads of this JVM; the same with a killed process is in
 * {@link SeparateProcessesTest}.
 */
class FailureTest {

    private static final int CHUNK_BYTES = 1 << 16;

    @Test
    void aPeerThatDropsItsConnectionsMidAllReduceIsNamedByEveryOtherRank() {
        int world = 4;
        int victim = 2;
        Duration timeout = Duration.ofSeconds(3);
        List<ThreadRanks.Outcome<String>> outcomes = ThreadRanks.runEach(world, CHUNK_BYTES, timeout, group -> {
            float[] data = AllReduceExpectations.input(group.rank(), 1_000_000, 7);
            for (int iteration = 0; iteration < 1000; iteration++) {
                if (group.rank() == victim && iteration == 3) {
                    group.closeAbruptly(); // a crash: TCP resets, no notice
                    return group.peers().get(victim).toString();
                }
                group.allReduceMean(data);
            }
            throw new AssertionError("rank " + group.rank() + " never noticed the victim");
        });
        String victimPeer = outcomes.get(victim).get();
        for (int rank = 0; rank < world; rank++) {
            if (rank != victim) {
                DistributedException error = assertInstanceOf(DistributedException.class, outcomes.get(rank).error(),
                        "rank " + rank);
                assertEquals(victim, error.peerRank(), "rank " + rank + " blames: " + error.getMessage());
                assertTrue(error.getMessage().contains(victimPeer), "rank " + rank + " names " + victimPeer + ": "
                        + error.getMessage());
            }
        }
    }

    @Test
    void aSilentPeerMakesTheOthersFailAfterTheTimeout() throws InterruptedException {
        int world = 3;
        int silent = 2;
        Duration timeout = Duration.ofSeconds(2);
        CountDownLatch othersDone = new CountDownLatch(world - 1);
        List<ThreadRanks.Outcome<String>> outcomes = ThreadRanks.runEach(world, CHUNK_BYTES, timeout, group -> {
            if (group.rank() == silent) {
                // Connected but not taking part, e.g. stuck in a data loader: it holds its sockets open.
                assertTrue(othersDone.await(60, TimeUnit.SECONDS), "the other ranks never gave up");
                group.allReduceMean(new float[1000]); // the others are gone: this must fail too, not hang
                throw new AssertionError("the silent rank's late all-reduce succeeded");
            }
            try {
                group.allReduceMean(new float[1000]);
                throw new AssertionError("rank " + group.rank() + " finished without the silent rank");
            } finally {
                othersDone.countDown();
            }
        });
        DistributedException first = assertInstanceOf(DistributedException.class, outcomes.get(0).error());
        assertEquals(silent, first.peerRank(), first.getMessage());
        assertTrue(first.getMessage().contains("received no bytes from rank 2 (127.0.0.1:"), first.getMessage());
        assertTrue(first.getMessage().contains("for 2 s"), first.getMessage());
        // Rank 1 waits on rank 0, which is itself waiting: it names whichever silence it saw first.
        DistributedException second = assertInstanceOf(DistributedException.class, outcomes.get(1).error());
        assertTrue(second.getMessage().contains("received no bytes from rank"), second.getMessage());
        assertInstanceOf(DistributedException.class, outcomes.get(silent).error(), "the silent rank fails too");
    }

    @Test
    void theBarrierWaitsForARankThatNeverArrives() {
        int world = 3;
        int absent = 2;
        CountDownLatch othersDone = new CountDownLatch(world - 1);
        List<ThreadRanks.Outcome<Object>> outcomes = ThreadRanks.runEach(world, CHUNK_BYTES, Duration.ofMillis(1500),
                group -> {
                    if (group.rank() == absent) {
                        assertTrue(othersDone.await(60, TimeUnit.SECONDS), "the other ranks never gave up");
                        return null;
                    }
                    try {
                        group.barrier();
                        return "passed the barrier without rank " + absent;
                    } finally {
                        othersDone.countDown();
                    }
                });
        for (int rank = 0; rank < world; rank++) {
            if (rank != absent) {
                assertInstanceOf(DistributedException.class, outcomes.get(rank).error(), "rank " + rank
                        + " outcome: " + outcomes.get(rank).value());
            }
        }
        DistributedException first = (DistributedException) outcomes.get(0).error();
        assertEquals(absent, first.peerRank(), first.getMessage());
    }

    @Test
    void afterAFailureEveryCallThrowsAtOnce() {
        List<ThreadRanks.Outcome<String>> outcomes = ThreadRanks.runEach(2, CHUNK_BYTES, Duration.ofSeconds(5),
                group -> {
                    if (group.rank() == 1) {
                        group.closeAbruptly();
                        return "closed";
                    }
                    DistributedException first = org.junit.jupiter.api.Assertions.assertThrows(
                            DistributedException.class, () -> group.allReduceMean(new float[10]));
                    DistributedException again = org.junit.jupiter.api.Assertions.assertThrows(
                            DistributedException.class, group::barrier);
                    assertTrue(again.getMessage().contains("already failed"), again.getMessage());
                    assertEquals(first.peerRank(), again.peerRank());
                    return first.getMessage();
                });
        assertTrue(outcomes.get(0).get().contains("rank 1 (127.0.0.1:"), outcomes.get(0).get());
    }
}
