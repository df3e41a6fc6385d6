package io.milan.trainer.optim;

/**
 * The reference's per-iteration learning rate ({@code util/lr_sched.adjust_learning_rate}): linear warmup
 * from 0 over {@code warmupEpochs}, then half-cosine from {@code baseLr} down to {@code minLr} at
 * {@code epochs}. The epoch argument is fractional: {@code epoch + it / len(loader)}.
 */
public record CosineSchedule(double baseLr, double minLr, double warmupEpochs, double epochs) {

    public CosineSchedule {
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) {
            throw new IllegalArgumentException("lr must be a finite value >= 0, got " + baseLr);
        }
        if (!(minLr >= 0) || minLr > baseLr) {
            throw new IllegalArgumentException("min_lr must be in [0, lr=" + baseLr + "], got " + minLr);
        }
        if (!(epochs > 0) || Double.isInfinite(epochs)) {
            throw new IllegalArgumentException("epochs must be a finite value > 0, got " + epochs);
        }
        if (!(warmupEpochs >= 0 && warmupEpochs < epochs)) {
            throw new IllegalArgumentException("warmup_epochs must be in [0, epochs=" + epochs + "), got "
                    + warmupEpochs);
        }
    }

    /** The learning rate at fractional epoch {@code epoch} (before any per-group lr scale). */
    public double lrAt(double epoch) {
        if (epoch < warmupEpochs) {
            return baseLr * epoch / warmupEpochs;
        }
        double progress = (epoch - warmupEpochs) / (epochs - warmupEpochs);
        return minLr + (baseLr - minLr) * 0.5 * (1.0 + Math.cos(Math.PI * progress));
    }

    /**
     * The absolute learning rate: {@code lr} when given, else {@code blr × effectiveBatch / 256}, where the
     * effective batch is per-device batch × accumulation steps × world size (reference main_*.py).
     */
    public static double absoluteLr(Double lr, double blr, int batchPerDevice, int accumIter, int worldSize) {
        if (lr != null) {
            return lr;
        }
        long effectiveBatch = (long) batchPerDevice * accumIter * worldSize;
        return blr * effectiveBatch / 256.0;
    }
}
