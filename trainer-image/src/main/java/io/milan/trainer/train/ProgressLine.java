package io.milan.trainer.train;

import java.util.Locale;

/**
 * A stdout progress line in the style of the reference's {@code MetricLogger.log_every}, plus throughput:
 * <pre>
 * Epoch: [3/400]  [ 120/625]  eta: 0:01:35  lr: 0.000240  loss: 0.6123 (0.6400)  img/s: 312.5
 * </pre>
 * (loss shows the recent value and, in parentheses, the epoch average; eta is for the rest of the epoch,
 * formatted like Python's {@code timedelta}). With float16 loss scaling ({@code --amp fp16}) it ends with the loss
 * scale and the optimizer steps skipped so far for inf/NaN gradients: {@code  loss_scale: 65536  skipped: 0}.
 *
 * @param epoch 0-based epoch
 * @param iteration 0-based micro-batch within the epoch
 * @param lossScale the loss scale, or NaN without loss scaling
 * @param skippedSteps steps skipped by the loss scaler in this run so far, or -1 without loss scaling
 */
public record ProgressLine(int epoch, int epochs, int iteration, int itersPerEpoch, double lr, double loss,
        double averageLoss, double imagesPerSecond, double etaSeconds, double lossScale, long skippedSteps) {

    /** A line without loss scaling. */
    public ProgressLine(int epoch, int epochs, int iteration, int itersPerEpoch, double lr, double loss,
            double averageLoss, double imagesPerSecond, double etaSeconds) {
        this(epoch, epochs, iteration, itersPerEpoch, lr, loss, averageLoss, imagesPerSecond, etaSeconds, Double.NaN,
                -1);
    }

    public String format() {
        int width = Integer.toString(itersPerEpoch).length();
        String line = String.format(Locale.ROOT, "Epoch: [%d/%d]  [%" + width + "d/%d]  eta: %s  lr: %.6f  loss: %.4f"
                + " (%.4f)  img/s: %.1f", epoch, epochs, iteration, itersPerEpoch, timedelta(etaSeconds), lr, loss,
                averageLoss, imagesPerSecond);
        if (skippedSteps >= 0) {
            line += "  loss_scale: " + SkippedSteps.scale(lossScale) + "  skipped: " + skippedSteps;
        }
        return line;
    }

    /** Python's {@code str(timedelta(seconds=int(s)))}: {@code H:MM:SS}, or {@code N day(s), H:MM:SS}. */
    static String timedelta(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = (long) seconds;
        long days = s / 86400;
        long rest = s % 86400;
        String clock = String.format(Locale.ROOT, "%d:%02d:%02d", rest / 3600, (rest % 3600) / 60, rest % 60);
        if (days == 0) {
            return clock;
        }
        return days + (days == 1 ? " day, " : " days, ") + clock;
    }
}
