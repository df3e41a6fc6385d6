package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicy;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyRule;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyRuleBuilder;
import io.milan.api.TrainerExitCodes;
import io.milan.operator.lifecycle.GangFailure;
import java.util.List;

/**
 * The pod group Job's {@code podFailurePolicy}: what the Job controller does with a failed pod, and what the Job's
 * own failure condition says about it. That condition is all that is left once the pods are gone: a real kubelet
 * removes an evicted pod seconds after it exits (a drain that also evicted the operator, a slow or restarted
 * operator), and lifecycle/GangFailure then classifies the attempt from it.
 *
 * <p>Every Job fails at once, naming the pod, on the trainer's configuration exit code and on any other failure
 * code ({@code FailJob}: the condition's reason is {@code PodFailurePolicy}, its message quotes the container's exit
 * code or the pod's condition). A disruption (the pod's DisruptionTarget condition, or its trainer stopped on SIGTERM
 * with 75 or 143):
 * <ul>
 * <li>outside Kueue fails the Job too ({@code FailJob}), so the condition names it and the operator restarts the
 * whole gang from its checkpoint without counting a restart. {@code Ignore} would let the Job controller replace the
 * one pod, which would join the old rendezvous;</li>
 * <li>in a Kueue queue is ignored: Kueue evicts by suspending the Job, whose pods the Job controller then deletes
 * (their trainers stop on SIGTERM); counting them would fail the Job and with it the Workload, which could never be
 * admitted again. The suspended Job stays resumable, and the operator tells the eviction from a failed pod
 * (GangFailure#stoppedBySuspension).</li>
 * </ul>
 * The rules need the pod template's {@code restartPolicy: Never} (JobRenderer), and make the Job controller wait for a
 * deleted pod to end (Failed) before it counts it: a real kubelet ends it after SIGTERM, kwok only with the env var
 * {@code KWOK_SIGTERM_EXIT_CODE} (e2e/README.md).
 */
public final class FailurePolicy {
    /** The exit codes no rule matches in full: success and the classified ones. */
    private static final List<Integer> CLASSIFIED = List.of(0, TrainerExitCodes.DISRUPTED,
            TrainerExitCodes.CONFIGURATION, TrainerExitCodes.SIGTERM);

    private FailurePolicy() {
    }

    /** The rules of a pod group's Job; {@code queued}: the Job is admitted by Kueue (spec.queueName). */
    public static PodFailurePolicy of(boolean queued) {
        String disruption = queued ? "Ignore" : "FailJob";
        // First match wins per pod: the configuration code before a disruption (no restart can fix a bad flag), a
        // disruption before the exit code a SIGKILL after the grace period leaves (137).
        return new PodFailurePolicyBuilder()
                .addToRules(exitCodes("FailJob", "In", List.of(TrainerExitCodes.CONFIGURATION)))
                .addNewRule().withAction(disruption)
                    .addNewOnPodCondition().withType(GangFailure.DISRUPTION_TARGET).withStatus("True")
                    .endOnPodCondition()
                .endRule()
                .addToRules(exitCodes(disruption, "In", List.of(TrainerExitCodes.DISRUPTED, TrainerExitCodes.SIGTERM)))
                // Any other code: the Job fails as it would on backoffLimit 0, but its condition names pod and code.
                .addToRules(exitCodes("FailJob", "NotIn", CLASSIFIED))
                .build();
    }

    private static PodFailurePolicyRule exitCodes(String action, String operator, List<Integer> codes) {
        return new PodFailurePolicyRuleBuilder().withAction(action)
                .withNewOnExitCodes().withContainerName(JobRenderer.CONTAINER).withOperator(operator)
                    .withValues(codes).endOnExitCodes()
                .build();
    }
}
