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

    static Pod pod(String name, String phase) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewStatus().withPhase(phase)
                .endStatus().build();
    }
}
