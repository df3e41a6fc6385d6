package io.milan.trainer.train;

import io.milan.api.Progress;
import io.milan.trainer.optim.GradScaler;

/**
 * Per-iteration progress shared by the training loops: throughput and ETA, the status report (rank 0) and a
 * stdout line every {@link #PRINT_FREQ} iterations and at the last one of an epoch.
 */
final class StepProgress {
    static final int PRINT_FREQ = 20;

    private final RunReporter reporter;
    private final boolean primary;
    private final int epochs;
    private final long imagesPerIteration;
    private final GradScaler scaler;
    private int epoch;
    private int iterations;
    private long epochStart;

    /** @param imagesPerIteration images one iteration consumes over all processes */
    StepProgress(RunReporter reporter, boolean primary, int epochs, long imagesPerIteration) {
        this(reporter, primary, epochs, imagesPerIteration, null);
    }

    /** @param scaler the loss scaler (--amp fp16), whose scale and skipped steps the stdout line shows; or null */
    StepProgress(RunReporter reporter, boolean primary, int epochs, long imagesPerIteration, GradScaler scaler) {
        this.scaler = scaler;
        this.reporter = reporter;
        this.primary = primary;
        this.epochs = epochs;
        this.imagesPerIteration = imagesPerIteration;
    }

    void startEpoch(int epoch, int iterations) {
        this.epoch = epoch;
        this.iterations = iterations;
        this.epochStart = System.nanoTime();
    }

    /** After iteration {@code it} (0-based) of the epoch; {@code loss} is its loss, {@code meanLoss} the epoch's. */
    void afterIteration(int it, long globalStep, double loss, double meanLoss, double lr) {
        if (!primary) {
            return;
        }
        double seconds = (System.nanoTime() - epochStart) / 1e9;
        double imagesPerSecond = (it + 1) * (double) imagesPerIteration / seconds;
        double eta = (seconds / (it + 1)) * ((long) (epochs - epoch) * iterations - it - 1);
        Progress p = reporter.progress(epoch, it + 1, iterations, globalStep, imagesPerSecond, eta, meanLoss, lr);
        reporter.progress(SkippedSteps.report(p, scaler));
        if (it % PRINT_FREQ == 0 || it + 1 == iterations) {
            System.out.println(new ProgressLine(epoch, epochs, it, iterations, lr, loss, meanLoss, imagesPerSecond,
                    eta, scaler == null ? Double.NaN : scaler.scaleValue(), scaler == null ? -1
                            : scaler.skippedSteps()).format());
        }
    }

    /** Images per second of the epoch so far (over all processes). */
    double imagesPerSecond(int iterationsDone) {
        double seconds = (System.nanoTime() - epochStart) / 1e9;
        return iterationsDone * (double) imagesPerIteration / seconds;
    }
}
