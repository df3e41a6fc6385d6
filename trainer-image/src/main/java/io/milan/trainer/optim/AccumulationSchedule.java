package io.milan.trainer.optim;

/**
 * Gradient-accumulation boundaries as in the reference's engine loops, for one epoch of
 * {@code itersPerEpoch} micro-batches:
 * <ul>
 *   <li>zero the gradients at the start of every epoch;</li>
 *   <li>set the learning rate at the first micro-batch of each group ({@code it % accum == 0});</li>
 *   <li>divide the loss by {@code accum} and back-propagate every micro-batch;</li>
 *   <li>step (then zero) when {@code (it + 1) % accum == 0}.</li>
 * </ul>
 * A trailing partial group (when {@code accum} does not divide the epoch) is back-propagated but never
 * stepped: its gradient is dropped by the next epoch's zeroing.
 */
public record AccumulationSchedule(int accumIter, int itersPerEpoch) {

    public AccumulationSchedule {
        if (accumIter < 1) {
            throw new IllegalArgumentException("accum_iter must be >= 1, got " + accumIter);
        }
        if (itersPerEpoch < 1) {
            throw new IllegalArgumentException("iterations per epoch must be >= 1, got " + itersPerEpoch
                    + " (is the dataset smaller than one batch?)");
        }
    }

    /** Whether micro-batch {@code it} starts an accumulation group, where the learning rate is set. */
    public boolean setsLearningRate(int it) {
        return it % accumIter == 0;
    }

    /** Whether the optimizer steps after micro-batch {@code it}. */
    public boolean isStepBoundary(int it) {
        return (it + 1) % accumIter == 0;
    }

    /** Whether micro-batch {@code it} is in the trailing partial group whose gradient is discarded. */
    public boolean isDiscarded(int it) {
        return it >= optimizerStepsPerEpoch() * accumIter;
    }

    /** The factor the loss is multiplied by before backward ({@code loss /= accum_iter}). */
    public double lossScale() {
        return 1.0 / accumIter;
    }

    /** Optimizer steps per epoch. */
    public int optimizerStepsPerEpoch() {
        return itersPerEpoch / accumIter;
    }

    /** The schedule's fractional epoch at micro-batch {@code it}: {@code epoch + it / itersPerEpoch}. */
    public double fractionalEpoch(int epoch, int it) {
        return epoch + (double) it / itersPerEpoch;
    }
}
