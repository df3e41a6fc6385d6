package io.milan.operator.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.milan.api.AttemptFailure;
import io.milan.api.FailureClass;
import java.util.List;
import org.junit.jupiter.api.Test;

class GangFailureTest {
    private final Job running = new JobBuilder().withNewMetadata().withName("r-a1").endMetadata().build();

    @Test
    void aRunningGroupHasNoFailure() {
        assertTrue(GangFailure.detect(running, List.of(pod("r-a1-0-x", "Running"), pod("r-a1-1-y", "Running")))
                .isEmpty());
    }

    @Test
    void theFailedPodIsNamedWithItsReasonExitCodeAndTerminationMessage() {
        Pod failed = new PodBuilder(pod("r-a1-1-y", "Failed")).editStatus().addNewContainerStatus()
                .withName("trainer").withNewState().withNewTerminated().withReason("OOMKilled").withExitCode(137)
                .withMessage("{\"epoch\": 3,\n \"error\": \"out of memory\"}").endTerminated().endState()
                .endContainerStatus().endStatus().build();
        GangFailure f = GangFailure.detect(running, List.of(pod("r-a1-0-x", "Running"), failed)).orElseThrow();
        assertEquals("r-a1-1-y", f.podName());
        assertEquals("pod r-a1-1-y failed: OOMKilled (exit code 137): {\"epoch\": 3, \"error\": \"out of memory\"}",
                f.summary());
    }

    @Test
    void aJobFailureConditionCountsWhenNoPodIsLeftToName() {
        Job failed = new JobBuilder(running).withNewStatus().addNewCondition().withType("Failed").withStatus("True")
                .withReason("BackoffLimitExceeded").withMessage("Job has reached the specified backoff limit")
                .endCondition().endStatus().build();
        GangFailure f = GangFailure.detect(failed, List.of()).orElseThrow();
        assertEquals("Job r-a1 failed: BackoffLimitExceeded (Job has reached the specified backoff limit)",
                f.summary());
    }

    @Test
    void aLongTerminationMessageIsShortened() {
        Pod failed = new PodBuilder(pod("p", "Failed")).editStatus().addNewContainerStatus().withName("trainer")
                .withNewState().withNewTerminated().withExitCode(1).withMessage("x".repeat(5000)).endTerminated()
                .endState().endContainerStatus().endStatus().build();
        String d = GangFailure.detect(running, List.of(failed)).orElseThrow().summary();
        assertTrue(d.length() < 500, d.length() + " chars");
        assertTrue(d.endsWith("..."));
    }

    @Test
    void podsStoppedBecauseKueueSuspendedTheJobAreNoFailure() {
        Job suspended = new JobBuilder(running).withNewSpec().withSuspend(true).endSpec().build();
        Pod sigterm = failed("r-a1-0-x", 143, "2026-01-01T00:00:10Z");
        assertTrue(GangFailure.stoppedBySuspension(suspended, sigterm));
        assertTrue(GangFailure.detect(suspended, List.of(sigterm)).isEmpty(), "an eviction, not a gang failure");
        GangFailure whileRunning = GangFailure.detect(running, List.of(sigterm)).orElseThrow();
        assertEquals("r-a1-0-x", whileRunning.podName(), "143 while the Job runs ends the attempt");
        assertEquals(FailureClass.Disruption, whileRunning.failureClass(), "someone deleted the pod: a disruption");
        assertTrue(GangFailure.detect(suspended, List.of(failed("r-a1-0-x", 75, "2026-01-01T00:00:10Z")))
                .isEmpty(), "the trainer's own disrupted code is Kueue's eviction too");
        Pod crashed = failed("r-a1-0-x", 1, "2026-01-01T00:00:10Z");
        assertTrue(GangFailure.detect(suspended, List.of(crashed)).isPresent(), "a crash stays a failure");
    }

    @Test
    void aPodThatEndedBeforeTheJobWasResumedBelongsToTheEviction() {
        Job resumed = new JobBuilder(running).withNewSpec().withSuspend(false).endSpec().withNewStatus()
                .addNewCondition().withType("Suspended").withStatus("False").withReason("JobResumed")
                .withLastTransitionTime("2026-01-01T00:01:00Z").endCondition().endStatus().build();
        assertTrue(GangFailure.detect(resumed, List.of(failed("old", 143, "2026-01-01T00:00:10Z"))).isEmpty());
        assertTrue(GangFailure.detect(resumed, List.of(failed("new", 143, "2026-01-01T00:02:00Z"))).isPresent(),
                "after the resume a SIGTERM ends the attempt again");
    }

    @Test
    void theConfigurationExitCodeIsAConfigurationErrorAndWinsOverTheOtherPods() {
        GangFailure f = GangFailure.detect(running, List.of(failed("r-a1-0-x", 1, null),
                failed("r-a1-1-y", 78, null), failed("r-a1-2-z", 75, null))).orElseThrow();
        assertEquals(FailureClass.Configuration, f.failureClass(), "no restart can fix a bad flag or dataset");
        assertEquals("r-a1-1-y", f.podName());
        assertEquals(78, f.exitCode());
    }

    @Test
    void aRealFailureIsNotHiddenByThePodsTheJobControllerStoppedAfterIt() {
        // backoffLimit 0: the Job fails with the crashed pod, and the controller deletes the others (SIGTERM, 75).
        GangFailure f = GangFailure.detect(running, List.of(failed("r-a1-0-x", 75, null),
                failed("r-a1-1-y", 1, null))).orElseThrow();
        assertEquals(FailureClass.Failure, f.failureClass());
        assertEquals("r-a1-1-y", f.podName());
        assertEquals(1, f.exitCode());
    }

    @Test
    void aRunningPodMarkedForDisruptionEndsTheAttemptAsADisruptionBeforeItIsTerminated() {
        // A drain: the eviction API sets DisruptionTarget, then deletes the pod, which runs on for its grace period.
        Pod drained = new PodBuilder(pod("r-a1-1-y", "Running")).editStatus().addNewCondition()
                .withType("DisruptionTarget").withStatus("True").withReason("EvictionByEvictionAPI")
                .withMessage("Eviction API: evicting").endCondition().endStatus().build();
        GangFailure f = GangFailure.detect(running, List.of(pod("r-a1-0-x", "Running"), drained)).orElseThrow();
        assertEquals(FailureClass.Disruption, f.failureClass());
        assertEquals("r-a1-1-y", f.podName());
        assertNull(f.exitCode());
        assertEquals("pod r-a1-1-y is being disrupted: DisruptionTarget (EvictionByEvictionAPI): Eviction API:"
                + " evicting", f.summary());
        Job suspended = new JobBuilder(running).withNewSpec().withSuspend(true).endSpec().build();
        assertTrue(GangFailure.detect(suspended, List.of(drained)).isEmpty(),
                "a suspended Job's pods are being stopped by Kueue's eviction: the same Job resumes");
    }

    @Test
    void aDisruptedPodIsADisruptionWhateverItExitedWith() {
        Pod killed = new PodBuilder(failed("r-a1-0-x", 137, null)).editStatus().addNewCondition()
                .withType("DisruptionTarget").withStatus("True").withReason("PreemptionByScheduler").endCondition()
                .endStatus().build();
        assertEquals(FailureClass.Disruption, GangFailure.detect(running, List.of(killed)).orElseThrow()
                .failureClass(), "SIGKILL after the grace period of a preempted pod");
        assertEquals(FailureClass.Disruption, GangFailure.detect(running, List.of(failed("p", 75, null)))
                .orElseThrow().failureClass(), "the trainer honoured a SIGTERM");
        Pod evicted = new PodBuilder(pod("p", "Failed")).editStatus().withReason("Evicted")
                .withMessage("The node was low on resource: memory.").endStatus().build();
        assertEquals(FailureClass.Disruption, GangFailure.detect(running, List.of(evicted)).orElseThrow()
                .failureClass(), "the kubelet's node-pressure eviction");
        assertEquals(FailureClass.Failure, GangFailure.detect(running, List.of(failed("p", 137, null)))
                .orElseThrow().failureClass(), "137 alone is the OOM killer's");
    }

    @Test
    void aJobFailedByItsPodFailurePolicyIsClassifiedByTheExitCodeItQuotes() {
        GangFailure f = GangFailure.detect(failedByPolicy("Container trainer for pod ns/r-a1-0-x failed with exit"
                + " code 78 matching FailJob rule at index 0"), List.of()).orElseThrow();
        assertEquals(FailureClass.Configuration, f.failureClass());
        assertEquals(78, f.exitCode());
        assertEquals("r-a1-0-x", f.podName(), "the message names the pod that is gone");
        assertEquals("Job r-a1 failed: PodFailurePolicy (Container trainer for pod ns/r-a1-0-x failed with exit code"
                + " 78 matching FailJob rule at index 0)", f.summary());

        GangFailure stopped = GangFailure.detect(failedByPolicy("Container trainer for pod ns/r-a1-1-y failed with"
                + " exit code 75 matching FailJob rule at index 2"), List.of()).orElseThrow();
        assertEquals(FailureClass.Disruption, stopped.failureClass(), "the trainer stopped on SIGTERM");
        assertEquals(75, stopped.exitCode());
        assertEquals("r-a1-1-y", stopped.podName());

        GangFailure crashed = GangFailure.detect(failedByPolicy("Container trainer for pod ns/r-a1-1-y failed with"
                + " exit code 1 matching FailJob rule at index 3"), List.of()).orElseThrow();
        assertEquals(FailureClass.Failure, crashed.failureClass());
        assertEquals(1, crashed.exitCode());
    }

    @Test
    void aJobFailedByTheDisruptionTargetRuleIsADisruptionWhenThePodIsGone() {
        // A drain on a real node: the kubelet removed the evicted pod before the operator read it.
        GangFailure f = GangFailure.detect(failedByPolicy("Pod e2e/drain-a1-1-bmdkv has condition DisruptionTarget"
                + " matching FailJob rule at index 1"), List.of()).orElseThrow();
        assertEquals(FailureClass.Disruption, f.failureClass());
        assertEquals("drain-a1-1-bmdkv", f.podName());
        assertNull(f.exitCode());
        assertTrue(f.summary().contains("has condition DisruptionTarget"), f.summary());
    }

    @Test
    void aJobConditionOfAnyOtherReasonIsAFailure() {
        Job deadline = new JobBuilder(running).withNewStatus().addNewCondition().withType("Failed")
                .withStatus("True").withReason("DeadlineExceeded").withMessage("Job was active longer than specified"
                        + " deadline with exit code 75").endCondition().endStatus().build();
        GangFailure f = GangFailure.detect(deadline, List.of()).orElseThrow();
        assertEquals(FailureClass.Failure, f.failureClass(), "only the policy's own messages are read for a class");
        assertNull(f.exitCode());
    }

    @Test
    void aPodStillThereIsReadBeforeTheJobCondition() {
        // The Job condition quotes the first pod the Job controller matched; the pods, while there, say more.
        Job job = failedByPolicy("Pod ns/r-a1-1-y has condition DisruptionTarget matching FailJob rule at index 1");
        GangFailure f = GangFailure.detect(job, List.of(failed("r-a1-0-x", 1, null))).orElseThrow();
        assertEquals(FailureClass.Failure, f.failureClass());
        assertEquals("r-a1-0-x", f.podName());
    }

    /** A Job whose FailJob rule matched: the interim FailureTarget condition, as the Job controller writes it. */
    private Job failedByPolicy(String message) {
        return new JobBuilder(running).withNewStatus().addNewCondition().withType("FailureTarget")
                .withStatus("True").withReason("PodFailurePolicy").withMessage(message).endCondition().endStatus()
                .build();
    }

    @Test
    void theStatusRecordCarriesTheClassPodAndExitCode() {
        AttemptFailure a = GangFailure.detect(running, List.of(failed("r-a1-0-x", 78, null))).orElseThrow()
                .asStatus(3, "2026-01-01T00:00:00Z");
        assertEquals(3, a.attempt);
        assertEquals(FailureClass.Configuration, a.failureClass);
        assertEquals(78, a.exitCode);
        assertEquals("r-a1-0-x", a.pod);
        assertEquals("pod r-a1-0-x failed (exit code 78)", a.message);
        assertEquals("2026-01-01T00:00:00Z", a.time);
    }

    private static Pod failed(String name, int exitCode, String finishedAt) {
        return new PodBuilder(pod(name, "Failed")).editStatus().addNewContainerStatus().withName("trainer")
                .withNewState().withNewTerminated().withExitCode(exitCode).withFinishedAt(finishedAt)
                .endTerminated().endState().endContainerStatus().endStatus().build();
    }

    static Pod pod(String name, String phase) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewStatus().withPhase(phase)
                .endStatus().build();
    }
}
