package io.milan.operator.podgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SeccompProfileBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.milan.api.GangScheduler;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.PodSecurityOverrides;
import io.milan.api.PodSpecOverrides;
import io.milan.api.PodTemplateOverrides;
import io.milan.api.ReservedNames;
import io.milan.api.StorageLocation;
import io.milan.operator.Fixtures;
import io.milan.operator.config.OperatorSettings;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** spec.podTemplate laid over the rendered pod: what it adds, what it replaces, and what stays the operator's. */
class PodTemplateOverridesTest {

    @Test
    void thePlatformExampleAddsItsPodTemplateToTheOperatorsPod() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base-platform.yaml");
        Job job = JobRenderer.render(Fixtures.input(run, 1));
        var meta = job.getSpec().getTemplate().getMetadata();
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        Container trainer = JobRendererTest.container(job);

        assertEquals("vision", meta.getLabels().get("team"));
        assertEquals("cc-1234", meta.getLabels().get("cost-center"));
        assertEquals("milan-vit-base-platform", meta.getLabels().get("milan.io/run"), "the operator's labels stay");
        assertEquals("1", meta.getLabels().get("milan.io/attempt"));
        assertEquals("false", meta.getAnnotations().get("prometheus.io/scrape"));
        assertEquals("milan-vit-base-platform", meta.getAnnotations().get("milan.io/run-name"));
        assertNull(job.getMetadata().getLabels().get("team"), "pod labels go on the pods, not the Job");

        assertEquals("vision-trainer", pod.getServiceAccountName());
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), "the trainer mounts its own token");
        assertEquals(TrainerToken.VOLUME, byName(trainer.getVolumeMounts(), VolumeMount::getMountPath)
                .get(TrainerToken.DIR).getName(), "the reporter needs the token, with the user's ServiceAccount too");
        assertEquals(List.of(new LocalObjectReference("registry-example-com")), pod.getImagePullSecrets());
        Volume cache = byName(pod.getVolumes(), Volume::getName).get("dataset-cache");
        assertEquals("/mnt/nvme/imagenet", cache.getHostPath().getPath());
        VolumeMount cacheMount = byName(trainer.getVolumeMounts(), VolumeMount::getMountPath).get("/data/imagenet");
        assertEquals("dataset-cache", cacheMount.getName());
        assertEquals(Boolean.TRUE, cacheMount.getReadOnly());
        assertEquals("output", byName(trainer.getVolumeMounts(), VolumeMount::getMountPath).get("/output").getName());
        assertEquals("vision-wandb", trainer.getEnvFrom().get(0).getSecretRef().getName());
        assertEquals("OnRootMismatch", pod.getSecurityContext().getFsGroupChangePolicy());
        assertEquals(OperatorSettings.defaults().runAsUser(), pod.getSecurityContext().getRunAsUser(),
                "unset IDs stay the operator's");
        assertEquals(new Quantity("20Gi"), byName(pod.getVolumes(), Volume::getName).get("tmp").getEmptyDir()
                .getSizeLimit());

        assertEquals(List.of("milan-trainer"), trainer.getCommand(), "the command is the operator's");
        assertEquals("registry.example.com/ml/milan-trainer:1.0", trainer.getImage());
        Set<String> env = trainer.getEnv().stream().map(EnvVar::getName).collect(Collectors.toSet());
        assertTrue(env.containsAll(Set.of("MASTER_ADDR", "WORLD_SIZE", "NODE_RANK", "MILAN_RUN_NAME")), env.toString());
        assertEquals(1, pod.getContainers().size());
    }

    @Test
    void theOperatorsEntriesWinWhereAnOverrideCollidesWithThem() {
        // The CRD refuses all of these; an operator running against an older CRD keeps its own entries.
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        PodSpecOverrides spec = overrides(run).spec;
        overrides(run).metadata = new PodTemplateOverrides.Metadata();
        overrides(run).metadata.labels = Map.of("milan.io/run", "someone-else", "job-name", "x");
        spec.volumes = List.of(new VolumeBuilder().withName("output").withNewEmptyDir().endEmptyDir().build(),
                new VolumeBuilder().withName("cache").withNewEmptyDir().endEmptyDir().build());
        spec.trainer = new io.milan.api.TrainerOverrides();
        spec.trainer.volumeMounts = List.of(mount("cache", "/output"), mount("cache", "/cache"));
        spec.containers = List.of(new ContainerBuilder().withName(JobRenderer.CONTAINER).withImage("evil")
                .withCommand("sh").build(), new ContainerBuilder().withName("shipper").withImage("fluent-bit").build());

        Job job = JobRenderer.render(Fixtures.input(run, 1));
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        assertEquals("milan-vit-base", job.getSpec().getTemplate().getMetadata().getLabels().get("milan.io/run"));
        assertEquals("milan-vit-base-output", byName(pod.getVolumes(), Volume::getName).get("output")
                .getPersistentVolumeClaim().getClaimName(), "the operator's output volume stays");
        assertNotNull(byName(pod.getVolumes(), Volume::getName).get("cache"));
        Map<String, VolumeMount> mounts = byName(JobRendererTest.container(job).getVolumeMounts(),
                VolumeMount::getMountPath);
        assertEquals("output", mounts.get("/output").getName());
        assertEquals("cache", mounts.get("/cache").getName());
        assertEquals(List.of(JobRenderer.CONTAINER, "shipper"), pod.getContainers().stream().map(Container::getName)
                .toList(), "the trainer comes first and only once");
        assertEquals(List.of("milan-trainer"), pod.getContainers().get(0).getCommand());
    }

    @Test
    void platformAssignedIdsLeaveTheUidsUnsetButKeepTheRestrictedProfile() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        PodSecurityOverrides security = new PodSecurityOverrides();
        security.platformAssignsIds = true;
        security.supplementalGroups = List.of(4000L);
        security.seccompProfile = new SeccompProfileBuilder().withType("Localhost")
                .withLocalhostProfile("profiles/trainer.json").build();
        overrides(run).spec.securityContext = security;

        Job job = JobRenderer.render(Fixtures.input(run, 1));
        var context = job.getSpec().getTemplate().getSpec().getSecurityContext();
        assertNull(context.getRunAsUser());
        assertNull(context.getRunAsGroup());
        assertNull(context.getFsGroup());
        assertEquals(Boolean.TRUE, context.getRunAsNonRoot());
        assertEquals(List.of(4000L), context.getSupplementalGroups());
        assertEquals("Localhost", context.getSeccompProfile().getType());
        var container = JobRendererTest.container(job).getSecurityContext();
        assertEquals("profiles/trainer.json", container.getSeccompProfile().getLocalhostProfile(),
                "the container's own profile would win over the pod's");
        assertEquals(Boolean.FALSE, container.getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), container.getCapabilities().getDrop());
    }

    @Test
    void explicitIdsReplaceTheOperatorsDefaults() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        PodSecurityOverrides security = new PodSecurityOverrides();
        security.runAsUser = 1000680000L;
        security.fsGroup = 1000680000L;
        overrides(run).spec.securityContext = security;

        var context = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec()
                .getSecurityContext();
        assertEquals(1000680000L, context.getRunAsUser());
        assertEquals(OperatorSettings.defaults().runAsGroup(), context.getRunAsGroup());
        assertEquals(1000680000L, context.getFsGroup());
    }

    @Test
    void hostNetworkKeepsTheClusterDnsSoRankZeroIsFound() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        overrides(run).spec.hostNetwork = true;
        overrides(run).spec.runtimeClassName = "nvidia";
        PodSpec pod = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec();
        assertEquals(Boolean.TRUE, pod.getHostNetwork());
        assertEquals("ClusterFirstWithHostNet", pod.getDnsPolicy());
        assertEquals("nvidia", pod.getRuntimeClassName());
    }

    @Test
    void sidecarsAndInitContainersAreAddedAndAnEphemeralOutputCanBeBounded() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().output = null;
        PodSpecOverrides spec = overrides(run).spec;
        spec.initContainers = List.of(new ContainerBuilder().withName("warm-cache").withImage("busybox").build());
        spec.containers = List.of(new ContainerBuilder().withName("shipper").withImage("fluent-bit")
                .withVolumeMounts(mount("output", "/logs")).build());
        spec.outputSizeLimit = "50Gi";

        PodSpec pod = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec();
        assertEquals(List.of("warm-cache"), pod.getInitContainers().stream().map(Container::getName).toList());
        assertEquals(List.of(JobRenderer.CONTAINER, "shipper"), pod.getContainers().stream().map(Container::getName)
                .toList());
        assertEquals(List.of("/logs"), pod.getContainers().get(1).getVolumeMounts().stream()
                .map(VolumeMount::getMountPath).toList(), "a sidecar gets no ServiceAccount token");
        assertEquals(new Quantity("50Gi"), byName(pod.getVolumes(), Volume::getName).get("output").getEmptyDir()
                .getSizeLimit());
        assertNull(byName(pod.getVolumes(), Volume::getName).get("tmp").getEmptyDir().getSizeLimit());
    }

    @Test
    void aUserServiceAccountReplacesThePerRunOneAndGetsItsRole() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base-platform.yaml");
        RenderInput in = Fixtures.input(run, 1);
        assertEquals(List.of(), TrainerRbac.serviceAccounts(in), "no per-run ServiceAccount");
        assertEquals("vision-trainer", TrainerRbac.roleBinding(in).getSubjects().get(0).getName());
        assertEquals("team-a", TrainerRbac.roleBinding(in).getSubjects().get(0).getNamespace());
        MilanPretrain own = Fixtures.pretrain("pretrain-vit-base-platform.yaml");
        own.getSpec().podTemplate.spec.serviceAccountName = null;
        assertEquals(TrainerRbac.role(Fixtures.input(own, 1)).getRules(), TrainerRbac.role(in).getRules(),
                "the same status rights as a per-run account's");
        assertEquals("milan-vit-base-platform-trainer", TrainerRbac.serviceAccounts(Fixtures.input(own, 1)).get(0)
                .getMetadata().getName());
        assertEquals("vision-trainer", JobRenderer.render(in).getSpec().getTemplate().getSpec()
                .getServiceAccountName());
    }

    // ---- the CRD's reserved names (io.milan.api.ReservedNames) match what the operator renders ----

    @Test
    void theCrdRefusesExactlyTheEnvNamesTheOperatorReserves() {
        Set<String> refused = quoted(ReservedNames.ENV_LIST);
        assertEquals(TrainerEnv.RESERVED, refused);
    }

    @Test
    void theCrdRefusesEveryVolumeNameTheOperatorRenders() {
        Set<String> refused = quoted(ReservedNames.VOLUME_LIST);
        MilanPretrain gpus = Fixtures.pretrain("pretrain-vit-base.yaml");
        MilanFinetune finetune = Fixtures.finetune("finetune-vit-base.yaml");
        finetune.getSpec().output = null;
        for (Job job : List.of(JobRenderer.render(Fixtures.input(gpus, 1)), JobRenderer.render(Fixtures.input(
                finetune, 1, new ResolvedPretrained("/milan/pretrained/checkpoint.safetensors",
                        new StorageLocation(ResolvedPretrained.PRETRAIN_OUTPUT_MOUNT, "pretrain-output")))))) {
            for (Volume v : job.getSpec().getTemplate().getSpec().getVolumes()) {
                assertTrue(refused.contains(v.getName()) || v.getName().startsWith("milan-"),
                        v.getName() + " is not in " + refused + " nor milan-*");
            }
            for (VolumeMount m : JobRendererTest.container(job).getVolumeMounts()) {
                assertTrue(List.of("/tmp", "/dev/shm", "/output", "/data/imagenet", "/teacher/model.safetensors",
                        "/milan/output", ResolvedPretrained.PRETRAIN_OUTPUT_MOUNT, RunIsolation.SECRET_DIR,
                        TrainerToken.DIR)
                        .contains(m.getMountPath()),
                        m.getMountPath() + " is a path the CRD's mount rules know");
            }
        }
    }

    @Test
    void theCrdRefusesEveryPodLabelAndAnnotationTheOperatorSets() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getSpec().queueName = "team-a";
        run.getMetadata().setLabels(Map.of(JobRenderer.KUEUE_PRIORITY_LABEL, "high"));
        for (GangScheduler gang : GangScheduler.values()) {
            run.getSpec().gangScheduler = gang;
            var meta = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getMetadata();
            meta.getLabels().keySet().forEach(k -> assertTrue(refuses(ReservedNames.LABEL_RULE, k),
                    "label " + k + " with gangScheduler " + gang));
            meta.getAnnotations().keySet().forEach(k -> assertTrue(refuses(ReservedNames.ANNOTATION_RULE, k),
                    "annotation " + k + " with gangScheduler " + gang));
        }
        assertTrue(refuses(ReservedNames.ANNOTATION_RULE, TrainerEnv.COMPLETION_INDEX_ANNOTATION));
        assertTrue(refuses(ReservedNames.LABEL_RULE, JobRenderer.KUEUE_QUEUE_LABEL));
    }

    /** Whether a rule of the form self.all(k, !(k.startsWith('p') || k in [...] || k == '...')) refuses key. */
    private static boolean refuses(String rule, String key) {
        Matcher prefixes = Pattern.compile("startsWith\\('([^']*)'\\)").matcher(rule);
        while (prefixes.find()) {
            if (key.startsWith(prefixes.group(1))) {
                return true;
            }
        }
        return rule.contains("'" + key + "'");
    }

    private static Set<String> quoted(String celList) {
        return Arrays.stream(celList.replaceAll("[\\[\\]' ]", "").split(",")).collect(Collectors.toSet());
    }

    private static PodTemplateOverrides overrides(io.fabric8.kubernetes.client.CustomResource<?, ?> run) {
        var spec = (io.milan.api.RunSpec) run.getSpec();
        if (spec.podTemplate == null) {
            spec.podTemplate = new PodTemplateOverrides();
            spec.podTemplate.spec = new PodSpecOverrides();
        }
        return spec.podTemplate;
    }

    private static VolumeMount mount(String name, String path) {
        return new VolumeMountBuilder().withName(name).withMountPath(path).build();
    }

    private static <T> Map<String, T> byName(List<T> items, Function<T, String> key) {
        return items.stream().collect(Collectors.toMap(key, Function.identity()));
    }
}
