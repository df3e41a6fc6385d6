package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/**
 * Status of both kinds. Two writers, each owning its own fields: the operator writes everything except
 * {@code progress}, {@code eval} and {@code checkpoint}, which rank 0 of the trainer writes by server-side apply.
 * Everything the operator needs after a restart is here (attempt, restart times, pod group name). The schema
 * defaults the status to {@code {observedGeneration: 0}} (crdgen/MilanCrdPostProcessor), so a run the operator has
 * not reconciled yet reads as not observed to kstatus and Argo CD.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class RunStatus {
    @JsonPropertyDescription("metadata.generation the operator last acted on; 0 (the schema's default) until"
            + " the operator first writes the status.")
    public Long observedGeneration;

    @JsonPropertyDescription("Pending, Queued, Running, Restarting, Suspended, Succeeded or Failed.")
    public RunPhase phase;

    @JsonPropertyDescription("Ready, Queued, Running, Restarting, Suspended, Succeeded and Failed conditions, and"
            + " kstatus's Reconciling (True while Pending, Queued, Running or Restarting) and Stalled (True when"
            + " Failed); lastTransitionTime changes only when a condition's status does.")
    public List<Condition> conditions;

    @JsonPropertyDescription("Human-readable summary of the current state.")
    public String message;

    @JsonPropertyDescription("Current attempt of the pod group, 1-based: each gang restart and each resume after"
            + " a suspension starts a new one (a new Job).")
    public Integer attempt;

    @JsonPropertyDescription("The last attempt whose end the operator has acted on (its failure counted in restarts,"
            + " or its pods removed for a suspension). Failures reported for that attempt's Job afterwards, e.g. by a"
            + " cache that has not yet seen its deletion, are not counted again.")
    public Integer endedAttempt;

    @JsonPropertyDescription("Gang restarts after a pod failure so far (bounded by spec.restartPolicy.maxRestarts);"
            + " resuming a suspended run is not one, nor is a restart after a disruption (lastFailure.class"
            + " Disruption).")
    public Integer restarts;

    @JsonPropertyDescription("How the latest attempt that did not succeed ended, and its class: Disruption,"
            + " Configuration or Failure.")
    public AttemptFailure lastFailure;

    @JsonPropertyDescription("When the pod group was first created (RFC 3339); run-shaping spec fields are"
            + " immutable from then on.")
    public String startTime;

    @JsonPropertyDescription("Seconds the pod group was admitted and unsuspended in the stretches that have ended,"
            + " over all attempts: what spec.activeDeadlineSeconds bounds, together with the time since activeSince."
            + " Queueing, suspension and the wait between attempts do not count.")
    public Long activeSeconds;

    @JsonPropertyDescription("Since when the current attempt's pod group has been admitted and unsuspended (RFC"
            + " 3339); absent while it is queued, suspended, between attempts or ended.")
    public String activeSince;

    @JsonPropertyDescription("When the run Succeeded or Failed (RFC 3339).")
    public String completionTime;

    @JsonPropertyDescription("When the current gang restart is due, while Restarting (RFC 3339).")
    public String nextRestartTime;

    @JsonPropertyDescription("Name of the current attempt's Job (the pod group).")
    public String podGroup;

    @JsonPropertyDescription("Trainer processes in the group (WORLD_SIZE): nodes x processes per pod, one per GPU"
            + " (one on a CPU pod).")
    public Integer worldSize;

    @JsonPropertyDescription("Images per optimizer step: batchSize x devices per node x nodes x accumIter.")
    public Integer effectiveBatchSize;

    @JsonPropertyDescription("Learning rate in use: lr if set, else blr x effectiveBatchSize / 256.")
    public Double effectiveLr;

    @JsonPropertyDescription("Checkpoint the fine-tuning starts from (resolved from spec.pretrained).")
    public String pretrainedCheckpoint;

    @JsonPropertyDescription("The claim mounted for pretrainedCheckpoint (the MilanPretrain's output), recorded with it:"
            + " later attempts start from the same checkpoint even after the MilanPretrain is gone.")
    public StorageLocation pretrainedVolume;

    @JsonPropertyDescription("Training progress, written by the trainer.")
    public Progress progress;

    @JsonPropertyDescription("Latest evaluation, written by the trainer (fine-tuning and linear probing).")
    public EvalStatus eval;

    @JsonPropertyDescription("Newest checkpoint, written by the trainer.")
    public CheckpointStatus checkpoint;
}
