package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.milan.api.MilanPretrain;
import io.milan.api.PodSpecOverrides;
import io.milan.api.PodTemplateOverrides;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.TrainerOverrides;
import io.milan.api.report.KubernetesStatusSink;
import io.milan.api.report.RunReference;
import io.milan.api.report.TrainerFields;
import io.milan.operator.naming.ChildNames;
import io.milan.operator.podgroup.JobRenderer;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A run as a platform team writes it (spec.podTemplate): a private-registry pull secret, the team's own
 * ServiceAccount, pod labels and annotations, a dataset-cache claim mounted over the dataset path and env from a
 * ConfigMap. The real API server admits the rendered Job and its pods under the restricted Pod Security profile, the
 * operator binds the run's status Role to the team's ServiceAccount instead of creating one, and the reporter
 * writes progress as that account.
 */
@WithLocalCluster
class PodTemplateIT {
    private static final String ACCOUNT = "vision-trainer";
    private static final String DATASET = "/opt/milan/datasets/fashion-mnist";

    private static KubernetesClient client;
    private static String namespace;
    private static InProcessOperator operator;

    @BeforeAll
    static void start(KubernetesClient c, TestCluster cluster) {
        client = c;
        namespace = cluster.namespace();
        operator = InProcessOperator.startRestricted(client, namespace);
    }

    @AfterAll
    static void stop() {
        operator.close();
        Claims.deleteVolumes(client, namespace);
    }

    @Test
    void aPlatformRunIsRenderedAsAskedAndReportsAsTheTeamsServiceAccount() throws Exception {
        client.serviceAccounts().inNamespace(namespace).resource(new ServiceAccountBuilder()
                .withNewMetadata().withName(ACCOUNT)
                    .addToAnnotations("eks.amazonaws.com/role-arn", "arn:aws:iam::111122223333:role/vision")
                .endMetadata().build()).create();
        Claims.createBound(client, namespace, "dataset-cache");
        client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder().withNewMetadata()
                .withName("vision-env").endMetadata().addToData("WANDB_PROJECT", "milan").build()).create();

        MilanPretrain run = TestRuns.pretrain("platform", 2);
        run.getSpec().podTemplate = platformTemplate();
        client.resource(run).create();
        awaitPhase(client, MilanPretrain.class, "platform", RunPhase.Running);

        Job job = Cluster.job(client, "platform-a1");
        var template = job.getSpec().getTemplate();
        assertEquals("vision", template.getMetadata().getLabels().get("team"));
        assertEquals("platform", template.getMetadata().getLabels().get("milan.io/run"));
        assertEquals("cc-1234", template.getMetadata().getAnnotations().get("example.com/cost-center"));
        PodSpec pod = template.getSpec();
        assertEquals(ACCOUNT, pod.getServiceAccountName());
        assertEquals(List.of(new LocalObjectReference("registry-example-com")), pod.getImagePullSecrets());
        assertEquals("dataset-cache", pod.getVolumes().stream().filter(v -> v.getName().equals("dataset-cache"))
                .findFirst().orElseThrow().getPersistentVolumeClaim().getClaimName());
        var trainer = pod.getContainers().stream().filter(c -> c.getName().equals(JobRenderer.CONTAINER))
                .findFirst().orElseThrow();
        VolumeMount cache = trainer.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(DATASET))
                .findFirst().orElseThrow();
        assertEquals("dataset-cache", cache.getName());
        assertEquals("vision-env", trainer.getEnvFrom().get(0).getConfigMapRef().getName());

        // The pods themselves passed admission (restricted profile, the ServiceAccount exists) and run as asked.
        List<Pod> pods = Cluster.awaitRunningPods(client, "platform-a1", 2);
        for (Pod p : pods) {
            assertEquals(ACCOUNT, p.getSpec().getServiceAccountName());
            assertEquals("cc-1234", p.getMetadata().getAnnotations().get("example.com/cost-center"));
        }

        String perRun = ChildNames.of("platform").trainerAccount();
        assertNull(client.serviceAccounts().inNamespace(namespace).withName(perRun).get(),
                "no per-run ServiceAccount when the run names its own");
        RoleBinding binding = client.rbac().roleBindings().inNamespace(namespace).withName(perRun).get();
        assertEquals(ACCOUNT, binding.getSubjects().get(0).getName());
        assertEquals(perRun, binding.getRoleRef().getName());

        RunReference ref = new RunReference("MilanPretrain", "platform", namespace);
        try (KubernetesClient asTeam = TrainerIdentity.clientForAccount(client, namespace, ACCOUNT)) {
            KubernetesStatusSink sink = new KubernetesStatusSink(asTeam);
            sink.apply(ref, new TrainerFields(ProgressReportingIT.progress(1, 0, 7, 0.8), null, null));
            KubernetesClientException spec = assertThrows(KubernetesClientException.class,
                    () -> asTeam.resources(MilanPretrain.class).inNamespace(namespace).withName("platform")
                            .edit(r -> {
                                r.getSpec().epochs = 99;
                                return r;
                            }), "the Role grants the status only, not the spec");
            assertEquals(403, spec.getCode());
        }
        RunStatus status = awaitStatus(client, MilanPretrain.class, "platform", "the team account's report",
                s -> s.progress != null && s.progress.globalStep == 7);
        assertEquals(RunPhase.Running, status.phase);

        // The RoleBinding is made once per run: a started run keeps its account.
        KubernetesClientException moved = assertThrows(KubernetesClientException.class,
                () -> client.resources(MilanPretrain.class).inNamespace(namespace).withName("platform").edit(r -> {
                    r.getSpec().podTemplate.spec.serviceAccountName = "someone-else";
                    return r;
                }));
        assertEquals(422, moved.getCode());
        assertTrue(moved.getMessage().contains(
                "spec.podTemplate.spec.serviceAccountName cannot change once the run has started"), moved.getMessage());
    }

    private static PodTemplateOverrides platformTemplate() {
        PodTemplateOverrides t = new PodTemplateOverrides();
        t.metadata = new PodTemplateOverrides.Metadata();
        t.metadata.labels = Map.of("team", "vision");
        t.metadata.annotations = Map.of("example.com/cost-center", "cc-1234");
        t.spec = new PodSpecOverrides();
        t.spec.serviceAccountName = ACCOUNT;
        t.spec.imagePullSecrets = List.of(new LocalObjectReference("registry-example-com"));
        t.spec.volumes = List.of(new VolumeBuilder().withName("dataset-cache")
                .withNewPersistentVolumeClaim("dataset-cache", true).build());
        t.spec.trainer = new TrainerOverrides();
        t.spec.trainer.volumeMounts = List.of(new VolumeMountBuilder().withName("dataset-cache")
                .withMountPath(DATASET).withReadOnly(true).build());
        t.spec.trainer.envFrom = List.of(new EnvFromSourceBuilder().withNewConfigMapRef().withName("vision-env")
                .endConfigMapRef().build());
        return t;
    }
}
