package io.milan.trainer.optim;

/**
 * The reference stops training when the loss is not finite ({@code sys.exit(1)} after "Loss is nan,
 * stopping training"). These checks throw {@link NonFiniteException} with a message that says where it
 * happened; the training loop lets it end the run without writing a checkpoint for the broken epoch.
 */
public final class NonFiniteCheck {

    private NonFiniteCheck() {
    }

    /** Throws unless {@code loss} is finite. */
    public static double requireFiniteLoss(double loss, int epoch, int iteration, double lr) {
        if (!Double.isFinite(loss)) {
            throw new NonFiniteException(String.format(java.util.Locale.ROOT,
                    "Loss is %s at epoch %d, iteration %d (lr %.6g); stopping training. No checkpoint is written for"
                            + " this epoch; the last saved checkpoint is kept.", loss, epoch, iteration, lr));
        }
        return loss;
    }

    /** Throws unless the global gradient norm is finite. */
    public static double requireFiniteGradNorm(double norm, int epoch, int iteration) {
        if (!Double.isFinite(norm)) {
            throw new NonFiniteException(String.format(java.util.Locale.ROOT,
                    "Gradient norm is %s at epoch %d, iteration %d; stopping training before the optimizer step."
                            + " No checkpoint is written for this epoch; the last saved checkpoint is kept.",
                    norm, epoch, iteration));
        }
        return norm;
    }

    /** Training produced a NaN or infinite value. */
    public static final class NonFiniteException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public NonFiniteException(String message) {
            super(message);
        }
    }
}
