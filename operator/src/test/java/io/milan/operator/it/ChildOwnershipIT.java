package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.milan.api.GangScheduler;
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

    @Test
    void aPodGroupOfTheRunsNameThatIsNotItsOwnIsNotAdopted() {
        // The coscheduling plugin's PodGroup CRD, as much of it as the operator uses.
        CustomResourceDefinition crd = new CustomResourceDefinitionBuilder()
                .withNewMetadata().withName("podgroups.scheduling.x-k8s.io").endMetadata()
                .withNewSpec().withGroup("scheduling.x-k8s.io").withScope("Namespaced")
                    .withNewNames().withKind("PodGroup").withPlural("podgroups").withSingular("podgroup").endNames()
                    .addNewVersion().withName("v1alpha1").withServed(true).withStorage(true)
                        .withNewSchema().withNewOpenAPIV3Schema().withType("object")
                            .withXKubernetesPreserveUnknownFields(true).endOpenAPIV3Schema().endSchema()
                    .endVersion()
                .endSpec().build();
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
        try {
            Await.until("PodGroup CRD established", Cluster.TIMEOUT, () -> client.apiextensions().v1()
                    .customResourceDefinitions().withName(crd.getMetadata().getName()).get().getStatus()
                    .getConditions(), c -> c != null && c.stream().anyMatch(x -> x.getType().equals("Established")
                            && x.getStatus().equals("True")));
            var podGroups = client.genericKubernetesResources("scheduling.x-k8s.io/v1alpha1", "PodGroup");
            podGroups.resource(new GenericKubernetesResourceBuilder().withApiVersion("scheduling.x-k8s.io/v1alpha1")
                    .withKind("PodGroup").withNewMetadata().withName("squat").endMetadata()
                    .addToAdditionalProperties("spec", java.util.Map.of("minMember", 1)).build()).create();

            MilanPretrain run = TestRuns.pretrain("squat", 1);
            run.getSpec().gangScheduler = GangScheduler.COSCHEDULING;
            client.resource(run).create();
            RunStatus refused = awaitStatus(client, MilanPretrain.class, "squat", "refused",
                    s -> s.message != null && s.message.contains("not owned by"));
            assertEquals(RunPhase.Pending, refused.phase);
            assertTrue(refused.message.startsWith("PodGroup squat already exists and is not owned by this"
                    + " MilanPretrain"), refused.message);
            assertTrue(Cluster.jobsOfRun(client, "squat").isEmpty(), "no Job beside a PodGroup of someone else");

            // Once the other PodGroup is gone, the run makes its own.
            podGroups.withName("squat").delete();
            String uid = Cluster.get(client, MilanPretrain.class, "squat").getMetadata().getUid();
            var own = Await.until("the run's own PodGroup", Cluster.TIMEOUT, () -> podGroups.withName("squat").get(),
                    pg -> pg != null && !pg.getMetadata().getOwnerReferences().isEmpty());
            assertEquals(uid, own.getMetadata().getOwnerReferences().get(0).getUid());
        } finally {
            client.resources(MilanPretrain.class).withName("squat").delete();
            client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName()).delete();
        }
    }

    private static OwnerReference controller(Job job) {
        return job.getMetadata().getOwnerReferences().stream().filter(o -> Boolean.TRUE.equals(o.getController()))
                .findFirst().orElseThrow();
    }
}
