package io.milan.trainer.train;

import io.milan.api.Progress;
import io.milan.trainer.optim.GradScaler;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the loops report of float16 loss scaling (--amp fp16): a warning per skipped step (inf/NaN gradients; not
 * the non-finite-loss failure, training goes on), the epoch's skipped steps and the scale in log.txt
 * ({@code train_skipped_steps}, {@code train_loss_scale}), the run's count and the scale in status.progress
 * ({@code skippedSteps}, {@code lossScale}), and the scaler's state in checkpoints.
 */
final class SkippedSteps {
    private static final Logger LOG = LoggerFactory.getLogger(SkippedSteps.class);

    private SkippedSteps() {
    }

    /** Rank 0, after a skipped step. */
    static void log(int epoch, int iteration, double scaleBefore, GradScaler scaler) {
        LOG.warn("Gradient overflow (inf/NaN) at epoch {}, iteration {}: optimizer step skipped, loss scale {} -> {}"
                + " ({} skipped in this run)", epoch, iteration, scale(scaleBefore), scale(scaler.scaleValue()),
                scaler.skippedSteps());
    }

    /** A scale as the progress line shows it: a whole number while it is one (powers of two), else as is. */
    static String scale(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** Checkpoint metadata: the scaler's state under {@link ResumeSync#SCALER}, or nothing without a scaler. */
    static Map<String, String> metadata(GradScaler scaler) {
        return scaler == null ? Map.of() : Map.of(ResumeSync.SCALER, scaler.stateJson());
    }

    /** Puts the run's skipped steps and the scale into a status report (left out without a scaler); returns it. */
    static Progress report(Progress p, GradScaler scaler) {
        if (scaler != null) {
            p.skippedSteps = scaler.skippedSteps();
            p.lossScale = scaler.scaleValue();
        }
        return p;
    }

    /** Adds the epoch's skipped steps and the scale at its end to a log.txt line (nothing without a scaler). */
    static void addStats(Map<String, Object> stats, GradScaler scaler, long skippedBeforeEpoch) {
        if (scaler != null) {
            stats.put("train_loss_scale", scaler.scaleValue());
            stats.put("train_skipped_steps", scaler.skippedSteps() - skippedBeforeEpoch);
        }
    }
}
