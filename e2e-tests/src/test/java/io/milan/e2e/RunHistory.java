package io.milan.e2e;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Everything observed of one run while polling it: each status read (with when it was read) and the name of every Job
 * the run ever had, and optionally what else the test wants on the same time line (another run, Kueue's Workloads).
 * Tests assert on this history (progress seen while Running, epochs never going back, one Job only) instead of
 * on a single final read.
 */
final class RunHistory {
    private final String run;
    private final Supplier<RunStatus> status;
    private final Supplier<List<Job>> jobs;
    private final Supplier<String> alongside;
    private final long start = System.nanoTime();
    private final List<RunStatus> seen = new ArrayList<>();
    private final List<String> lines = new ArrayList<>();
    private final Set<String> jobNames = new TreeSet<>();
    private String lastLine = "";

    RunHistory(String run, Supplier<RunStatus> status, Supplier<List<Job>> jobs) {
        this(run, status, jobs, () -> "");
    }

    /** {@code alongside} is read at every poll and shown in {@link #summary()} next to the run's state. */
    RunHistory(String run, Supplier<RunStatus> status, Supplier<List<Job>> jobs, Supplier<String> alongside) {
        this.run = run;
        this.status = status;
        this.jobs = jobs;
        this.alongside = alongside;
    }

    /** Polls (status and Jobs, recorded) until {@code condition} holds; returns that status. */
    RunStatus until(String what, Duration timeout, Predicate<RunStatus> condition) {
        try {
            return Await.until(run + ": " + what, timeout, this::observe, s -> s != null && condition.test(s));
        } catch (AssertionError e) {
            // The status object alone prints as a hash: say what was seen on the way.
            throw new AssertionError(e.getMessage() + "\nhistory:\n" + summary(), e);
        }
    }

    /** Polls until the run Succeeded or Failed. */
    RunStatus untilFinished(Duration timeout) {
        return until("Succeeded or Failed", timeout, RunHistory::finished);
    }

    /**
     * Attempt 1 is mid-epoch after a checkpoint: a checkpoint of epoch c exists, epoch c+1 is under way (step >= 1) and
     * is not the last of {@code epochs}, so a failure now must resume from c, not restart from 0.
     */
    static Predicate<RunStatus> midEpochAfterCheckpoint(int epochs) {
        return s -> s.phase == RunPhase.Running && s.checkpoint != null && s.progress != null
                && s.progress.attempt == 1 && s.progress.epoch > s.checkpoint.epoch
                && s.progress.epoch < epochs - 1 && s.progress.step != null && s.progress.step >= 1;
    }

    static boolean finished(RunStatus s) {
        return s.phase != null && s.phase.isFinal();
    }

    private RunStatus observe() {
        RunStatus s = status.get();
        if (s != null) {
            seen.add(s);
        }
        for (Job j : jobs.get()) {
            jobNames.add(j.getMetadata().getName());
        }
        String extra = alongside.get();
        String line = (s == null ? "-" : describe(s)) + (extra.isEmpty() ? "" : " | " + extra);
        if (!line.equals(lastLine)) {
            lines.add(String.format("%6.1f s  %s", (System.nanoTime() - start) / 1e9, line));
            lastLine = line;
        }
        return s;
    }

    /** Phase, the reason of its condition, attempt, restarts, progress and checkpoint of one status read. */
    private static String describe(RunStatus s) {
        String reason = s.conditions == null || s.phase == null ? null : s.conditions.stream()
                .filter(c -> s.phase.name().equals(c.getType()) && "True".equals(c.getStatus()))
                .map(c -> c.getReason()).findFirst().orElse(null);
        return s.phase + (reason == null ? "" : "/" + reason) + " attempt=" + s.attempt + " restarts=" + s.restarts
                + (s.progress == null ? "" : " progress(attempt=" + s.progress.attempt + " epoch=" + s.progress.epoch
                        + " step=" + s.progress.step + " globalStep=" + s.progress.globalStep + ")")
                + (s.checkpoint == null ? "" : " checkpoint(epoch=" + s.checkpoint.epoch + ")");
    }

    List<RunStatus> statuses() {
        return seen;
    }

    Set<String> jobNames() {
        return jobNames;
    }

    /** Epochs reported in status.progress, in the order seen (consecutive repeats collapsed). */
    List<Integer> progressEpochs() {
        List<Integer> epochs = new ArrayList<>();
        for (RunStatus s : seen) {
            if (s.progress != null && s.progress.epoch != null
                    && (epochs.isEmpty() || !epochs.get(epochs.size() - 1).equals(s.progress.epoch))) {
                epochs.add(s.progress.epoch);
            }
        }
        return epochs;
    }

    /** The first status whose progress was written by {@code attempt}, or null. */
    RunStatus firstProgressOf(int attempt) {
        return seen.stream().filter(s -> s.progress != null && s.progress.attempt != null
                && s.progress.attempt == attempt).findFirst().orElse(null);
    }

    /** The phases, progress and what was read alongside, each change with its time since the history began. */
    String summary() {
        StringBuilder b = new StringBuilder();
        for (String line : lines) {
            b.append("  ").append(line).append('\n');
        }
        return b + "  jobs: " + jobNames + "\n  last message: "
                + (seen.isEmpty() ? "-" : seen.get(seen.size() - 1).message);
    }
}
