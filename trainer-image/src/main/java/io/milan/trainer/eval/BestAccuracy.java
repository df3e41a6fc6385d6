package io.milan.trainer.eval;

/**
 * The reference's "Max accuracy": the best top-1 accuracy seen so far and the epoch it came from.
 * ({@code max_accuracy = max(max_accuracy, test_stats["acc1"])}, starting from 0.)
 */
public final class BestAccuracy {

    private double best;
    private int epoch = -1;

    /** Starts from nothing seen (best 0, no epoch). */
    public BestAccuracy() {
    }

    /** Continues a run whose best so far was {@code acc1} at {@code epoch}. */
    public BestAccuracy(double acc1, int epoch) {
        if (!(acc1 >= 0 && acc1 <= 100)) {
            throw new IllegalArgumentException("accuracy must be a percentage in [0, 100], got " + acc1);
        }
        this.best = acc1;
        this.epoch = epoch;
    }

    /** Records an epoch's top-1 accuracy; true when it is a new best (strictly higher). */
    public boolean update(int epoch, double acc1) {
        if (!(acc1 >= 0 && acc1 <= 100)) {
            throw new IllegalArgumentException("epoch " + epoch + ": accuracy must be a percentage in [0, 100], got "
                    + acc1);
        }
        if (this.epoch >= 0 && acc1 <= best) {
            return false;
        }
        best = acc1; // the first update always counts: best starts at 0 and acc1 >= 0
        this.epoch = epoch;
        return true;
    }

    /** Best top-1 accuracy in percent (0 before any update). */
    public double best() {
        return best;
    }

    /** Epoch of the best accuracy, -1 before any update. */
    public int epoch() {
        return epoch;
    }
}
