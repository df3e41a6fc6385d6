package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import io.milan.testsupport.Kwok;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** spec.suspend removes the pods and keeps the run resumable; a Kueue queue holds the Job until admission. */
@WithLocalCluster
class SuspendAndQueueIT {
    private static KubernetesClient client;
    private static InProcessOperator operator;

    @BeforeAll
    static void start(KubernetesClient c, TestCluster cluster) {
        client = c;
        operator = InProcessOperator.startRestricted(client, cluster.namespace());
    }

    @AfterAll
    static void stop() {
        operator.close();
    }

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

    @Test
    void aQueuedRunWaitsSuspendedUntilKueueAdmitsTheJob() {
        MilanPretrain run = TestRuns.pretrain("queued", 1);
        run.getSpec().queueName = "team-a-gpus";
        // A queued Job has a podFailurePolicy: its pods must end terminal when deleted, as a kubelet makes them.
        run.getSpec().env = List.of(new EnvVar(Kwok.SIGTERM_EXIT_ENV, "143", null));
        client.resource(run).create();

        RunStatus queued = awaitPhase(client, MilanPretrain.class, "queued", RunPhase.Queued);
        assertTrue(queued.message.contains("team-a-gpus"), queued.message);
        Job job = Cluster.job(client, "queued-a1");
        assertEquals(Boolean.TRUE, job.getSpec().getSuspend(), "created suspended");
        assertEquals("team-a-gpus", job.getMetadata().getLabels().get("kueue.x-k8s.io/queue-name"));
        assertTrue(Cluster.podsOf(client, "queued-a1").isEmpty(), "no pods before admission");

        // Admission, as Kueue does it: unsuspend the Job.
        client.batch().v1().jobs().withName("queued-a1")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":false}}");
        RunStatus running = awaitPhase(client, MilanPretrain.class, "queued", RunPhase.Running);
        assertEquals(1, running.attempt);
        assertEquals("queued-a1", running.podGroup);
    }

    private static void setSuspend(String name, boolean value) {
        client.resources(MilanPretrain.class).withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + value + "}}");
    }
}
