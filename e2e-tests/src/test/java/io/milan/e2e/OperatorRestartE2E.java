package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Deleting the operator pod while a run trains: the training pods keep running, the Deployment's new operator
 * adopts the run (no second Job, no gang restart) and the run succeeds with its status intact.
 */
class OperatorRestartE2E extends E2ETestBase {
    private static final String RUN = "survivor";
    private static final int EPOCHS = 3;

    @Test
    void deletingTheOperatorPodMidRunLeavesTheRunRunning() {
        runs.prepareData();
        client.resources(MilanPretrain.class).resource(runs.pretrain(RUN, EPOCHS)).create();
        RunHistory history = new RunHistory(RUN, () -> runs.pretrainStatus(RUN), () -> runs.jobs(RUN));
        RunStatus before = history.until("training under way", Runs.RUN_TIMEOUT,
                s -> s.phase == RunPhase.Running && s.progress != null && s.progress.globalStep >= 1
                        && s.progress.epoch < EPOCHS - 1);
        Set<String> trainerPods = names(runs.pods(RUN));

        List<Pod> operators = Operator.pods(cluster.admin);
        Set<String> old = names(operators);
        System.out.printf("deleting operator pod(s) %s at epoch %d step %d%n", old, before.progress.epoch,
                before.progress.step);
        operators.forEach(p -> cluster.admin.pods().resource(p).delete());
        Await.until("a new ready operator pod", Duration.ofMinutes(5), () -> Operator.pods(cluster.admin),
                pods -> pods.stream().anyMatch(p -> Operator.ready(p) && !old.contains(p.getMetadata().getName())));

        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT);
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(RUN);
        assertEquals(RunPhase.Succeeded, end.phase, "the run did not survive the operator restart: " + end.message
                + context);
        assertEquals(Set.of(before.podGroup), history.jobNames(), "no duplicate Job" + context);
        assertEquals(1, end.attempt, "attempt" + context);
        assertEquals(0, end.restarts, "restarts" + context);
        assertEquals(before.startTime, end.startTime, "status.startTime kept" + context);
        assertEquals(trainerPods, names(runs.pods(RUN)), "the same trainer pods ran to the end" + context);
        QuickstartE2E.assertNonDecreasing(history.progressEpochs(), context);
        assertTrue(end.checkpoint != null && end.checkpoint.epoch == EPOCHS - 1, "last checkpoint" + context);
    }

    private static Set<String> names(List<Pod> pods) {
        return pods.stream().map(p -> p.getMetadata().getName()).collect(Collectors.toCollection(java.util.TreeSet::new));
    }
}
