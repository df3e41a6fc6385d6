package io.milan.trainer.eval;

import java.util.Locale;

/**
 * Evaluation totals that add up across batches and ranks (counts and sums, never means), mirroring how the
 * reference's MetricLogger meters are summed by {@code synchronize_between_processes}: top-1/top-5 hits are
 * weighted by sample, the loss is the mean of the per-batch mean losses (the reference updates its loss meter
 * once per batch).
 *
 * <p>Across ranks: {@code allReduceSum(acc.counts())} and {@code allReduceSum(new double[] {acc.lossSum()})},
 * then {@link #fromTotals}.
 */
public final class EvalAccumulator {

    /** Indices into {@link #counts()}. */
    public static final int SAMPLES = 0;
    public static final int TOP1 = 1;
    public static final int TOP5 = 2;
    public static final int BATCHES = 3;

    private long samples;
    private long top1;
    private long top5;
    private long batches;
    private double lossSum;

    /** Adds one batch: its top-k result, labels, and mean loss (e.g. cross-entropy over the batch). */
    public void add(TopK topK, long[] labels, double batchMeanLoss) {
        if (!Double.isFinite(batchMeanLoss)) {
            throw new IllegalArgumentException("evaluation loss of batch " + batches + " is " + batchMeanLoss);
        }
        top1 += topK.correct(labels, 1);
        top5 += topK.correct(labels, 5);
        samples += labels.length;
        batches++;
        lossSum += batchMeanLoss;
    }

    /** {samples, top-1 hits, top-5 hits, batches}: sum these across ranks. */
    public long[] counts() {
        return new long[] {samples, top1, top5, batches};
    }

    /** Sum of the per-batch mean losses: sum it across ranks. */
    public double lossSum() {
        return lossSum;
    }

    /** An accumulator holding summed totals (e.g. after the all-reduce). */
    public static EvalAccumulator fromTotals(long[] counts, double lossSum) {
        if (counts.length != 4) {
            throw new IllegalArgumentException("expected 4 counts {samples, top1, top5, batches}, got "
                    + counts.length);
        }
        EvalAccumulator a = new EvalAccumulator();
        a.samples = counts[SAMPLES];
        a.top1 = counts[TOP1];
        a.top5 = counts[TOP5];
        a.batches = counts[BATCHES];
        a.lossSum = lossSum;
        return a;
    }

    /** This plus {@code other} (what summing across ranks gives). */
    public EvalAccumulator plus(EvalAccumulator other) {
        long[] a = counts();
        long[] b = other.counts();
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
        return fromTotals(a, lossSum + other.lossSum);
    }

    /** The metrics; fails when nothing was evaluated. */
    public Result result() {
        if (samples == 0 || batches == 0) {
            throw new IllegalStateException("no evaluation samples were accumulated");
        }
        return new Result(100.0 * top1 / samples, 100.0 * top5 / samples, lossSum / batches, samples);
    }

    /**
     * @param acc1    top-1 accuracy in percent
     * @param acc5    top-5 accuracy in percent
     * @param loss    mean of the batch losses
     * @param samples images evaluated
     */
    public record Result(double acc1, double acc5, double loss, long samples) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "* Acc@1 %.3f Acc@5 %.3f loss %.3f (%d images)", acc1, acc5, loss,
                    samples);
        }
    }
}
