package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.milan.api.FailureClass;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code kubectl drain} of the node under one rank, mid-epoch, as an administrator does before maintenance: the
 * kubelet stops the evicted pod the way it stops any pod (SIGTERM, then the grace period), the operator restarts the
 * gang as a disruption (no restart counted). The operator is scaled to zero for the drain, as when the drain evicts
 * its pod too: it finds the attempt's Job failed, and tells the disruption from the Job's podFailurePolicy condition
 * and the pods left. The new attempt's pods avoid the cordoned node, resume after the last checkpoint from the
 * shared claim, and the run succeeds. The node is uncordoned afterwards, pass or fail.
 */
class NodeDrainE2E extends E2ETestBase {
    private static final String RUN = "drain";
    private static final int EPOCHS = 4;
    private String drained;

    @Test
    void drainingARanksNodeMidEpochResumesTheRunOnTheOtherNodes() {
        runs.prepareData();
        client.resources(MilanPretrain.class).resource(runs.pretrain(RUN, EPOCHS)).create();
        RunHistory history = new RunHistory(RUN, () -> runs.pretrainStatus(RUN), () -> runs.jobs(RUN));

        RunStatus before = history.until("a checkpoint, and the next epoch under way", Runs.RUN_TIMEOUT,
                RunHistory.midEpochAfterCheckpoint(EPOCHS));
        List<Pod> first = runs.pods(RUN);
        Pod victim = first.stream().filter(p -> p.getMetadata().getName().startsWith(before.podGroup + "-1-"))
                .filter(p -> "Running".equals(p.getStatus().getPhase())).findFirst()
                .orElseThrow(() -> new AssertionError("no Running rank-1 pod of " + before.podGroup));
        List<String> firstNodes = first.stream().map(p -> p.getSpec().getNodeName()).toList();
        assertEquals(2, firstNodes.stream().distinct().count(), "attempt 1's ranks are on two nodes: " + firstNodes);
        drained = victim.getSpec().getNodeName();
        System.out.printf("draining %s (under %s) at epoch %d step %d; last checkpoint: epoch %d; ranks on %s%n",
                drained, victim.getMetadata().getName(), before.progress.epoch, before.progress.step,
                before.checkpoint.epoch, firstNodes);
        // As when the drain evicts the operator's pod as well (it did on Kind): nobody watches while the evicted
        // trainer stops, so the operator finds the attempt over, and must tell a disruption from what is left.
        Map<String, Integer> replicas = scaleOperator(null);
        Await.until("no operator pod", Duration.ofMinutes(3), () -> Operator.pods(cluster.admin), List::isEmpty);
        try {
            var drain = cluster.kubectl(Duration.ofMinutes(5), "drain", drained, "--ignore-daemonsets",
                    "--delete-emptydir-data", "--timeout=240s");
            System.out.println(drain.stdout().strip());
            Job ended = Await.until("Job " + before.podGroup + " failed while no operator ran", Duration.ofMinutes(5),
                    () -> client.batch().v1().jobs().withName(before.podGroup).get(),
                    j -> failure(j) != null);
            System.out.printf("with the operator away, Job %s: %s (%s); pods left: %s%n", before.podGroup,
                    failure(ended).getReason(), failure(ended).getMessage(), runs.pods(RUN).stream()
                            .map(p -> p.getMetadata().getName() + " " + p.getStatus().getPhase()).toList());
        } finally {
            scaleOperator(replicas);
        }

        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT.plus(Duration.ofMinutes(5)));
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(RUN);
        assertEquals(RunPhase.Succeeded, end.phase, "the run did not succeed after the drain: " + end.message
                + context);
        assertEquals(2, end.attempt, "one gang restart for the drain" + context);
        // The drain may evict the operator too; by the time one reads the Job, the evicted pod can be gone. The Job's
        // podFailurePolicy condition still names the disruption (podgroup/FailurePolicy).
        assertEquals(0, end.restarts, "a drain is a disruption, not a counted restart" + context);
        assertNotNull(end.lastFailure, "the drained attempt's end is recorded" + context);
        assertEquals(FailureClass.Disruption, end.lastFailure.failureClass, end.lastFailure.message + context);
        assertEquals(1, end.lastFailure.attempt, context);
        System.out.printf("the drained attempt ended: %s%n", end.lastFailure.message);
        QuickstartE2E.assertNonDecreasing(history.progressEpochs(), context);

        List<Pod> second = runs.pods(RUN).stream()
                .filter(p -> p.getMetadata().getName().startsWith(end.podGroup + "-")).toList();
        assertEquals(2, second.size(), "attempt 2 has both ranks" + context);
        for (Pod p : second) {
            assertTrue(!drained.equals(p.getSpec().getNodeName()), p.getMetadata().getName()
                    + " was scheduled on the cordoned node " + drained + context);
            assertEquals("Succeeded", p.getStatus().getPhase(), p.getMetadata().getName() + context);
        }
        RunStatus resumed = history.firstProgressOf(2);
        assertNotNull(resumed, "no progress of attempt 2 was seen" + context);
        assertTrue(resumed.progress.epoch >= before.checkpoint.epoch + 1, "attempt 2 reported epoch "
                + resumed.progress.epoch + " first; the last checkpoint before the drain was of epoch "
                + before.checkpoint.epoch + context);
        assertEquals(EPOCHS - 1, end.checkpoint.epoch, "last checkpoint" + context);
        System.out.printf("after the drain: attempt 2 on %s, resumed at epoch %d, run %s%n",
                second.stream().map(p -> p.getSpec().getNodeName()).toList(), resumed.progress.epoch, end.phase);
    }

    /** Scales the operator's Deployments to 0 (null) or back to {@code replicas}; returns the replicas before. */
    private Map<String, Integer> scaleOperator(Map<String, Integer> replicas) {
        Map<String, Integer> before = new HashMap<>();
        for (Deployment d : cluster.admin.apps().deployments().inNamespace(Operator.NAMESPACE)
                .withLabel("app.kubernetes.io/name", "milan-operator").list().getItems()) {
            String name = d.getMetadata().getName();
            before.put(name, d.getSpec().getReplicas());
            cluster.admin.apps().deployments().inNamespace(Operator.NAMESPACE).withName(name)
                    .scale(replicas == null ? 0 : replicas.getOrDefault(name, 1));
        }
        return before;
    }

    /** The Job's FailureTarget or Failed condition, or null. */
    private static JobCondition failure(Job job) {
        if (job == null || job.getStatus() == null || job.getStatus().getConditions() == null) {
            return null;
        }
        return job.getStatus().getConditions().stream().filter(c -> "True".equals(c.getStatus())
                && ("Failed".equals(c.getType()) || "FailureTarget".equals(c.getType()))).findFirst().orElse(null);
    }

    @AfterAll
    void uncordon() {
        if (drained != null) {
            cluster.kubectl(Duration.ofMinutes(1), "uncordon", drained);
        }
    }
}
