package io.milan.trainer.train;

import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.dist.SaveAgreement;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * When a mid-epoch checkpoint is due, decided the same way on every rank at every step boundary:
 * {@code --save_every_steps N} after every N-th optimizer step of the run (every rank counts the same steps), and
 * {@code --save_every_minutes M} once M minutes have passed since the last checkpoint of any kind on rank 0's clock,
 * announced to the others through {@link SaveAgreement} (they save a couple of steps later, all at the same step).
 * 0 turns either off.
 */
final class SaveCadence implements AutoCloseable {
    private final boolean primary;
    private final long everySteps;
    private final long everyNanos;
    private final SaveAgreement agreement; // null when not time-based
    private final LongSupplier clock;
    private long lastSaved;

    SaveCadence(boolean primary, long everySteps, Duration every, SaveAgreement agreement, LongSupplier clock) {
        if (everySteps < 0 || every.isNegative()) {
            throw new IllegalArgumentException("checkpoint cadence must be >= 0, got " + everySteps + " steps, "
                    + every);
        }
        this.primary = primary;
        this.everySteps = everySteps;
        this.everyNanos = every.toNanos();
        this.agreement = agreement;
        this.clock = clock;
        this.lastSaved = clock.getAsLong();
    }

    /** The run's cadence from the flags; joins the save agreement only for a time-based one. */
    static SaveCadence start(ProcessGroup group, long everySteps, double everyMinutes) {
        Duration every = Duration.ofNanos(Math.round(everyMinutes * 60e9));
        SaveAgreement agreement = every.isZero() ? null : SaveAgreement.join(group.config());
        return new SaveCadence(group.isPrimary(), everySteps, every, agreement, System::nanoTime);
    }

    /** At the step boundary after {@code globalStep}, on every rank: whether every rank saves a checkpoint here. */
    boolean dueAfterStep(long globalStep) {
        boolean byTime = false;
        if (agreement != null) {
            if (primary && !agreement.pending() && clock.getAsLong() - lastSaved >= everyNanos) {
                agreement.announce(globalStep);
            }
            byTime = agreement.saveAfter(globalStep);
        }
        return byTime || (everySteps > 0 && globalStep % everySteps == 0);
    }

    /** A checkpoint (epoch-end or mid-epoch) was just taken: the time-based interval starts again. */
    void saved() {
        lastSaved = clock.getAsLong();
    }

    @Override
    public void close() {
        if (agreement != null) {
            agreement.close();
        }
    }
}
