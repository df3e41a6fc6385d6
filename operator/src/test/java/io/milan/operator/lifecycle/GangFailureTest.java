package io.milan.operator.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
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
        assertTrue(GangFailure.isDisruption(suspended, sigterm));
        assertTrue(GangFailure.detect(suspended, List.of(sigterm)).isEmpty(), "an eviction, not a gang failure");
        assertEquals("r-a1-0-x", GangFailure.detect(running, List.of(sigterm)).orElseThrow().podName(),
                "143 while the Job runs is a failure");
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
                "after the resume a SIGTERM is a failure again");
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
