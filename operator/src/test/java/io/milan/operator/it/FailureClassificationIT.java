package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitRunningPods;
import static io.milan.operator.it.Cluster.awaitStatus;
import static io.milan.operator.it.Cluster.nameOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.milan.api.FailureClass;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.TrainerExitCodes;
import io.milan.operator.lifecycle.JobConditions;
import io.milan.testsupport.Await;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What ended an attempt decides what follows, against the real control plane with kwok pods: the trainer's
 * configuration exit code fails the run at once; a disruption (a drained pod, the trainer's disrupted exit code)
 * restarts the gang without counting a restart, also when its pods are gone by the time the operator looks (the
 * Job's podFailurePolicy condition says what ended them); any other failure restarts it with backoff and counts. The
 * status says which class ended the attempt.
 */
@WithLocalCluster
class FailureClassificationIT extends RestrictedOperatorIT {

    @Test
    void theTrainersConfigurationExitCodeFailsTheRunAtOnceWithoutARestart() {
        MilanPretrain run = TestRuns.pretrain("misconfigured", 2);
        run.getSpec().restartPolicy.maxRestarts = 3;
        client.resource(run).create();
        awaitPhase(client, MilanPretrain.class, "misconfigured", RunPhase.Running);

        Pod rank1 = awaitRunningPods(client, "misconfigured-a1", 2).get(1);
        Cluster.endPod(client, rank1, "Failed", TrainerExitCodes.CONFIGURATION);

        RunStatus failed = awaitPhase(client, MilanPretrain.class, "misconfigured", RunPhase.Failed);
        assertEquals(0, failed.restarts, "restarts were left, but none could help");
        assertEquals(1, failed.attempt);
        assertEquals("ConfigurationError", RunLifecycleIT.reason(failed, "Failed"));
        assertTrue(failed.message.contains("pod " + nameOf(rank1) + " failed") && failed.message.contains(
                "exit code 78 is the trainer's configuration error"), failed.message);
        assertEquals(FailureClass.Configuration, failed.lastFailure.failureClass);
        assertEquals(TrainerExitCodes.CONFIGURATION, failed.lastFailure.exitCode);
        assertEquals(nameOf(rank1), failed.lastFailure.pod);
        assertEquals(1, failed.lastFailure.attempt);
        assertNull(Cluster.job(client, "misconfigured-a2"), "no second attempt");
    }

    @Test
    void aDrainedPodOfARunningJobRestartsTheGangWithoutCountingARestart() {
        MilanPretrain run = TestRuns.pretrain("drained", 2);
        run.getSpec().restartPolicy.maxRestarts = 0; // a counted restart would fail the run
        client.resource(run).create();
        awaitPhase(client, MilanPretrain.class, "drained", RunPhase.Running);

        // What the eviction API (kubectl drain) does first: it marks the pod; the kubelet then gives the trainer
        // its grace period to stop at a step boundary. The Job is not suspended: this is no Kueue eviction.
        Pod rank1 = awaitRunningPods(client, "drained-a1", 2).get(1);
        client.pods().resource(rank1).editStatus(p -> new PodBuilder(p).editStatus().addNewCondition()
                .withType("DisruptionTarget").withStatus("True").withReason("EvictionByEvictionAPI")
                .withMessage("Eviction API: evicting").withLastTransitionTime(Instant.now().toString())
                .endCondition().endStatus().build());

        RunStatus second = awaitStatus(client, MilanPretrain.class, "drained", "attempt 2 running",
                s -> s.attempt == 2 && s.phase == RunPhase.Running);
        assertEquals(0, second.restarts, "a disruption is no restart");
        assertEquals(FailureClass.Disruption, second.lastFailure.failureClass);
        assertEquals(1, second.lastFailure.attempt);
        assertEquals(nameOf(rank1), second.lastFailure.pod);
        assertTrue(second.lastFailure.message.contains("DisruptionTarget (EvictionByEvictionAPI)"),
                second.lastFailure.message);
        Await.until("Job drained-a1 deleted", Cluster.TIMEOUT, () -> Cluster.job(client, "drained-a1"),
                j -> j == null);
        Await.until("a Disrupted event", Cluster.TIMEOUT, () -> eventReasons("drained"), r -> r.contains("Disrupted"));

        // The other ranks of a drained gang stop at the step every rank agreed on, with the disrupted exit code.
        Pod rank0 = awaitRunningPods(client, "drained-a2", 2).get(0);
        Cluster.endPod(client, rank0, "Failed", TrainerExitCodes.DISRUPTED);
        RunStatus third = awaitStatus(client, MilanPretrain.class, "drained", "attempt 3 running",
                s -> s.attempt == 3 && s.phase == RunPhase.Running);
        assertEquals(0, third.restarts);
        assertEquals(FailureClass.Disruption, third.lastFailure.failureClass);
        assertEquals(TrainerExitCodes.DISRUPTED, third.lastFailure.exitCode);
        assertEquals(2, third.lastFailure.attempt);
    }

    @Test
    void aDrainThatTookTheOperatorAlongIsStillADisruptionWhenThePodsAreGone(TestCluster cluster) {
        MilanPretrain run = TestRuns.pretrain("unseen", 2);
        run.getSpec().restartPolicy.maxRestarts = 0; // a counted restart would fail the run
        // The evicted pod ends Failed with 143 before it goes, as a real kubelet ends a SIGTERMed trainer (TestRuns).
        client.resource(run).create();
        awaitPhase(client, MilanPretrain.class, "unseen", RunPhase.Running);
        Pod rank1 = awaitRunningPods(client, "unseen-a1", 2).get(1);

        // The drain evicts the operator's pod too (NodeDrainE2E saw it on Kind): no one watches while the evicted
        // trainer ends, its Job fails and the Job controller lets the pods go.
        operator.close();
        try {
            assertTrue(client.pods().resource(rank1).evict(), "the eviction API refused");
            Job failed = Await.until("Job unseen-a1 failed, its pods gone", Cluster.TIMEOUT,
                    () -> Cluster.job(client, "unseen-a1"), j -> j != null && JobConditions.failure(j).isPresent()
                            && Cluster.podsOf(client, "unseen-a1").isEmpty());
            JobCondition condition = JobConditions.failure(failed).orElseThrow();
            assertEquals("PodFailurePolicy", condition.getReason(), condition.getMessage());
            assertTrue(condition.getMessage().contains(nameOf(rank1)), condition.getMessage());
        } finally {
            operator = InProcessOperator.startRestricted(client, cluster.namespace());
        }

        RunStatus second = awaitStatus(client, MilanPretrain.class, "unseen", "attempt 2 running",
                s -> s.attempt == 2 && s.phase == RunPhase.Running);
        assertEquals(0, second.restarts, "the Job's condition says disruption: no restart is counted");
        assertEquals(FailureClass.Disruption, second.lastFailure.failureClass);
        assertEquals(nameOf(rank1), second.lastFailure.pod, "named by the Job's condition");
        assertEquals(1, second.lastFailure.attempt);
        assertTrue(second.lastFailure.message.startsWith("Job unseen-a1 failed: PodFailurePolicy"),
                second.lastFailure.message);
    }

    @Test
    void anyOtherFailureRestartsTheGangAndCountsARestart() {
        MilanPretrain run = TestRuns.pretrain("crashed", 1);
        run.getSpec().restartPolicy.maxRestarts = 2;
        client.resource(run).create();
        awaitPhase(client, MilanPretrain.class, "crashed", RunPhase.Running);

        Pod rank0 = awaitRunningPods(client, "crashed-a1", 1).get(0);
        Cluster.endPod(client, rank0, "Failed", TrainerExitCodes.FAILURE);

        RunStatus second = awaitStatus(client, MilanPretrain.class, "crashed", "attempt 2 running",
                s -> s.attempt == 2 && s.phase == RunPhase.Running);
        assertEquals(1, second.restarts);
        assertEquals(FailureClass.Failure, second.lastFailure.failureClass);
        assertEquals(TrainerExitCodes.FAILURE, second.lastFailure.exitCode);
        assertEquals(nameOf(rank0), second.lastFailure.pod);
        assertEquals(1, second.lastFailure.attempt);
        Await.until("a GangRestart event", Cluster.TIMEOUT, () -> eventReasons("crashed"),
                r -> r.contains("GangRestart"));
    }

    private static List<String> eventReasons(String run) {
        return client.v1().events().list().getItems().stream()
                .filter(e -> run.equals(e.getInvolvedObject().getName()))
                .map(Event::getReason).toList();
    }
}
