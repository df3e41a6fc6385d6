package io.milan.api;

/** What ended an attempt of a run, and so what the operator does next (docs/operator.md, Failure classes). */
public enum FailureClass {
    /**
     * The pods were stopped from outside: a DisruptionTarget condition (eviction, node drain, preemption), the
     * trainer's disrupted exit code or SIGTERM's 143. The gang restarts from its latest checkpoint at once;
     * {@code restarts} does not grow.
     */
    Disruption,
    /**
     * The trainer's configuration exit code: a bad flag, a missing dataset, an unusable checkpoint. The run fails
     * at once, without restarts.
     */
    Configuration,
    /** Anything else: the gang restarts with backoff, counted against spec.restartPolicy.maxRestarts. */
    Failure
}
