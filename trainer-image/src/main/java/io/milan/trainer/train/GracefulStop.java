package io.milan.trainer.train;

import io.milan.api.TrainerExitCodes;
import io.milan.trainer.checkpoint.CheckpointPolicy;
import io.milan.trainer.dist.DistConfig;
import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.dist.Sigterm;
import io.milan.trainer.dist.StopAgreement;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM honoured by the training loop, by every rank at the same point (docs/trainer.md, Stopping on SIGTERM).
 * There are two ways to stop:
 * <ul>
 * <li><b>At the epoch end</b>, after its checkpoint, when the checkpoint policy saves one there and it fits in the
 * grace period: the epoch's remaining steps at its mean step time so far, plus the previous epoch end's duration
 * (evaluation and checkpoint) in this process, within half the grace period left (the rest is the margin for
 * estimates and exit). Without a measured epoch end there is no estimate, so this is not tried. The ranks agree
 * through the epoch end's own all-reduce, which carries a stop flag.</li>
 * <li><b>At a step boundary</b> otherwise, as soon as the rank with the signal sees it no longer fits (it looks
 * again at every step): the loop writes a mid-epoch checkpoint there ({@link MidEpochSaves}), and the resumed run
 * continues with the next step, losing none. The ranks agree through the job's TCPStore ({@link StopAgreement}).</li>
 * </ul>
 * The grace period is the pod's terminationGracePeriodSeconds, from {@link TrainerExitCodes#GRACE_PERIOD_ENV}
 * (Kubernetes' default of 30 s without it). A stop at the run's last epoch end is just the end of the run.
 */
final class GracefulStop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);
    static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);

    private final DistConfig dist;
    private final StopAgreement agreement;
    private final Sigterm.Listening listening;
    private final CheckpointPolicy policy;
    private final int epochs;
    private final Duration grace;
    /** System.nanoTime() when SIGTERM arrived; 0 before. */
    private volatile long signalled;

    private int epoch;
    private int stepsInEpoch;
    private long epochStarted;
    private long lastStepAt;
    private Duration lastEpochEnd;
    private long stoppedAfter = -1;
    /** --stop_after_steps (a test hook): every rank stops after this step; 0 = never. */
    private final long stopAfterSteps;

    private GracefulStop(DistConfig dist, StopAgreement agreement, CheckpointPolicy policy, int epochs,
            Duration grace, long stopAfterSteps) {
        this.stopAfterSteps = stopAfterSteps;
        this.dist = dist;
        this.agreement = agreement;
        this.policy = policy;
        this.epochs = epochs;
        this.grace = grace;
        this.listening = Sigterm.listen(() -> signalled = Math.max(1, System.nanoTime()));
    }

    /** Listens for SIGTERM from now until closed (before, SIGTERM ends the process with 143). */
    static GracefulStop start(ProcessGroup group, CheckpointPolicy policy, int epochs) {
        return start(group, policy, epochs, 0);
    }

    /** As above; with {@code stopAfterSteps} > 0 every rank also stops after that global step, as on SIGTERM. */
    static GracefulStop start(ProcessGroup group, CheckpointPolicy policy, int epochs, long stopAfterSteps) {
        Duration grace = graceFrom(System.getenv());
        StopAgreement agreement = StopAgreement.join(group.config());
        try {
            return new GracefulStop(group.config(), agreement, policy, epochs, grace, stopAfterSteps);
        } catch (RuntimeException e) {
            agreement.close();
            throw e;
        }
    }

    static Duration graceFrom(Map<String, String> env) {
        String value = env.get(TrainerExitCodes.GRACE_PERIOD_ENV);
        if (value == null || value.isBlank()) {
            return DEFAULT_GRACE;
        }
        try {
            long seconds = Long.parseLong(value.trim());
            if (seconds >= 0) {
                return Duration.ofSeconds(seconds);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(TrainerExitCodes.GRACE_PERIOD_ENV + " must be a whole number of seconds"
                + " >= 0 (the pod's terminationGracePeriodSeconds), got '" + value + "'");
    }

    /** An epoch of {@code steps} optimizer steps begins. */
    void startEpoch(int epoch, int steps) {
        this.epoch = epoch;
        this.stepsInEpoch = steps;
        this.epochStarted = System.nanoTime();
        this.lastStepAt = epochStarted;
    }

    /**
     * At the step boundary after {@code globalStep}, the {@code stepInEpoch}-th step (1-based) of the epoch: whether
     * every rank stops here. Call on every rank at every step boundary.
     */
    boolean stopAfterStep(long globalStep, int stepInEpoch) {
        long now = System.nanoTime();
        lastStepAt = now;
        if (globalStep == stopAfterSteps) {
            stopped(globalStep, "inside epoch " + epoch + " (--stop_after_steps), after its mid-epoch checkpoint");
            return true;
        }
        if (signalled != 0 && !agreement.proposed() && !epochEndFits(stepInEpoch, now)) {
            LOG.info("SIGTERM: the epoch's end does not fit in the grace period ({} s); stopping every rank at a step"
                    + " boundary of epoch {}, with a mid-epoch checkpoint", grace.toSeconds(), epoch);
            agreement.propose(globalStep);
        }
        long agreed = agreement.agreedStep(globalStep);
        if (agreed >= 0 && agreed == globalStep) {
            stopped(globalStep, "inside epoch " + epoch + ", after its mid-epoch checkpoint");
            return true;
        }
        return false;
    }

    /** 1 when this rank wants the run to stop (it got SIGTERM, or read a peer's stop), for the epoch end's sum. */
    double stopFlag() {
        return signalled != 0 || agreement.isAgreed() ? 1 : 0;
    }

    /**
     * After the epoch end's all-reduce: with {@code summedFlags} > 0 some rank wants to stop, and every rank stops
     * after this epoch end's work (its checkpoint), unless it was the run's last epoch.
     */
    boolean stopAtEpochEnd(double summedFlags, int epoch, long globalStep) {
        if (summedFlags > 0 && epoch + 1 < epochs) {
            stopped(globalStep, "at the end of epoch " + epoch + ", after its checkpoint if the policy saves one");
            return true;
        }
        return false;
    }

    /** The epoch end's work (evaluation, checkpoint, log) is done: its duration is the next estimate's. */
    void epochEndDone() {
        lastEpochEnd = Duration.ofNanos(System.nanoTime() - lastStepAt);
    }

    /** The step every rank stopped after, or -1 when the run was not stopped. */
    long stoppedAfter() {
        return stoppedAfter;
    }

    private void stopped(long globalStep, String where) {
        stoppedAfter = globalStep;
        LOG.info("SIGTERM: rank {} of {} stops after step {}, {}", dist.rank(), dist.worldSize(), globalStep, where);
    }

    private boolean epochEndFits(int stepInEpoch, long now) {
        if (!policy.shouldSave(epoch, epochs) || lastEpochEnd == null || stepInEpoch < 1) {
            return false;
        }
        double stepNanos = (double) (now - epochStarted) / stepInEpoch;
        double needed = (stepsInEpoch - stepInEpoch) * stepNanos + lastEpochEnd.toNanos();
        double left = grace.toNanos() - (now - signalled);
        return needed <= left / 2;
    }

    @Override
    public void close() {
        listening.close();
        agreement.close();
    }
}
