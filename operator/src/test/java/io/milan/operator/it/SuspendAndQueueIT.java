package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import io.milan.testsupport.WithLocalCluster;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * spec.suspend removes the pods and keeps the run resumable. (Queueing is tested with the real Kueue in KueueIT: a
 * hand-made admission here, unsuspending a queued Job, is undone by Kueue when it runs in the shared cluster.)
 */
@WithLocalCluster
class SuspendAndQueueIT extends RestrictedOperatorIT {
    @Test
    void suspendingRemovesThePodsAndResumingStartsTheNextAttempt() {
        client.resource(TestRuns.pretrain("pausable", 2)).create();
        awaitPhase(client, MilanPretrain.class, "pausable", RunPhase.Running);

        setSuspend("pausable", true);
        RunStatus suspended = awaitPhase(client, MilanPretrain.class, "pausable", RunPhase.Suspended);
        assertEquals("True", RunLifecycleIT.condition(suspended, "Suspended"));
        assertEquals("False", RunLifecycleIT.condition(suspended, "Ready"));
        Await.until("pods and Job of pausable removed", Cluster.TIMEOUT,
                () -> client.pods().withLabel("milan.io/run", "pausable").list().getItems().size()
                        + Cluster.jobsOfRun(client, "pausable").size(), n -> n == 0);
        assertEquals(RunPhase.Suspended, Cluster.status(client, MilanPretrain.class, "pausable").phase,
                "stays Suspended with nothing left to run");

        setSuspend("pausable", false);
        RunStatus resumed = awaitStatus(client, MilanPretrain.class, "pausable", "running again",
                s -> s.phase == RunPhase.Running && s.attempt == 2);
        assertEquals(0, resumed.restarts, "a suspension is not a failure");
        assertEquals("pausable-a2", resumed.podGroup);
        Job job = Cluster.job(client, "pausable-a2");
        List<String> args = job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
        assertEquals("auto", args.get(args.indexOf("--resume") + 1), "resumes from the latest checkpoint");
    }

    private static void setSuspend(String name, boolean value) {
        client.resources(MilanPretrain.class).withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + value + "}}");
    }
}
