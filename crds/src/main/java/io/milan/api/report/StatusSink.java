package io.milan.api.report;

/** Where reports go; {@link KubernetesStatusSink} in a cluster. */
public interface StatusSink {
    /** The trainer-owned fields currently in the run's status (to keep what an earlier attempt reported). */
    TrainerFields read(RunReference run) throws Exception;

    /** Applies exactly these fields to the run's status. */
    void apply(RunReference run, TrainerFields fields) throws Exception;
}
