package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the failure tests read from a local job's processes: their progress, their exits and their log lines. */
public final class JobLogs {

    private JobLogs() {
    }

    /** Waits until every rank's log says {@code iteration <iterations>}, failing if one exits or stalls. */
    public static void awaitIterations(Launcher job, int world, int iterations, Duration bound)
            throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        for (int rank = 0; rank < world; rank++) {
            while (!job.output(rank).contains("iteration " + iterations)) {
                assertTrue(job.process(rank).isAlive(), "rank " + rank + " exited early:\n" + job.output(rank));
                assertTrue(System.nanoTime() < deadline, "rank " + rank + " made no progress:\n" + job.output(rank));
                Thread.sleep(50); // poll the log
            }
        }
    }

    /**
     * Waits for every rank but {@code culprit} to exit with {@code exitCode} (within {@code bound}) and returns, in
     * rank order, the line each logged after {@code prefix}.
     */
    public static List<String> failuresOfAllBut(Launcher job, int world, int culprit, int exitCode, String prefix,
            Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        List<String> failures = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
            if (rank == culprit) {
                continue;
            }
            try {
                assertTrue(job.process(rank).waitFor(Math.max(0, deadline - System.nanoTime()),
                        TimeUnit.NANOSECONDS), "rank " + rank + " hangs:\n" + job.output(rank));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            String log = job.output(rank);
            assertEquals(exitCode, job.process(rank).exitValue(), "rank " + rank + ":\n" + log);
            failures.add(line(log, prefix));
        }
        return failures;
    }

    /** The one line of {@code log} that starts with {@code prefix}, without it. */
    public static String line(String log, String prefix) {
        List<String> found = new ArrayList<>();
        log.lines().filter(l -> l.startsWith(prefix)).forEach(l -> found.add(l.substring(prefix.length())));
        assertEquals(1, found.size(), "one line starting with '" + prefix + "' expected in:\n" + log);
        return found.get(0);
    }
}
