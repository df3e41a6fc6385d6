package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.milan.api.MilanFinetuneSpec;
import io.milan.api.MilanPretrainSpec;
import io.milan.operator.naming.Labels;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pod group of one attempt: an Indexed Job with one pod per node (completions = parallelism = nodes) and
 * backoffLimit 0, because the operator restarts the whole gang itself. Pods get stable hostnames
 * {@code <job>-<index>} under the headless Service, so rank 0 is reachable at {@code <job>-0.<service>}.
 */
public final class JobRenderer {
    /** Kueue picks up Jobs carrying this label; they must be created suspended. */
    public static final String KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name";
    /** Kueue's WorkloadPriorityClass of a Job; a run with this label passes it on to its queued Jobs. */
    public static final String KUEUE_PRIORITY_LABEL = "kueue.x-k8s.io/priority-class";
    public static final String CONTAINER = "trainer";

    private JobRenderer() {
    }

    /** Whether Kueue manages the Job (it carries {@link #KUEUE_QUEUE_LABEL}): Kueue suspends and resumes it. */
    public static boolean isKueueManaged(Job job) {
        return job.getMetadata().getLabels() != null && job.getMetadata().getLabels().containsKey(KUEUE_QUEUE_LABEL);
    }

    public static Job render(RenderInput in) {
        var spec = in.spec();
        GangPodGroup gang = GangPodGroup.of(spec.gangScheduler);
        List<RunVolumes.Location> locations = RunVolumes.locations(spec, in.pretrained());

        Map<String, String> jobLabels = new LinkedHashMap<>(in.labels());
        jobLabels.put(Labels.ATTEMPT, String.valueOf(in.attempt()));
        boolean queued = spec.queueName != null && !spec.queueName.isBlank();
        if (queued) {
            jobLabels.put(KUEUE_QUEUE_LABEL, spec.queueName);
            Map<String, String> runLabels = in.run().getMetadata().getLabels();
            if (runLabels != null && runLabels.get(KUEUE_PRIORITY_LABEL) != null) {
                jobLabels.put(KUEUE_PRIORITY_LABEL, runLabels.get(KUEUE_PRIORITY_LABEL));
            }
        }
        Map<String, String> podLabels = new LinkedHashMap<>(in.labels());
        podLabels.put(Labels.ATTEMPT, String.valueOf(in.attempt()));
        Map<String, String> podAnnotations = new LinkedHashMap<>(in.annotations());
        if (gang != null) {
            podLabels.putAll(gang.podLabels(in));
            podAnnotations.putAll(gang.podAnnotations(in));
        }

        var container = new ContainerBuilder()
                .withName(CONTAINER)
                .withImage(in.image())
                .withImagePullPolicy(spec.imagePullPolicy)
                .withCommand(TrainerArgs.ENTRYPOINT)
                .withArgs(args(in))
                .withEnv(TrainerEnv.of(in))
                .withPorts(new ContainerPortBuilder().withName("rendezvous")
                        .withContainerPort(spec.masterPort).build())
                .withResources(resources(in))
                .withVolumeMounts(RunVolumes.mounts(locations))
                .addAllToVolumeMounts(SharedMemory.mounts(spec))
                .addAllToVolumeMounts(RunIsolation.mounts(in))
                .addAllToVolumeMounts(TrainerToken.mounts())
                .withSecurityContext(PodSecurity.container())
                // The trainer writes a JSON summary there; the log tail stands in if it dies before that.
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .build();

        var podSpec = new PodSpecBuilder()
                .withRestartPolicy("Never")
                // The trainer reads it too (TrainerEnv): whether a checkpoint fits before the kubelet's SIGKILL.
                .withTerminationGracePeriodSeconds(TrainerEnv.gracePeriodSeconds(spec))
                .withSubdomain(in.names().service())
                .withServiceAccountName(in.names().trainerAccount())
                // Only rank 0's progress reporter uses the token (its Role: get this run, patch its status): the
                // trainer container gets a short-lived one (TrainerToken), extra containers none.
                .withAutomountServiceAccountToken(false)
                .withSchedulerName(gang != null ? gang.schedulerName : null)
                .withNodeSelector(spec.nodeSelector)
                .withTolerations(spec.tolerations)
                .withAffinity(NodeSpread.affinity(spec.affinity, spec.nodes, in.labels(), in.attempt()))
                .withPriorityClassName(spec.priorityClassName)
                .withSecurityContext(PodSecurity.pod(in.settings()))
                .withContainers(container)
                .withVolumes(RunVolumes.volumes(locations))
                .addAllToVolumes(SharedMemory.volumes(spec))
                .addAllToVolumes(RunIsolation.volumes(in))
                .addAllToVolumes(TrainerToken.volumes())
                .build();

        // spec.podTemplate last: it adds to the pod, and replaces only what the operator lets a user choose.
        return PodTemplateOverrides.apply(spec, new JobBuilder()
                .withNewMetadata()
                    .withName(in.names().job(in.attempt()))
                    .withNamespace(in.namespace())
                    .withLabels(jobLabels)
                    .withAnnotations(in.annotations())
                    .withOwnerReferences(in.owner())
                .endMetadata()
                .withNewSpec()
                    .withCompletionMode("Indexed")
                    .withCompletions(spec.nodes)
                    .withParallelism(spec.nodes)
                    .withBackoffLimit(0)
                    // Kueue unsuspends the Job when it admits the workload.
                    .withSuspend(queued ? Boolean.TRUE : null)
                    .withPodFailurePolicy(FailurePolicy.of(queued))
                    .withNewTemplate()
                        .withNewMetadata().withLabels(podLabels).withAnnotations(podAnnotations).endMetadata()
                        .withSpec(podSpec)
                    .endTemplate()
                .endSpec()
                .build());
    }

    /** One trainer process per device of the pod, each with the same subcommand and flags. */
    static List<String> args(RenderInput in) {
        return TrainerArgs.launch(in.spec().devicesPerNode(), subcommand(in));
    }

    private static List<String> subcommand(RenderInput in) {
        String outputDir = RunVolumes.output(in.spec()).path;
        if (in.spec() instanceof MilanPretrainSpec p) {
            return TrainerArgs.pretrain(p, outputDir);
        }
        return TrainerArgs.finetune((MilanFinetuneSpec) in.spec(), outputDir, in.pretrained().checkpointPath());
    }

    /** spec.resources plus the node's GPUs, requested and limited alike (extended resources cannot overcommit). */
    static ResourceRequirements resources(RenderInput in) {
        var spec = in.spec();
        Map<String, Quantity> requests = new LinkedHashMap<>();
        Map<String, Quantity> limits = new LinkedHashMap<>();
        if (spec.resources != null) {
            if (spec.resources.getRequests() != null) {
                requests.putAll(spec.resources.getRequests());
            }
            if (spec.resources.getLimits() != null) {
                limits.putAll(spec.resources.getLimits());
            }
        }
        if (spec.usesGpus()) {
            Quantity gpus = new Quantity(String.valueOf(spec.gpusPerNode));
            requests.put(spec.gpuResourceName, gpus);
            limits.put(spec.gpuResourceName, gpus);
        }
        return new ResourceRequirementsBuilder()
                .withRequests(requests.isEmpty() ? null : requests)
                .withLimits(limits.isEmpty() ? null : limits)
                .build();
    }
}
