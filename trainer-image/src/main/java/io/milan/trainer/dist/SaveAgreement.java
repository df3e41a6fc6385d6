package io.milan.trainer.dist;

import io.milan.trainer.dist.c10d.C10dStore;
import java.time.Duration;

/**
 * How the ranks agree on the optimizer step after which to write a time-triggered mid-epoch checkpoint: every rank
 * must take part in it (their epoch sums are gathered there), but only rank 0's clock decides when one is due. As in
 * {@link StopAgreement}, through the job's TCPStore and outside the collectives: rank 0, at the step boundary after
 * step g, announces g + {@value StopAgreement#MARGIN} in {@code milan/save/step} (it alone writes that counter, so
 * the value is the newest announcement); every rank reads it at every step boundary and saves after that step. The
 * margin holds for the reason given there: no rank can finish step g + 1 before rank 0, which wrote first, joined its
 * gradient all-reduce.
 *
 * <p>A one-process job saves after the step at which it decides.
 */
public final class SaveAgreement implements AutoCloseable {
    static final String STEP = "milan/save/step";
    private static final Duration STORE_TIMEOUT = Duration.ofSeconds(3);

    private final DistConfig config;
    private final C10dStore store; // null for one process
    /** The newest announced step (0: none yet); rank 0 knows it, the others read it. */
    private long announced;
    /** The newest announced step this rank has saved after. */
    private long done;

    private SaveAgreement(DistConfig config, C10dStore store) {
        this.config = config;
        this.store = store;
    }

    /** For the job of {@code config}; the group (and so rank 0's TCPStore) must exist already. */
    public static SaveAgreement join(DistConfig config) {
        if (config.worldSize() == 1) {
            return new SaveAgreement(config, null);
        }
        return new SaveAgreement(config, C10dStore.connect(config.masterAddr(), config.masterPort(), STORE_TIMEOUT));
    }

    /** Whether a save is announced that this rank has not reached yet (rank 0 then does not announce another). */
    public boolean pending() {
        return announced > done;
    }

    /** Rank 0, at the step boundary after {@code step}: announces the step every rank saves after. */
    public void announce(long step) {
        if (config.rank() != 0) {
            throw new IllegalStateException("only rank 0 announces a checkpoint step");
        }
        long target = store == null ? step : step + StopAgreement.MARGIN;
        if (store != null) {
            store.add(STEP, target - announced);
        }
        announced = target;
    }

    /**
     * At every step boundary, after {@code step}, on every rank: whether every rank saves here. Throws if this rank
     * is already past an announced step it did not save after (the margin did not hold), rather than diverge.
     */
    public boolean saveAfter(long step) {
        if (store != null && config.rank() != 0) {
            try {
                announced = store.add(STEP, 0);
            } catch (RuntimeException storeGone) {
                return false; // rank 0 is gone: the next collective fails and says so
            }
        }
        if (announced <= done) {
            return false;
        }
        if (step > announced) {
            throw new DistributedException("rank " + config.rank() + " of " + config.worldSize() + " read the agreed"
                    + " checkpoint after step " + announced + " only after step " + step
                    + "; the ranks cannot save together");
        }
        if (step == announced) {
            done = announced;
            return true;
        }
        return false;
    }

    @Override
    public void close() {
        if (store != null) {
            store.close();
        }
    }
}
