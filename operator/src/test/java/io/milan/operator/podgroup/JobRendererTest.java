package io.milan.operator.podgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EmptyDirVolumeSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.milan.api.FinetuneMode;
import io.milan.api.GangScheduler;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.MixedPrecision;
import io.milan.api.StorageLocation;
import io.milan.operator.Fixtures;
import io.milan.operator.naming.Labels;
import io.milan.operator.validation.SpecValidator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class JobRendererTest {

    @Test
    void thePretrainExampleBecomesTheReferenceCommandLine() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        Container c = container(JobRenderer.render(Fixtures.input(run, 1)));

        assertEquals(List.of("milan-trainer"), c.getCommand());
        assertEquals(List.of("launch", "--nproc_per_node", "8", "pretrain",
                "--model", "vit_base", "--input_size", "224", "--patch_size", "16",
                "--batch_size", "256", "--accum_iter", "2", "--epochs", "400", "--warmup_epochs", "40",
                "--blr", "1.5E-4", "--min_lr", "0.0", "--weight_decay", "0.05",
                "--data_path", "/data/imagenet", "--output_dir", "/output", "--log_dir", "/output",
                "--seed", "0", "--num_workers", "10", "--checkpoint_interval", "20", "--keep_checkpoints", "3",
                "--amp", "auto", "--device", "cuda", "--resume", "auto",
                "--mask_ratio", "0.75", "--teacher", "clip", "--teacher_path", "/teacher/model.safetensors",
                "--change_decoder", "--decoder_embed_dim", "512", "--decoder_depth", "8",
                "--decoder_num_heads", "16", "--attn_mask"), c.getArgs());
    }

    @Test
    void optionalAndBooleanFlagsFollowTheSpec() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().promptingDecoder = false;
        run.getSpec().clipGrad = 3.0;
        List<String> args = container(JobRenderer.render(Fixtures.input(run, 1))).getArgs();

        assertFalse(args.contains("--change_decoder"), "false booleans are left out");
        assertTrue(args.contains("--attn_mask"));
        assertEquals("0.001", after(args, "--lr"), "an absolute lr is passed");
        assertEquals("3.0", after(args, "--clip_grad"));
        assertEquals(List.of("128", "2", "4"), List.of(after(args, "--decoder_embed_dim"),
                after(args, "--decoder_depth"), after(args, "--decoder_num_heads")), "the quickstart's small decoder");
        assertEquals("4", after(args, "--patch_size"), "spec.patchSize wins over the model default");
        assertEquals("encoder", after(args, "--teacher"));
        assertEquals("vit_micro", after(args, "--teacher_model"));
    }

    @Test
    void mixedPrecisionAndTf32FollowTheSpec() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getSpec().amp = MixedPrecision.BF16;
        run.getSpec().tf32 = true;
        List<String> args = container(JobRenderer.render(Fixtures.input(run, 1))).getArgs();
        assertEquals("bf16", after(args, "--amp"));
        assertTrue(args.contains("--tf32"));

        run.getSpec().amp = MixedPrecision.OFF;
        run.getSpec().tf32 = false;
        args = container(JobRenderer.render(Fixtures.input(run, 1))).getArgs();
        assertEquals("off", after(args, "--amp"));
        assertFalse(args.contains("--tf32"), "TF32 stays off unless asked, as in PyTorch");
    }

    @Test
    void finetuneArgumentsUseModeDependentDefaults() {
        MilanFinetune run = Fixtures.finetune("finetune-vit-base.yaml");
        run.getSpec().batchSize = null;
        run.getSpec().blr = null;
        run.getSpec().warmupEpochs = null;
        var pretrained = new ResolvedPretrained("/milan/pretrained/checkpoint-399.safetensors", null);
        List<String> args = container(JobRenderer.render(Fixtures.input(run, 1, pretrained))).getArgs();

        assertEquals(List.of("launch", "--nproc_per_node", "8", "finetune"), args.subList(0, 4),
                "one process per GPU of the example's pods");
        assertEquals("cuda", after(args, "--device"));
        assertEquals("128", after(args, "--batch_size"));
        assertEquals("1.0E-4", after(args, "--blr"));
        assertEquals("5", after(args, "--warmup_epochs"));
        assertEquals("/milan/pretrained/checkpoint-399.safetensors", after(args, "--finetune"));
        assertEquals("1000", after(args, "--nb_classes"));
        assertEquals("0.65", after(args, "--layer_decay"));
        assertEquals("rand-m9-mstd0.5-inc1", after(args, "--aa"));
        assertTrue(args.contains("--dist_eval"));
        assertTrue(args.contains("--global_pool"));
        assertEquals("auto", after(args, "--resume"));
    }

    @Test
    void linearProbingHasItsOwnDefaultsAndNoFinetuneOnlyFlags() {
        MilanFinetune run = Fixtures.finetune("linprobe-vit-base.yaml");
        run.getSpec().batchSize = null;
        run.getSpec().blr = null;
        run.getSpec().weightDecay = null;
        run.getSpec().warmupEpochs = null;
        List<String> args = container(JobRenderer.render(Fixtures.input(run, 1,
                new ResolvedPretrained("/ckpt.safetensors", null)))).getArgs();

        assertEquals("linprobe", args.get(3));
        assertEquals("2048", after(args, "--batch_size"));
        assertEquals("0.05", after(args, "--blr"));
        assertEquals("0.0", after(args, "--weight_decay"));
        assertEquals("10", after(args, "--warmup_epochs"));
        for (String finetuneOnly : List.of("--layer_decay", "--mixup", "--aa", "--global_pool", "--cls_token")) {
            assertFalse(args.contains(finetuneOnly), finetuneOnly);
        }
    }

    @Test
    void anEmptyRandAugmentPolicyIsPassedToDisableIt() {
        MilanFinetune run = Fixtures.finetune("quickstart-cpu-finetune.yaml");
        run.getSpec().globalPool = false;
        List<String> args = container(JobRenderer.render(Fixtures.input(run, 1,
                new ResolvedPretrained("/x.safetensors", null)))).getArgs();
        assertEquals("", after(args, "--aa"));
        assertTrue(args.contains("--cls_token"));
        assertFalse(args.contains("--global_pool"));
        assertEquals(FinetuneMode.FINETUNE, run.getSpec().mode);
    }

    @Test
    void theJobIsAnIndexedGangWithoutRetriesOfItsOwn() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        Job job = JobRenderer.render(Fixtures.input(run, 3));

        assertEquals("quickstart-a3", job.getMetadata().getName());
        assertEquals("Indexed", job.getSpec().getCompletionMode());
        assertEquals(2, job.getSpec().getCompletions());
        assertEquals(2, job.getSpec().getParallelism());
        assertEquals(0, job.getSpec().getBackoffLimit());
        assertNull(job.getSpec().getSuspend(), "no queue: not suspended");
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        assertEquals("Never", pod.getRestartPolicy());
        assertEquals("quickstart", pod.getSubdomain());
        assertEquals("quickstart-trainer", pod.getServiceAccountName());
        // The kubelet's token (accepted for a year on most clusters) is not mounted; the trainer container gets an
        // hour's, at the path every client reads, renewed by the kubelet.
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken());
        var tokenMount = container(job).getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals(TrainerToken.DIR)).findFirst().orElseThrow();
        var token = pod.getVolumes().stream().filter(v -> v.getName().equals(tokenMount.getName())).findFirst()
                .orElseThrow().getProjected().getSources();
        assertEquals(TrainerToken.EXPIRATION_SECONDS, token.get(0).getServiceAccountToken().getExpirationSeconds());
        assertNull(token.get(0).getServiceAccountToken().getAudience(), "the API server's own audience");
        assertEquals("kube-root-ca.crt", token.get(1).getConfigMap().getName());
        assertEquals("metadata.namespace", token.get(2).getDownwardAPI().getItems().get(0).getFieldRef().getFieldPath());
        assertEquals("FallbackToLogsOnError", container(job).getTerminationMessagePolicy());

        var owner = job.getMetadata().getOwnerReferences().get(0);
        assertEquals(Boolean.TRUE, owner.getController());
        assertEquals(run.getMetadata().getUid(), owner.getUid());
        assertEquals("MilanPretrain", owner.getKind());
        assertEquals("3", job.getSpec().getTemplate().getMetadata().getLabels().get(Labels.ATTEMPT));
        assertEquals("quickstart", job.getSpec().getTemplate().getMetadata().getAnnotations()
                .get(Labels.RUN_NAME_ANNOTATION));
    }

    @Test
    void everyPodGetsTheRendezvousAndReporterEnvironment() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().masterPort = 23456;
        Map<String, EnvVar> env = container(JobRenderer.render(Fixtures.input(run, 2))).getEnv().stream()
                .collect(Collectors.toMap(EnvVar::getName, Function.identity()));

        assertEquals("quickstart-a2-0.quickstart", env.get("MASTER_ADDR").getValue());
        assertEquals("23456", env.get("MASTER_PORT").getValue());
        assertEquals("2", env.get("WORLD_SIZE").getValue(), "2 CPU pods, one process each");
        assertEquals("2", env.get("NNODES").getValue());
        assertEquals("metadata.annotations['batch.kubernetes.io/job-completion-index']",
                env.get("NODE_RANK").getValueFrom().getFieldRef().getFieldPath());
        assertEquals("1", env.get("NPROC_PER_NODE").getValue(), "a CPU pod is one device");
        assertEquals("2", env.get("MILAN_ATTEMPT").getValue());
        assertEquals("MilanPretrain", env.get("MILAN_RUN_KIND").getValue());
        assertEquals("quickstart", env.get("MILAN_RUN_NAME").getValue());
        assertEquals("team-a", env.get("MILAN_RUN_NAMESPACE").getValue());
        // The trainer records the run's UID in its checkpoints: a recreated run (new UID) refuses the old run's.
        assertEquals(run.getMetadata().getUid(), env.get("MILAN_RUN_UID").getValue());
        assertEquals("true", env.get("DJL_OFFLINE").getValue());
        assertEquals("30", env.get("MILAN_TERMINATION_GRACE_SECONDS").getValue());
        assertEquals(30L, JobRenderer.render(Fixtures.input(run, 2)).getSpec().getTemplate().getSpec()
                .getTerminationGracePeriodSeconds(), "the trainer's grace period is the pod's");
    }

    @Test
    void aLongerGracePeriodGivesTheTrainerTimeForItsCheckpoint() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().terminationGracePeriodSeconds = 600L;
        Job job = JobRenderer.render(Fixtures.input(run, 1));
        assertEquals(600L, job.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds());
        Map<String, EnvVar> env = job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .collect(Collectors.toMap(EnvVar::getName, Function.identity()));
        assertEquals("600", env.get("MILAN_TERMINATION_GRACE_SECONDS").getValue(), "the same number for the trainer");
        run.getSpec().terminationGracePeriodSeconds = null;
        assertEquals(30L, JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec()
                .getTerminationGracePeriodSeconds(), "Kubernetes' default when unset");
    }

    @Test
    void everyGpuGetsItsOwnTrainerProcessThroughTheLauncher() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getSpec().nodes = 4;
        run.getSpec().gpusPerNode = 8;
        Container c = container(JobRenderer.render(Fixtures.input(run, 1)));

        assertEquals(List.of("milan-trainer"), c.getCommand());
        assertEquals(List.of("launch", "--nproc_per_node", "8", "pretrain"), c.getArgs().subList(0, 4));
        assertEquals("cuda", after(c.getArgs(), "--device"), "no silent CPU fallback on a GPU pod");
        assertEquals(1, c.getArgs().stream().filter("--device"::equals).count());
        assertEquals("32", envValue(c, "WORLD_SIZE"), "4 pods x 8 processes");
        assertEquals("4", envValue(c, "NNODES"));
        assertEquals("8", envValue(c, "NPROC_PER_NODE"));
        for (String perProcess : List.of("RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE")) {
            assertTrue(c.getEnv().stream().noneMatch(e -> e.getName().equals(perProcess)),
                    perProcess + " is the launcher's to set, per process");
        }
    }

    @Test
    void aCpuPodLaunchesOneProcessOnTheCpu() {
        MilanFinetune run = Fixtures.finetune("quickstart-cpu-finetune.yaml");
        assertEquals(0, run.getSpec().gpusPerNode);
        run.getSpec().nodes = 3;
        Container c = container(JobRenderer.render(Fixtures.input(run, 1,
                new ResolvedPretrained("/x.safetensors", null))));

        assertEquals(List.of("launch", "--nproc_per_node", "1", "finetune"), c.getArgs().subList(0, 4));
        assertEquals("cpu", after(c.getArgs(), "--device"));
        assertEquals("3", envValue(c, "WORLD_SIZE"), "3 pods x 1 process");
        assertEquals("3", envValue(c, "NNODES"));
        assertEquals("1", envValue(c, "NPROC_PER_NODE"));
    }

    @Test
    void gpuPodsGetAMemoryBackedDevShmOfTheSpecsSizeOrEightGi() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        assertNull(run.getSpec().shmSize);
        assertEquals(new Quantity("8Gi"), devShm(JobRenderer.render(Fixtures.input(run, 1))).getSizeLimit());

        run.getSpec().shmSize = "32Gi";
        var shm = devShm(JobRenderer.render(Fixtures.input(run, 1)));
        assertEquals("Memory", shm.getMedium());
        assertEquals(new Quantity("32Gi"), shm.getSizeLimit());
    }

    @Test
    void cpuPodsGetADevShmOnlyWhenTheSpecAsksForOne() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        PodSpec pod = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec();
        assertTrue(pod.getContainers().get(0).getVolumeMounts().stream()
                .noneMatch(m -> m.getMountPath().equals("/dev/shm")), "the runtime's own /dev/shm");
        assertTrue(pod.getVolumes().stream().noneMatch(v -> v.getName().equals(SharedMemory.VOLUME)));

        run.getSpec().shmSize = "1Gi";
        var shm = devShm(JobRenderer.render(Fixtures.input(run, 1)));
        assertEquals("Memory", shm.getMedium());
        assertEquals(new Quantity("1Gi"), shm.getSizeLimit());
    }

    @Test
    void ncclVariablesInSpecEnvReachTheContainerUnchanged() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        List<EnvVar> nccl = List.of(new EnvVar("NCCL_SOCKET_IFNAME", "eth0", null),
                new EnvVar("NCCL_IB_HCA", "mlx5_0,mlx5_1", null), new EnvVar("NCCL_DEBUG", "INFO", null),
                new EnvVar("NCCL_P2P_DISABLE", "1", null), new EnvVar("NCCL_IB_DISABLE", "0", null),
                new EnvVar("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1", null));
        run.getSpec().env = nccl;
        assertEquals(List.of(), SpecValidator.validate(run.getSpec(), null), "none of them is reserved");

        List<EnvVar> env = container(JobRenderer.render(Fixtures.input(run, 1))).getEnv();
        assertEquals(nccl, env.subList(env.size() - nccl.size(), env.size()), "passed as given, after ours");
        for (EnvVar e : nccl) {
            assertEquals(1, env.stream().filter(x -> x.getName().equals(e.getName())).count(), e.getName());
        }
    }

    @Test
    void gpusAreRequestedAndLimitedUnderTheConfiguredResourceName() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getSpec().gpuResourceName = "amd.com/gpu";
        Container c = container(JobRenderer.render(Fixtures.input(run, 1)));
        assertEquals(new Quantity("8"), c.getResources().getRequests().get("amd.com/gpu"));
        assertEquals(new Quantity("8"), c.getResources().getLimits().get("amd.com/gpu"));
        assertEquals(new Quantity("48"), c.getResources().getRequests().get("cpu"), "spec.resources kept");
        assertEquals(new Quantity("400Gi"), c.getResources().getLimits().get("memory"));
        assertEquals("8", envValue(c, "NPROC_PER_NODE"));

        MilanPretrain cpu = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        Container cpuContainer = container(JobRenderer.render(Fixtures.input(cpu, 1)));
        assertFalse(cpuContainer.getResources().getLimits().containsKey("nvidia.com/gpu"));
    }

    @Test
    void claimsAreMountedInputsReadOnlyAndAnOutputWithoutClaimIsAnEmptyDir() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getSpec().dataset.subPath = "imagenet-1k";
        PodSpec pod = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec();
        Map<String, Volume> volumes = pod.getVolumes().stream()
                .collect(Collectors.toMap(Volume::getName, Function.identity()));
        Map<String, VolumeMount> mounts = pod.getContainers().get(0).getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getName, Function.identity()));

        assertEquals("imagenet", volumes.get("dataset").getPersistentVolumeClaim().getClaimName());
        assertEquals(Boolean.TRUE, volumes.get("dataset").getPersistentVolumeClaim().getReadOnly());
        assertEquals("/data/imagenet", mounts.get("dataset").getMountPath());
        assertEquals("imagenet-1k", mounts.get("dataset").getSubPath());
        assertEquals(Boolean.TRUE, mounts.get("dataset").getReadOnly());
        assertEquals("clip-vit-base-patch16", volumes.get("teacher").getPersistentVolumeClaim().getClaimName());
        assertEquals("/teacher/model.safetensors", mounts.get("teacher").getMountPath());
        assertEquals("milan-vit-base-output", volumes.get("output").getPersistentVolumeClaim().getClaimName());
        assertNull(mounts.get("output").getReadOnly(), "output is writable");

        run.getSpec().output = null;
        PodSpec ephemeral = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec();
        Volume out = ephemeral.getVolumes().stream().filter(v -> v.getName().equals("output")).findFirst()
                .orElseThrow();
        assertTrue(out.getEmptyDir() != null, "emptyDir output");
        assertEquals(RunVolumes.DEFAULT_OUTPUT_PATH, after(ephemeral.getContainers().get(0).getArgs(),
                "--output_dir"));
        assertTrue(RunVolumes.outputIsEphemeral(run.getSpec()));
    }

    @Test
    void locationsOnOneClaimShareOneVolume() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getSpec().dataset = new StorageLocation("/milan/data", "shared");
        run.getSpec().dataset.subPath = "imagenet";
        run.getSpec().teacher.weights = new StorageLocation("/milan/teacher/model.safetensors", "shared");
        run.getSpec().teacher.weights.subPath = "clip/model.safetensors";
        run.getSpec().output = new StorageLocation("/output", "shared");
        run.getSpec().output.subPath = "runs/a";
        PodSpec pod = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec();

        List<Volume> claims = pod.getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null).toList();
        assertEquals(1, claims.size(), "one volume for the claim: " + pod.getVolumes());
        assertEquals("shared", claims.get(0).getPersistentVolumeClaim().getClaimName());
        assertEquals(Boolean.FALSE, claims.get(0).getPersistentVolumeClaim().getReadOnly(),
                "writable, as the output is on it");
        Map<String, VolumeMount> byPath = pod.getContainers().get(0).getVolumeMounts().stream()
                .collect(Collectors.toMap(VolumeMount::getMountPath, Function.identity()));
        for (String path : List.of("/milan/data", "/milan/teacher/model.safetensors", "/output")) {
            assertEquals(claims.get(0).getName(), byPath.get(path).getName(), path + " mounts the shared volume");
        }
        assertEquals("clip/model.safetensors", byPath.get("/milan/teacher/model.safetensors").getSubPath());
        assertEquals(Boolean.TRUE, byPath.get("/milan/data").getReadOnly(), "inputs stay read-only");
        assertNull(byPath.get("/output").getReadOnly(), "output is writable");
    }

    @Test
    void aReferencedPretrainsClaimIsMountedReadOnly() {
        MilanFinetune run = Fixtures.finetune("finetune-vit-base.yaml");
        StorageLocation mount = new StorageLocation(ResolvedPretrained.PRETRAIN_OUTPUT_MOUNT, "pt-out");
        var pretrained = new ResolvedPretrained("/milan/pretrained/checkpoint-9.safetensors", mount);
        PodSpec pod = JobRenderer.render(Fixtures.input(run, 1, pretrained)).getSpec().getTemplate().getSpec();
        Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals("pretrained")).findFirst().orElseThrow();
        assertEquals("pt-out", v.getPersistentVolumeClaim().getClaimName());
        assertEquals(Boolean.TRUE, v.getPersistentVolumeClaim().getReadOnly());
        VolumeMount m = pod.getContainers().get(0).getVolumeMounts().stream()
                .filter(x -> x.getName().equals("pretrained")).findFirst().orElseThrow();
        assertEquals("/milan/pretrained", m.getMountPath());
    }

    @Test
    void schedulingFieldsArePassedThrough() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getSpec().nodeSelector = Map.of("gpu.type", "h100");
        run.getSpec().tolerations = List.of(new TolerationBuilder().withKey("nvidia.com/gpu")
                .withOperator("Exists").withEffect("NoSchedule").build());
        run.getSpec().affinity = new AffinityBuilder().withNewNodeAffinity()
                .withNewRequiredDuringSchedulingIgnoredDuringExecution().addNewNodeSelectorTerm()
                .addNewMatchExpression().withKey("zone").withOperator("In").withValues("a").endMatchExpression()
                .endNodeSelectorTerm().endRequiredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().build();
        run.getSpec().priorityClassName = "training-high";
        PodSpec pod = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec();

        assertEquals(Map.of("gpu.type", "h100"), pod.getNodeSelector());
        assertEquals("nvidia.com/gpu", pod.getTolerations().get(0).getKey());
        assertEquals("zone", pod.getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms().get(0).getMatchExpressions().get(0).getKey());
        assertEquals("training-high", pod.getPriorityClassName());
        assertNull(pod.getSchedulerName(), "default scheduler without a gang scheduler");
    }

    @Test
    void theRunsPodsPreferDifferentNodesBesideTheUsersAffinity() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        assertEquals(2, run.getSpec().nodes);
        run.getSpec().affinity = new AffinityBuilder().withNewNodeAffinity()
                .withNewRequiredDuringSchedulingIgnoredDuringExecution().addNewNodeSelectorTerm()
                .addNewMatchExpression().withKey("zone").withOperator("In").withValues("a").endMatchExpression()
                .endNodeSelectorTerm().endRequiredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().build();
        Job job = JobRenderer.render(Fixtures.input(run, 3));
        var affinity = job.getSpec().getTemplate().getSpec().getAffinity();
        assertEquals("zone", affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
                .getNodeSelectorTerms().get(0).getMatchExpressions().get(0).getKey(), "the user's node affinity stays");
        var preferred = affinity.getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
        assertEquals(1, preferred.size());
        assertEquals(100, preferred.get(0).getWeight());
        assertEquals("kubernetes.io/hostname", preferred.get(0).getPodAffinityTerm().getTopologyKey());
        // The selector picks exactly this attempt's pods: it matches the pod template's own labels.
        Map<String, String> selector = preferred.get(0).getPodAffinityTerm().getLabelSelector().getMatchLabels();
        assertEquals("3", selector.get(Labels.ATTEMPT));
        Map<String, String> podLabels = job.getSpec().getTemplate().getMetadata().getLabels();
        assertTrue(podLabels.entrySet().containsAll(selector.entrySet()), selector + " within " + podLabels);
        var required = affinity.getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution();
        assertTrue(required == null || required.isEmpty(), "soft: a cluster with fewer free nodes still runs the run");
        assertNull(run.getSpec().affinity.getPodAntiAffinity(), "the spec itself is not changed");

        run.getSpec().nodes = 1;
        run.getSpec().affinity = null;
        assertNull(JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate().getSpec().getAffinity(),
                "a one-pod run has nothing to spread");
    }

    @Test
    void aKueueQueueLabelsTheJobAndCreatesItSuspended() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getSpec().queueName = "team-a-gpus";
        Job job = JobRenderer.render(Fixtures.input(run, 1));
        assertEquals("team-a-gpus", job.getMetadata().getLabels().get(JobRenderer.KUEUE_QUEUE_LABEL));
        assertEquals(Boolean.TRUE, job.getSpec().getSuspend());
        assertNull(job.getMetadata().getLabels().get(JobRenderer.KUEUE_PRIORITY_LABEL), "no priority class");
        var rules = job.getSpec().getPodFailurePolicy().getRules();
        assertEquals(List.of("FailJob", "Ignore", "Ignore", "FailJob"), rules.stream().map(r -> r.getAction()).toList(),
                "the configuration code and any other failure fail the Job; disruptions do not");
        assertEquals(List.of(78), rules.get(0).getOnExitCodes().getValues(), "the configuration code fails at once");
        assertEquals("DisruptionTarget", rules.get(1).getOnPodConditions().get(0).getType());
        assertEquals(List.of(75, 143), rules.get(2).getOnExitCodes().getValues(),
                "an eviction's SIGTERM is no failure, with the trainer's handler (75) or without (143)");
    }

    @Test
    void everyJobFailsAtOnceNamingWhatEndedItsPod() {
        Job job = JobRenderer.render(Fixtures.input(Fixtures.pretrain("quickstart-cpu-pretrain.yaml"), 1));
        assertEquals("Never", job.getSpec().getTemplate().getSpec().getRestartPolicy(), "the policy needs it");
        var rules = job.getSpec().getPodFailurePolicy().getRules();
        assertEquals(4, rules.size());
        assertTrue(rules.stream().allMatch(r -> "FailJob".equals(r.getAction())),
                "outside Kueue a disruption fails the Job too: the gang restarts whole, and the condition says why");
        assertEquals(List.of(78), rules.get(0).getOnExitCodes().getValues(), "the configuration code comes first");
        assertEquals("trainer", rules.get(0).getOnExitCodes().getContainerName());
        assertEquals("DisruptionTarget", rules.get(1).getOnPodConditions().get(0).getType(),
                "before the exit codes: a SIGKILL after the grace period (137) of a drained pod is a disruption");
        assertEquals(List.of(75, 143), rules.get(2).getOnExitCodes().getValues());
        assertEquals("NotIn", rules.get(3).getOnExitCodes().getOperator());
        assertEquals(List.of(0, 75, 78, 143), rules.get(3).getOnExitCodes().getValues(),
                "any other code fails the Job with a condition naming the pod and the code");
    }

    @Test
    void aRunsKueuePriorityClassLabelGoesToItsQueuedJob() {
        MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");
        run.getMetadata().setLabels(new HashMap<>(Map.of(JobRenderer.KUEUE_PRIORITY_LABEL, "urgent")));
        assertNull(JobRenderer.render(Fixtures.input(run, 1)).getMetadata().getLabels()
                .get(JobRenderer.KUEUE_PRIORITY_LABEL), "not queued: Kueue's label means nothing");
        run.getSpec().queueName = "team-a-gpus";
        assertEquals("urgent", JobRenderer.render(Fixtures.input(run, 1)).getMetadata().getLabels()
                .get(JobRenderer.KUEUE_PRIORITY_LABEL));
    }

    @Test
    void gangSchedulersGetTheirSchedulerNameAndGroupMembership() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().gangScheduler = GangScheduler.VOLCANO;
        var input = Fixtures.input(run, 1);
        var pod = JobRenderer.render(input).getSpec().getTemplate();
        assertEquals("volcano", pod.getSpec().getSchedulerName());
        assertEquals("quickstart", pod.getMetadata().getAnnotations().get(GangPodGroup.VOLCANO_GROUP_ANNOTATION));
        var volcano = GangPodGroup.VOLCANO.render(input);
        assertEquals("scheduling.volcano.sh/v1beta1", volcano.getApiVersion());
        assertEquals(2, ((Map<?, ?>) volcano.getAdditionalProperties().get("spec")).get("minMember"));

        run.getSpec().gangScheduler = GangScheduler.COSCHEDULING;
        pod = JobRenderer.render(Fixtures.input(run, 1)).getSpec().getTemplate();
        assertEquals("scheduler-plugins-scheduler", pod.getSpec().getSchedulerName());
        assertEquals("quickstart", pod.getMetadata().getLabels().get(GangPodGroup.COSCHEDULING_GROUP_LABEL));
        assertEquals("scheduling.x-k8s.io/v1alpha1", GangPodGroup.COSCHEDULING.render(input).getApiVersion());
    }

    @Test
    void podsPassTheRestrictedPodSecurityProfile() {
        PodSpec pod = JobRenderer.render(Fixtures.input(Fixtures.pretrain("pretrain-vit-base.yaml"), 1))
                .getSpec().getTemplate().getSpec();
        assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
        assertTrue(pod.getSecurityContext().getRunAsUser() > 0);
        var sc = pod.getContainers().get(0).getSecurityContext();
        assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), sc.getCapabilities().getDrop());
        assertTrue(sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty());
        assertEquals(Boolean.FALSE, sc.getPrivileged());
        assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem());
        // ... so /tmp must be a writable emptyDir of the pod.
        var tmp = pod.getContainers().get(0).getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals("/tmp")).findFirst().orElseThrow();
        assertNotNull(pod.getVolumes().stream().filter(v -> v.getName().equals(tmp.getName())).findFirst()
                .orElseThrow().getEmptyDir());
        // The GPU pod's /dev/shm included: restricted allows emptyDir, claims, Secrets and projected volumes (the
        // trainer's token), never hostPath.
        assertTrue(pod.getVolumes().stream().anyMatch(v -> v.getName().equals(SharedMemory.VOLUME)));
        for (Volume v : pod.getVolumes()) {
            assertNull(v.getHostPath(), "no hostPath volumes");
            assertTrue(v.getEmptyDir() != null || v.getPersistentVolumeClaim() != null || v.getSecret() != null
                    || v.getProjected() != null, v.getName());
        }
        assertNull(pod.getHostNetwork());
    }

    @Test
    void aSpecImageWinsOverTheOperatorDefault() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        assertEquals("milan/trainer:0.1.0", container(JobRenderer.render(Fixtures.input(run, 1))).getImage());
        run.getSpec().image = "registry.local/milan-trainer:cuda";
        run.getSpec().imagePullPolicy = "IfNotPresent";
        Container c = container(JobRenderer.render(Fixtures.input(run, 1)));
        assertEquals("registry.local/milan-trainer:cuda", c.getImage());
        assertEquals("IfNotPresent", c.getImagePullPolicy());
    }

    /** The emptyDir mounted at /dev/shm. */
    static EmptyDirVolumeSource devShm(Job job) {
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        VolumeMount mount = pod.getContainers().get(0).getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals("/dev/shm")).findFirst().orElseThrow();
        assertNull(mount.getSubPath());
        return pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow()
                .getEmptyDir();
    }

    static Container container(Job job) {
        return job.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    static String after(List<String> args, String flag) {
        int i = args.indexOf(flag);
        assertTrue(i >= 0 && i + 1 < args.size(), flag + " missing in " + args);
        return args.get(i + 1);
    }

    static String envValue(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().orElseThrow().getValue();
    }
}
