package io.milan.trainer.train;

import io.milan.api.CheckpointStatus;
import io.milan.api.EvalStatus;
import io.milan.api.Progress;
import io.milan.api.report.StatusReporter;
import java.time.Instant;

/**
 * What rank 0 tells the world: progress into the run's status (through the API module's reporter, a no-op
 * outside Kubernetes) and, at the end, a one-line JSON summary in the container's termination message, which
 * the operator can read even if the status writes failed.
 */
final class RunReporter implements AutoCloseable {

    private final StatusReporter status;
    private final int attempt;
    private final int epochs;

    RunReporter(boolean primary, int attempt, int epochs) {
        this.status = primary ? StatusReporter.fromEnvironment() : StatusReporter.disabled();
        this.attempt = Math.max(1, attempt);
        this.epochs = epochs;
    }

    Progress progress(int epoch, long step, long stepsPerEpoch, long globalStep, double imagesPerSecond,
            double etaSeconds, double trainLoss, double lr) {
        Progress p = new Progress();
        p.attempt = attempt;
        p.epoch = epoch;
        p.totalEpochs = epochs;
        p.step = step;
        p.stepsPerEpoch = stepsPerEpoch;
        p.globalStep = globalStep;
        long totalIterations = Math.max(1, (long) epochs * stepsPerEpoch);
        long done = (long) epoch * stepsPerEpoch + step;
        p.percent = Math.round(1000.0 * done / totalIterations) / 10.0;
        p.imagesPerSecond = Math.round(imagesPerSecond * 10) / 10.0;
        p.etaSeconds = Double.isFinite(etaSeconds) ? Math.round(etaSeconds) : null;
        p.trainLoss = finiteOrNull(trainLoss);
        p.lr = lr;
        p.updateTime = Instant.now().toString();
        return p;
    }

    void progress(Progress p) {
        status.progress(p);
    }

    void epochEnd(Progress p, EvalStatus eval) {
        status.epochEnd(p, eval);
    }

    /** {@code location}: the model file's path, or its object's URL (CheckpointStore.locationOf). */
    void checkpoint(int epoch, String location) {
        CheckpointStatus c = new CheckpointStatus();
        c.epoch = epoch;
        c.path = location;
        c.time = Instant.now().toString();
        status.checkpoint(c);
    }

    /** The final summary as the container's termination message (the status subresource has it too). */
    void finished(String json) {
        TerminationMessage.write(json);
    }

    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    @Override
    public void close() {
        status.close();
    }
}
