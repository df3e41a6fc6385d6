package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/**
 * What both kinds share: the parts of the recipe that mean the same in pretraining and fine-tuning, and the
 * Kubernetes parts (where and how the pod group runs).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public abstract class RunSpec {

    // ---- recipe (mirrors the reference command line) ----

    @Default("vit_base")
    @JsonPropertyDescription("ViT encoder (--model): vit_small, vit_base, vit_large (patch 16), vit_huge"
            + " (patch 14), vit_tiny (192 wide) or vit_micro (128 wide, 6 blocks), for CPU runs.")
    public VitModel model = VitModel.VIT_BASE;

    @Min(1)
    @Max(32)
    @JsonPropertyDescription("Patch size in pixels; defaults to the model's (16, or 14 for vit_huge). Small"
            + " inputs such as the 32-pixel CPU quickstart use 4.")
    public Integer patchSize;

    @Min(8)
    @Default("224")
    @JsonPropertyDescription("Input image size in pixels (--input_size).")
    public Integer inputSize = 224;

    @Min(1)
    @Default("1")
    @JsonPropertyDescription("Gradient accumulation steps (--accum_iter). Effective batch size = batchSize x"
            + " gpusPerNode x nodes x accumIter (a CPU pod counts as one device).")
    public Integer accumIter = 1;

    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Absolute learning rate (--lr). When unset, lr = blr x effective batch size / 256.")
    public Double lr;

    @Required
    @ValidationRule(value = StorageLocation.INPUT_RULE, message = "spec.dataset" + StorageLocation.INPUT_MESSAGE)
    @JsonPropertyDescription("Training data (--data_path): the directory holding train/ (and, for fine-tuning,"
            + " val/), each an ImageFolder tree of <class>/<image> files, as the reference expects, or the shards"
            + " of `milan-trainer shard`; in object storage (s3) only shards.")
    public StorageLocation dataset;

    @ValidationRule(value = "has(self.path)", message = "spec.output.path is required: the output directory (with"
            + " s3, the trainer's local working copy)")
    @JsonPropertyDescription("Where checkpoints and log.txt go (--output_dir). Use a claim so checkpoints survive"
            + " gang restarts; without one an emptyDir is used and every attempt starts from scratch.")
    public StorageLocation output;

    @Min(0)
    @Default("0")
    @JsonPropertyDescription("Random seed (--seed); rank r of the group uses seed + r for data order.")
    public Integer seed = 0;

    @Min(0)
    @Default("10")
    @JsonPropertyDescription("Data-loading worker threads per pod (--num_workers).")
    public Integer numWorkers = 10;

    @Min(0)
    @Default("3")
    @JsonPropertyDescription("How many checkpoints to keep (the newest N); 0 keeps all.")
    public Integer keepCheckpoints = 3;

    // ---- Kubernetes ----

    @Pattern("\\S")
    @JsonPropertyDescription("Trainer container image. When unset the operator's configured default image is"
            + " used.")
    public String image;

    @Pattern("^(Always|IfNotPresent|Never)$")
    @JsonPropertyDescription("Image pull policy of the trainer container (Always, IfNotPresent, Never).")
    public String imagePullPolicy;

    @Min(1)
    @Max(1024)
    @Default("1")
    @JsonPropertyDescription("Number of pods (one per node) in the gang-scheduled pod group.")
    public Integer nodes = 1;

    @Min(0)
    @Max(64)
    @Default("8")
    @JsonPropertyDescription("GPUs each pod requests (all of its node's GPUs). 0 runs on CPU.")
    public Integer gpusPerNode = 8;

    @Default("nvidia.com/gpu")
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
    @JsonPropertyDescription("Extended resource name under which GPUs are requested.")
    public String gpuResourceName = "nvidia.com/gpu";

    @JsonPropertyDescription("CPU and memory requests/limits of each trainer container (GPUs come from"
            + " gpusPerNode).")
    public ResourceRequirements resources;

    @JsonPropertyDescription("Size of the trainer pod's memory-backed /dev/shm, a Kubernetes quantity such as 8Gi"
            + " (NCCL passes data between the GPUs of a pod through it). GPU pods get 8Gi when unset; CPU pods get"
            + " one only when this is set. Its pages count toward the container's memory limit.")
    public String shmSize;

    @JsonPropertyDescription("Node selector of the trainer pods.")
    public Map<String, String> nodeSelector;

    @JsonPropertyDescription("Tolerations of the trainer pods.")
    public List<Toleration> tolerations;

    @JsonPropertyDescription("Affinity of the trainer pods.")
    public Affinity affinity;

    @JsonPropertyDescription("PriorityClass of the trainer pods.")
    public String priorityClassName;

    @Size(max = 128)
    @ValidationRule(value = ReservedNames.ENV_RULE, message = ReservedNames.ENV_MESSAGE)
    @JsonPropertyDescription("Extra environment variables of the trainer container. The rendezvous and run"
            + " variables the operator sets (MASTER_ADDR, WORLD_SIZE, MILAN_RUN_NAME, ...) are refused.")
    public List<EnvVar> env;

    @JsonPropertyDescription("Additions to the trainer pods, as Kubeflow Trainer's podTemplateOverrides: labels,"
            + " annotations, a ServiceAccount, pull secrets, volumes and mounts, envFrom, a RuntimeClass, IDs and"
            + " seccomp, hostNetwork, extra containers. What the operator relies on (the trainer's command and"
            + " rendezvous env, its volumes, the Job's labels) cannot be overridden; see docs/operator.md.")
    public PodTemplateOverrides podTemplate;

    @Size(max = 63)
    @Pattern("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
    @JsonPropertyDescription("Kueue LocalQueue name: the pod group's Job carries the kueue.x-k8s.io/queue-name"
            + " label, is created suspended and the run shows Queued until Kueue admits it.")
    public String queueName;

    @Default("none")
    @JsonPropertyDescription("Gang scheduler: none, volcano or coscheduling. The latter two get a PodGroup with"
            + " minMember = nodes and the matching schedulerName.")
    public GangScheduler gangScheduler = GangScheduler.NONE;

    @Default("auto")
    @JsonPropertyDescription("Mixed precision (--amp): auto (float16 with dynamic loss scaling on GPUs, as the"
            + " reference's torch.cuda.amp; float32 on CPUs), fp16, bf16 (bfloat16, no loss scaling; A100/H100) or"
            + " off (float32). Steps that float16 loss scaling skips show in status.progress.skippedSteps.")
    public MixedPrecision amp = MixedPrecision.AUTO;

    @Default("false")
    @JsonPropertyDescription("Let float32 matmuls use TF32 tensor cores on Ampere and newer GPUs (--tf32; PyTorch's"
            + " torch.backends.cuda.matmul.allow_tf32). Off by default, as in PyTorch. No effect on CPUs.")
    public Boolean tf32 = false;

    @Default("false")
    @JsonPropertyDescription("Suspend the run: its pods are removed and it resumes from its latest checkpoint"
            + " when set back to false.")
    public Boolean suspend = false;

    @JsonPropertyDescription("Gang restart policy.")
    public RestartPolicy restartPolicy = new RestartPolicy();

    @Min(1)
    @JsonPropertyDescription("Fail the run when its pod group has been admitted and unsuspended for longer than"
            + " this many seconds in all (status.activeSeconds), summed over attempts. Time queued in Kueue, evicted,"
            + " suspended by spec.suspend or waiting between attempts does not count.")
    public Long activeDeadlineSeconds;

    @Min(0)
    @Max(3600)
    @Default("30")
    @JsonPropertyDescription("Seconds a trainer pod has between SIGTERM and SIGKILL when it is stopped from outside"
            + " (drain, preemption, Kueue eviction): its terminationGracePeriodSeconds, passed to the trainer as"
            + " MILAN_TERMINATION_GRACE_SECONDS. The trainer stops at the next step boundary and writes the epoch's"
            + " checkpoint first only if that fits in half of this time. At most an hour.")
    public Long terminationGracePeriodSeconds = 30L;

    @Min(0)
    @JsonPropertyDescription("Delete the run this many seconds after it Succeeded or Failed.")
    public Integer ttlSecondsAfterFinished;

    @Default("Running")
    @JsonPropertyDescription("Which pods to delete when the run ends: All, Running (keep finished pods for their"
            + " logs) or None.")
    public CleanPodPolicy cleanPodPolicy = CleanPodPolicy.RUNNING;

    @Min(1024)
    @Max(65535)
    @Default("29500")
    @JsonPropertyDescription("TCP port of the gradient all-reduce rendezvous (MASTER_PORT).")
    public Integer masterPort = 29500;

    /** Whether each pod requests GPUs (gpusPerNode > 0); otherwise it runs on CPU. */
    public boolean usesGpus() {
        return gpusPerNode != null && gpusPerNode > 0;
    }

    /** Devices per pod as the trainer sees them, one trainer process each: a CPU pod is one device. */
    public int devicesPerNode() {
        return usesGpus() ? gpusPerNode : 1;
    }

    /** Trainer processes in the group (WORLD_SIZE): one per device of every pod. */
    public int worldSize() {
        return nodes * devicesPerNode();
    }
}
