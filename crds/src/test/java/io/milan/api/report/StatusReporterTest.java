package io.milan.api.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.api.CheckpointStatus;
import io.milan.api.EvalStatus;
import io.milan.api.Progress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Rate limiting, snapshot merging and failure handling of the reporter; the cluster side is an IT. */
class StatusReporterTest {
    private static final RunReference RUN = new RunReference("MilanPretrain", "r", "ns");

    private final MutableClock clock = new MutableClock();
    private final RecordingSink sink = new RecordingSink();
    private final StatusReporter reporter =
            new StatusReporter(RUN, sink, Duration.ofSeconds(5), clock, new DirectExecutor());

    @Test
    void progressIsRateLimitedButEpochEndsAndCheckpointsAreNot() {
        reporter.progress(progress(1, 10));
        reporter.progress(progress(1, 11));
        clock.advance(Duration.ofSeconds(4));
        reporter.progress(progress(1, 12));
        assertEquals(1, sink.applied.size(), "two progress reports within 5 s are held back");

        reporter.epochEnd(progress(1, 13), null);
        reporter.checkpoint(checkpoint(0));
        assertEquals(3, sink.applied.size(), "epoch ends and checkpoints are written at once");

        clock.advance(Duration.ofSeconds(5));
        reporter.progress(progress(1, 14));
        assertEquals(4, sink.applied.size());
        assertEquals(14L, sink.last().progress().globalStep);
    }

    @Test
    void everyWriteCarriesEvalAndCheckpointKnownSoFar() {
        reporter.epochEnd(progress(1, 100), eval(0, 71.5));
        reporter.checkpoint(checkpoint(0));
        clock.advance(Duration.ofSeconds(6));
        reporter.progress(progress(1, 150));

        TrainerFields last = sink.last();
        assertEquals(150L, last.progress().globalStep);
        assertEquals(71.5, last.eval().top1);
        assertEquals(0, last.checkpoint().epoch);
    }

    @Test
    void aNewAttemptKeepsWhatTheEarlierAttemptReportedUntilItReportsItsOwn() {
        sink.current = new TrainerFields(progress(1, 500), eval(3, 80.0), checkpoint(3));
        reporter.progress(progress(2, 400));

        TrainerFields first = sink.last();
        assertEquals(2, first.progress().attempt, "progress is this attempt's");
        assertEquals(80.0, first.eval().top1, "eval of attempt 1 kept");
        assertEquals(3, first.checkpoint().epoch, "checkpoint of attempt 1 kept");

        reporter.checkpoint(checkpoint(4));
        assertEquals(4, sink.last().checkpoint().epoch);
        assertEquals(1, sink.reads, "status is read once, before the first write");
    }

    @Test
    void aFailedWriteIsLoggedNotThrownAndFlushRetriesIt() {
        sink.failNext = true;
        reporter.epochEnd(progress(1, 10), null);
        assertTrue(sink.applied.isEmpty());

        reporter.flush(Duration.ofSeconds(1));
        assertEquals(1, sink.applied.size());
        assertEquals(10L, sink.last().progress().globalStep);
    }

    @Test
    void flushWritesAHeldBackReport() {
        reporter.progress(progress(1, 1));
        reporter.progress(progress(1, 2));
        reporter.flush(Duration.ofSeconds(1));
        assertEquals(2, sink.applied.size());
        assertEquals(2L, sink.last().progress().globalStep);
    }

    @Test
    void outsideKubernetesNothingIsReported() {
        StatusReporter none = StatusReporter.fromEnvironment(Map.of("HOME", "/root"));
        assertFalse(none.isEnabled());
        none.progress(progress(1, 1));
        none.epochEnd(progress(1, 1), eval(0, 1.0));
        none.close();
    }

    @Test
    void theEnvironmentNamesTheRun() {
        RunReference ref = RunReference.fromEnvironment(Map.of(RunReference.ENV_KIND, "MilanFinetune",
                RunReference.ENV_NAME, "ft", RunReference.ENV_NAMESPACE, "team-a")).orElseThrow();
        assertEquals(new RunReference("MilanFinetune", "ft", "team-a"), ref);
        assertFalse(ref.isPretrain());

        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> RunReference.fromEnvironment(Map.of(RunReference.ENV_KIND, "Pod",
                        RunReference.ENV_NAME, "x", RunReference.ENV_NAMESPACE, "y")));
        assertTrue(bad.getMessage().contains(RunReference.ENV_KIND), bad.getMessage());
    }

    @Test
    void theLossIsWrittenToFourSignificantDigitsAndTheRestAsGiven() {
        Progress full = progress(1, 7);
        full.epoch = 0;
        full.totalEpochs = 3;
        full.percent = 12.5;
        full.step = 7L;
        full.stepsPerEpoch = 50L;
        full.imagesPerSecond = 321.5;
        full.etaSeconds = 90L;
        full.trainLoss = 0.43213987731933594;
        full.lr = 1.2345678e-4;
        full.updateTime = "2026-01-01T00:00:00Z";
        reporter.progress(full);

        Progress written = sink.last().progress();
        assertEquals(0.4321, written.trainLoss, "kubectl's Loss column shows the stored value");
        assertEquals(0.43213987731933594, full.trainLoss, "the caller's report is not changed");
        assertEquals(1.2345678e-4, written.lr, "only the loss is rounded");
        assertEquals(List.of(1, 0, 3, 7L, 50L, 7L, 12.5, 321.5, 90L, "2026-01-01T00:00:00Z"),
                List.of(written.attempt, written.epoch, written.totalEpochs, written.step, written.stepsPerEpoch,
                        written.globalStep, written.percent, written.imagesPerSecond, written.etaSeconds,
                        written.updateTime));

        Progress large = progress(1, 8);
        large.trainLoss = 12.345678;
        reporter.epochEnd(large, null);
        assertEquals(12.35, sink.last().progress().trainLoss);
        Progress none = progress(1, 9);
        reporter.epochEnd(none, null);
        assertNull(sink.last().progress().trainLoss, "no loss yet stays absent");
    }

    @Test
    void theAppliedStatusHoldsOnlyTrainerFields() {
        TrainerFields fields = new TrainerFields(progress(1, 1), null, checkpoint(0));
        var status = fields.toStatus();
        assertSame(fields.progress(), status.progress);
        assertNull(status.phase);
        assertNull(status.conditions);
        assertNull(status.attempt);
        assertNull(status.eval);
    }

    static Progress progress(int attempt, long globalStep) {
        Progress p = new Progress();
        p.attempt = attempt;
        p.globalStep = globalStep;
        return p;
    }

    static EvalStatus eval(int epoch, double top1) {
        EvalStatus e = new EvalStatus();
        e.epoch = epoch;
        e.top1 = top1;
        return e;
    }

    static CheckpointStatus checkpoint(int epoch) {
        CheckpointStatus c = new CheckpointStatus();
        c.epoch = epoch;
        c.path = "/output/checkpoint-" + epoch + ".safetensors";
        return c;
    }

    static final class RecordingSink implements StatusSink {
        final List<TrainerFields> applied = new ArrayList<>();
        TrainerFields current = TrainerFields.NONE;
        boolean failNext;
        int reads;

        @Override
        public TrainerFields read(RunReference run) {
            reads++;
            return current;
        }

        @Override
        public void apply(RunReference run, TrainerFields fields) {
            if (failNext) {
                failNext = false;
                throw new IllegalStateException("API server unreachable");
            }
            applied.add(fields);
        }

        TrainerFields last() {
            return applied.get(applied.size() - 1);
        }
    }

    static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    /** Runs each write on the caller's thread, so the test sees it at once. */
    static final class DirectExecutor extends AbstractExecutorService {
        private boolean shutdown;

        @Override
        public void execute(Runnable command) {
            command.run();
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }
    }
}
