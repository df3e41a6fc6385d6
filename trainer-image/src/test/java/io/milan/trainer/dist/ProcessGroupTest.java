package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trainer's process group on c10d Gloo, as separate JVMs on loopback started by the launcher: exact
 * collectives, and failures that name the rank to blame — killed (rank 0 also serves the TCPStore), frozen
 * (SIGSTOP) or stuck in its own work — on every other rank, within the timeout.
 */
class ProcessGroupTest {

    private static final Duration HANG_GUARD = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    @Test
    void threeRanksSumGatherAndBroadcastExactlyAndRefuseMismatchedArrays() {
        int world = 3;
        try (Launcher job = Launcher.start(spec(world, List.of("check"), Duration.ofSeconds(60)))) {
            int[] codes = job.awaitExit(HANG_GUARD);
            for (int rank = 0; rank < world; rank++) {
                String log = job.output(rank);
                assertEquals(0, codes[rank], "rank " + rank + ":\n" + log);
                for (String check : List.of("sums", "bytes", "broadcast", "barrier")) {
                    assertTrue(log.contains("CHECKED " + check), "rank " + rank + " did not check " + check + ":\n"
                            + log);
                }
                String refused = JobLogs.line(log, "REFUSED ");
                assertTrue(refused.contains("'w float32 (4)' on rank 2 but 'w float32 (3)' on rank 0"), refused);
            }
        }
    }

    @ParameterizedTest(name = "rank {0} killed")
    @ValueSource(ints = {0, 1})
    void aKilledRankIsNamedByEveryOtherRank(int victim) throws InterruptedException {
        int world = 3;
        try (Launcher job = Launcher.start(spec(world, List.of("loop"), Duration.ofSeconds(20)))) {
            JobLogs.awaitIterations(job, world, 3, HANG_GUARD);
            job.process(victim).destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no goodbye
            for (String failure : failuresOfTheOthers(job, world, victim)) {
                System.out.println("killed rank " + victim + ", another rank says: " + failure);
                assertTrue(failure.contains(victim == 0
                        ? "rank 0, which serves the TCPStore at 127.0.0.1:" + job.masterPort() + ", does not answer"
                        : "rank " + victim + " stopped (no heartbeat"), failure);
            }
        }
    }

    @Test
    void aFrozenRankIsNamedAfterTheTimeout() throws Exception {
        int world = 3;
        int frozen = 2;
        try (Launcher job = Launcher.start(spec(world, List.of("loop"), Duration.ofSeconds(3)))) {
            JobLogs.awaitIterations(job, world, 3, HANG_GUARD);
            signal("STOP", job.process(frozen)); // a hung process: no progress, no heartbeat, sockets open
            try {
                for (String failure : failuresOfTheOthers(job, world, frozen)) {
                    System.out.println("frozen rank " + frozen + ", another rank says: " + failure);
                    assertTrue(failure.contains("rank " + frozen + " stopped (no heartbeat"), failure);
                }
            } finally {
                job.process(frozen).destroyForcibly();
            }
        }
    }

    @Test
    void aRankStuckInItsOwnWorkIsNamedAfterTheTimeout() {
        int world = 3;
        int stalling = 1;
        try (Launcher job = Launcher.start(spec(world, List.of("stall", String.valueOf(stalling)),
                Duration.ofSeconds(3)))) {
            for (String failure : failuresOfTheOthers(job, world, stalling)) {
                System.out.println("stalling rank " + stalling + ", another rank says: " + failure);
                assertTrue(failure.contains("rank " + stalling + " is alive but never reached this collective"),
                        failure);
            }
            assertTrue(job.output(stalling).contains("STALLING"), job.output(stalling));
        }
    }

    @Test
    void ranksThatShareTheAttemptsSecretMeet() {
        int world = 3;
        try (Launcher job = Launcher.start(spec(world, List.of("secret", "-1"), Duration.ofSeconds(30)))) {
            int[] codes = job.awaitExit(HANG_GUARD);
            for (int rank = 0; rank < world; rank++) {
                assertEquals(0, codes[rank], "rank " + rank + ":\n" + job.output(rank));
                assertTrue(job.output(rank).contains("AUTHED"), job.output(rank));
            }
        }
    }

    @Test
    void aRankWithoutTheAttemptsSecretIsNamedAndNoRankGoesOn() {
        int world = 3;
        int stranger = 2;
        try (Launcher job = Launcher.start(spec(world, List.of("secret", String.valueOf(stranger)),
                Duration.ofSeconds(30)))) {
            List<String> failures = JobLogs.failuresOfAllBut(job, world, -1, GroupWorker.FAILURE_EXIT, "FAILURE ",
                    HANG_GUARD);
            System.out.println("a rank with a stale secret; rank 0 says: " + failures.get(0));
            assertTrue(failures.get(0).startsWith("rank 2 did not prove this attempt's rendezvous secret"),
                    failures.get(0));
            for (int rank = 0; rank < world; rank++) {
                assertTrue(failures.get(rank).contains("on rank " + rank + " of 3"), failures.get(rank));
                assertTrue(!job.output(rank).contains("AUTHED"), "rank " + rank + " went on:\n" + job.output(rank));
            }
        }
    }

    /** Waits for every rank but {@code culprit} to fail, and returns their failure messages. */
    private static List<String> failuresOfTheOthers(Launcher job, int world, int culprit) {
        List<String> failures = JobLogs.failuresOfAllBut(job, world, culprit, GroupWorker.FAILURE_EXIT, "FAILURE ",
                HANG_GUARD);
        int next = 0;
        for (int rank = 0; rank < world; rank++) {
            if (rank != culprit) {
                String failure = failures.get(next++);
                assertTrue(failure.contains("on rank " + rank + " of " + world), failure);
            }
        }
        return failures;
    }

    private Launcher.Spec spec(int world, List<String> args, Duration timeout) {
        return Launcher.Spec.local(GroupWorker.class.getName(), args, world, timeout, dir.resolve("logs"),
                List.of("-Xmx384m"), Map.of());
    }

    private static void signal(String name, Process process) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + name);
    }
}
