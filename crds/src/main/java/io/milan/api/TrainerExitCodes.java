package io.milan.api;

/**
 * The exit codes the trainer reserves ({@code milan-trainer}, and its launcher, which passes a process's code on),
 * in one place for the trainer that exits with them and the operator that reads them from a failed pod's
 * container to tell what ended an attempt (docs/trainer.md, docs/operator.md). Any other non-zero code is a
 * generic failure, restarted with backoff.
 */
public final class TrainerExitCodes {
    /** A generic failure: a crash, a lost peer, a failed write. The operator restarts the gang with backoff. */
    public static final int FAILURE = 1;

    /**
     * The trainer stopped on SIGTERM (preemption, eviction, node drain, a Kueue eviction, or a peer's SIGTERM that
     * every rank agreed to honour) at a step boundary, after the checkpoint it had time for. The operator restarts
     * the gang from its latest checkpoint without counting a restart. sysexits.h's EX_TEMPFAIL.
     */
    public static final int DISRUPTED = 75;

    /**
     * The configuration cannot work: a bad flag or value, a missing or unreadable dataset, a checkpoint this run
     * cannot use. Restarting would fail the same way, so the operator fails the run at once. sysexits.h's
     * EX_CONFIG.
     */
    public static final int CONFIGURATION = 78;

    /**
     * What a process killed by SIGTERM without a handler exits with (128 + 15), as a JVM that has not yet
     * installed the trainer's handler: a disruption too.
     */
    public static final int SIGTERM = 143;

    /**
     * The environment variable with the pod's terminationGracePeriodSeconds: how long the trainer has between
     * SIGTERM and the kubelet's SIGKILL, to decide whether a checkpoint still fits.
     */
    public static final String GRACE_PERIOD_ENV = "MILAN_TERMINATION_GRACE_SECONDS";

    private TrainerExitCodes() {
    }

    /** Whether {@code exitCode} says the trainer was stopped rather than failed. */
    public static boolean isDisruption(int exitCode) {
        return exitCode == DISRUPTED || exitCode == SIGTERM;
    }
}
