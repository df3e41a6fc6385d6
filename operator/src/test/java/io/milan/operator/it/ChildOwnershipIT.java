package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.PretrainedSource;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import io.milan.testsupport.Await;
import io.milan.testsupport.WithLocalCluster;
import org.junit.jupiter.api.Test;

/**
 * Children belong to the run that owns them (controller owner UID), never to whoever shares a name: a pretrain and
 * a finetune of one name run side by side, and a run deleted and recreated under its name does not adopt the old
 * run's Job (issue 21, defect 5).
 */
@WithLocalCluster
class ChildOwnershipIT extends RestrictedOperatorIT {
    @Test
    void aPretrainAndAFinetuneOfOneNameEachGetTheirOwnJob() {
        client.resource(TestRuns.pretrain("twin", 1)).create();
        MilanFinetune finetune = TestRuns.finetune("twin", "unused");
        finetune.getSpec().pretrained = new PretrainedSource();
        finetune.getSpec().pretrained.checkpoint = new StorageLocation("/opt/milan/teachers/t.safetensors", null);
        client.resource(finetune).create();

        RunStatus pretrain = awaitPhase(client, MilanPretrain.class, "twin", RunPhase.Running);
        RunStatus fine = awaitPhase(client, MilanFinetune.class, "twin", RunPhase.Running);
        assertNotEquals(pretrain.podGroup, fine.podGroup, "two runs, two Jobs");
        assertEquals(Cluster.get(client, MilanPretrain.class, "twin").getMetadata().getUid(),
                controller(Cluster.job(client, pretrain.podGroup)).getUid());
        assertEquals(Cluster.get(client, MilanFinetune.class, "twin").getMetadata().getUid(),
                controller(Cluster.job(client, fine.podGroup)).getUid());
    }

    @Test
    void aRecreatedRunDoesNotAdoptTheJobOfTheRunItReplaces() {
        client.resource(TestRuns.pretrain("again", 1)).create();
        RunStatus first = awaitPhase(client, MilanPretrain.class, "again", RunPhase.Running);
        String oldUid = Cluster.get(client, MilanPretrain.class, "again").getMetadata().getUid();
        // Orphan the children: the old run's Job and Service stay, as they do until the garbage collector runs.
        client.resources(MilanPretrain.class).withName("again").withPropagationPolicy(DeletionPropagation.ORPHAN)
                .delete();
        Await.until("old run gone", Cluster.TIMEOUT, () -> Cluster.get(client, MilanPretrain.class, "again"),
                r -> r == null);

        client.resource(TestRuns.pretrain("again", 1)).create();
        String newUid = Cluster.get(client, MilanPretrain.class, "again").getMetadata().getUid();
        RunStatus second = awaitStatus(client, MilanPretrain.class, "again", "adopted or refused",
                s -> s.podGroup != null || (s.message != null && s.message.contains("not owned by")));
        assertNull(second.podGroup, "the new run must not take over the old run's Job: " + second.message);
        assertEquals(RunPhase.Pending, second.phase);
        assertTrue(second.message.contains("already exists and is not owned by this MilanPretrain"),
                second.message);
        Await.until("a ChildNameConflict Warning Event", Cluster.TIMEOUT, () -> client.v1().events().list()
                .getItems().stream().filter(e -> "again".equals(e.getInvolvedObject().getName()))
                .filter(e -> "Warning".equals(e.getType())).map(Event::getReason).toList(),
                reasons -> reasons.contains("ChildNameConflict"));

        // Once the old children are gone, the new run makes its own.
        client.batch().v1().jobs().withName(first.podGroup).withPropagationPolicy(DeletionPropagation.BACKGROUND)
                .delete();
        client.services().withName("again").delete();
        client.serviceAccounts().withName("again-trainer").delete();
        client.rbac().roles().withName("again-trainer").delete();
        client.rbac().roleBindings().withName("again-trainer").delete();
        RunStatus running = awaitPhase(client, MilanPretrain.class, "again", RunPhase.Running);
        Job job = Cluster.job(client, running.podGroup);
        assertEquals(newUid, controller(job).getUid());
        assertNotEquals(oldUid, newUid);
    }

    private static OwnerReference controller(Job job) {
        return job.getMetadata().getOwnerReferences().stream().filter(o -> Boolean.TRUE.equals(o.getController()))
                .findFirst().orElseThrow();
    }
}
