package io.milan.trainer.dist;

import io.milan.trainer.dist.c10d.C10dStore;
import java.time.Duration;

/**
 * How the ranks of a job agree on the optimizer step to stop after, when some of them got SIGTERM (a node drain
 * stops one pod; a Kueue eviction all of them, not at the same instant). A rank that stopped alone would leave the
 * others waiting in the next gradient all-reduce until the timeout, so all must stop after the same step. The
 * agreement goes through the job's TCPStore, outside the collectives, which are untouched while no one stops:
 * <ol>
 * <li>A rank with a SIGTERM, at a step boundary after step g, proposes g + {@value #MARGIN}; of the ranks that
 * propose, the first to bump the counter {@code milan/stop/requests} writes its proposal to {@code milan/stop/step}
 * (a counter: only one rank ever adds to it).</li>
 * <li>Every rank reads {@code milan/stop/step} at every step boundary and stops after that step.</li>
 * </ol>
 * The margin is what makes every rank read the step before passing it: the gradient all-reduce of step g + 1
 * needs the proposer, which writes before it starts that step, so no rank finishes step g + 2 (its forward waits for
 * step g + 1's update) before the proposal is there; it reads it at that boundary at the latest. A rank that finds
 * itself past the agreed step fails loudly rather than hang.
 *
 * <p>A one-process job agrees with itself: it stops after the step it proposes.
 */
public final class StopAgreement implements AutoCloseable {
    /** Steps between a proposal and the stop, for the other ranks to read it (see above). */
    public static final int MARGIN = 2;
    static final String REQUESTS = "milan/stop/requests";
    static final String STEP = "milan/stop/step";
    private static final Duration STORE_TIMEOUT = Duration.ofSeconds(3);

    private final DistConfig config;
    private final C10dStore store; // null for one process
    private boolean proposed;
    private long agreed = -1;

    private StopAgreement(DistConfig config, C10dStore store) {
        this.config = config;
        this.store = store;
    }

    /** For the job of {@code config}; the group (and so rank 0's TCPStore) must exist already. */
    public static StopAgreement join(DistConfig config) {
        if (config.worldSize() == 1) {
            return new StopAgreement(config, null);
        }
        return new StopAgreement(config, C10dStore.connect(config.masterAddr(), config.masterPort(), STORE_TIMEOUT));
    }

    /** Whether this rank has proposed a stop (once is enough). */
    public boolean proposed() {
        return proposed;
    }

    /**
     * Proposes to stop, at the step boundary after {@code step}: after {@code step + MARGIN}, or after {@code step}
     * itself in a one-process job. The first proposal of any rank wins.
     */
    public void propose(long step) {
        if (proposed) {
            return;
        }
        proposed = true;
        if (store == null) {
            agreed = step;
            return;
        }
        if (store.add(REQUESTS, 1) == 1) {
            store.add(STEP, step + MARGIN); // > 0: 0 means no proposal yet
        }
    }

    /** Whether this rank has read (or, alone, made) an agreed stop step. */
    public boolean isAgreed() {
        return agreed >= 0;
    }

    /**
     * Called at every step boundary, after {@code step}: the step every rank stops after, once some rank proposed
     * one, else -1. Throws if this rank is already past it (the margin did not hold), rather than hang.
     */
    public long agreedStep(long step) {
        if (agreed < 0 && store != null) {
            long value;
            try {
                value = store.add(STEP, 0);
            } catch (RuntimeException storeGone) {
                return -1; // rank 0 is gone: the next collective fails and says so
            }
            if (value > 0) {
                agreed = value;
            }
        }
        if (agreed >= 0 && step > agreed) {
            throw new DistributedException("rank " + config.rank() + " of " + config.worldSize() + " read the agreed"
                    + " stop after step " + agreed + " only after step " + step + "; the ranks cannot stop together");
        }
        return agreed;
    }

    @Override
    public void close() {
        if (store != null) {
            store.close();
        }
    }
}
