package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.PretrainedSource;
import io.milan.api.RunPhase;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import io.milan.api.report.RunReference;
import io.milan.operator.status.RunConditions;
import io.milan.testsupport.Await;
import io.milan.testsupport.WithLocalCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Two live runs never share an output location (issue 21, defect 10): a run whose claim and sub-path another live
 * run writes to waits, Pending with the OutputInUse condition naming that run, and starts when that run ends or is
 * deleted; a run on another sub-path of the same claim is not held up. Each pod learns its run's UID, which the
 * trainer records in its checkpoints (a run recreated under the same name does not continue the old run's).
 */
@WithLocalCluster
class OutputSharingIT extends RestrictedOperatorIT {

    @AfterAll
    static void deleteVolumes() {
        Claims.deleteVolumes(client, client.getNamespace());
    }

    @Test
    void aRunWaitsWhileAnotherRunWritesToItsOutputAndStartsWhenThatOneEnds() {
        Claims.createBound(client, client.getNamespace(), "shared-out");
        client.resource(writingTo(TestRuns.pretrain("first", 1), "/output", "shared-out", null)).create();
        RunStatus first = awaitPhase(client, MilanPretrain.class, "first", RunPhase.Running);
        // Mounted elsewhere in its container, but the same directory on the claim.
        client.resource(writingTo(TestRuns.pretrain("second", 1), "/elsewhere", "shared-out", null)).create();
        // Another sub-path of the claim: a directory of its own.
        client.resource(writingTo(TestRuns.pretrain("beside", 1), "/output", "shared-out", "beside")).create();

        awaitPhase(client, MilanPretrain.class, "beside", RunPhase.Running);
        RunStatus waiting = awaitWaitingOrStarted(MilanPretrain.class, "second");
        assertNull(waiting.podGroup, "second must not start while MilanPretrain first writes to its output location;"
                + " it is " + waiting.phase + ": " + waiting.message);
        assertEquals(RunPhase.Pending, waiting.phase);
        Condition inUse = RunConditions.find(waiting.conditions, RunConditions.OUTPUT_IN_USE);
        assertEquals("True", inUse.getStatus());
        assertEquals("HeldByAnotherRun", inUse.getReason());
        assertTrue(inUse.getMessage().startsWith("spec.output (claim shared-out) is the output location of"
                + " MilanPretrain first (phase Running), which is writing there"), inUse.getMessage());
        assertEquals(inUse.getMessage(), waiting.message);
        assertTrue(Cluster.jobsOfRun(client, "second").isEmpty(), "no pod group while another run writes there");
        awaitWarning("second", "OutputInUse");

        // The pods learn their run's UID, which the trainer records in every checkpoint.
        String uid = Cluster.get(client, MilanPretrain.class, "first").getMetadata().getUid();
        EnvVar uidVar = Cluster.job(client, first.podGroup).getSpec().getTemplate().getSpec().getContainers().get(0)
                .getEnv().stream().filter(e -> e.getName().equals(RunReference.ENV_UID)).findFirst().orElseThrow();
        assertEquals(uid, uidVar.getValue());

        Cluster.completeAllPods(client, first.podGroup, 1);
        awaitPhase(client, MilanPretrain.class, "first", RunPhase.Succeeded);
        RunStatus started = awaitPhase(client, MilanPretrain.class, "second", RunPhase.Running);
        assertNull(RunConditions.find(started.conditions, RunConditions.OUTPUT_IN_USE), "gone once it runs");
    }

    @Test
    void aFinetuneOnAPretrainsOutputWaitsUntilThatPretrainIsDeleted() {
        Claims.createBound(client, client.getNamespace(), "kinds-out");
        client.resource(writingTo(TestRuns.pretrain("holder", 1), "/output", "kinds-out", "runs/a")).create();
        awaitPhase(client, MilanPretrain.class, "holder", RunPhase.Running);
        MilanFinetune finetune = writingTo(TestRuns.finetune("follower", "unused"), "/output", "kinds-out",
                "runs/a/");
        finetune.getSpec().pretrained = new PretrainedSource();
        finetune.getSpec().pretrained.checkpoint = new StorageLocation("/opt/milan/teachers/t.safetensors", null);
        client.resource(finetune).create();

        RunStatus waiting = awaitWaitingOrStarted(MilanFinetune.class, "follower");
        assertNull(waiting.podGroup, "follower must not start while MilanPretrain holder writes to its output"
                + " location; it is " + waiting.phase + ": " + waiting.message);
        assertTrue(waiting.message.contains("(claim kinds-out, subPath runs/a) is the output location of"
                + " MilanPretrain holder"), waiting.message);
        assertTrue(Cluster.jobsOfRun(client, "follower-ft").isEmpty(), "no pod group while the pretrain lives");

        client.resources(MilanPretrain.class).withName("holder").delete();
        awaitPhase(client, MilanFinetune.class, "follower", RunPhase.Running);
    }

    private static <R extends io.fabric8.kubernetes.client.CustomResource<? extends RunSpec, RunStatus>> R writingTo(
            R run, String path, String claim, String subPath) {
        StorageLocation output = new StorageLocation(path, claim);
        output.subPath = subPath;
        run.getSpec().output = output;
        return run;
    }

    /** The run's status once it waits for its output location or has a pod group (which it must not). */
    private static <R extends io.fabric8.kubernetes.client.CustomResource<?, RunStatus>> RunStatus awaitWaitingOrStarted(
            Class<R> type, String name) {
        return awaitStatus(client, type, name, "waiting for its output location, or started", s -> s.podGroup != null
                || RunConditions.find(s.conditions, RunConditions.OUTPUT_IN_USE) != null);
    }

    private static void awaitWarning(String run, String reason) {
        Await.until("a Warning Event " + reason + " of " + run, Cluster.TIMEOUT, () -> client.v1().events().list()
                .getItems().stream().filter(e -> run.equals(e.getInvolvedObject().getName()))
                .filter(e -> "Warning".equals(e.getType())).map(Event::getReason).toList(),
                reasons -> reasons.contains(reason));
    }
}
