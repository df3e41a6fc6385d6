package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EmptyDirVolumeSource;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.milan.api.PodSecurityOverrides;
import io.milan.api.PodSpecOverrides;
import io.milan.api.PodTemplateOverrides.Metadata;
import io.milan.api.RunSpec;
import io.milan.api.TrainerOverrides;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Lays spec.podTemplate over the pod the operator rendered, as a strategic merge patch would: maps and lists are
 * merged by key (label key, volume and container name, mount path), scalars replace. What the operator rendered
 * wins: its labels, volumes, mounts and the trainer container are never replaced. The CRD's CEL rules refuse a run
 * whose overrides collide with them (io.milan.api.ReservedNames), so here a collision only happens with a CRD older
 * than the operator, and the operator's entry stays.
 */
public final class PodTemplateOverrides {
    private PodTemplateOverrides() {
    }

    /** The Job with spec.podTemplate laid over its pod template (the same object, changed in place). */
    public static Job apply(RunSpec spec, Job job) {
        io.milan.api.PodTemplateOverrides overrides = spec.podTemplate;
        if (overrides == null) {
            return job;
        }
        PodTemplateSpec template = job.getSpec().getTemplate();
        if (overrides.metadata != null) {
            metadata(overrides.metadata, template);
        }
        if (overrides.spec != null) {
            podSpec(overrides.spec, template.getSpec());
        }
        return job;
    }

    /** The ServiceAccount the trainer pods run as: the user's, or null for the operator's per-run one. */
    public static String userServiceAccount(RunSpec spec) {
        if (spec.podTemplate == null || spec.podTemplate.spec == null) {
            return null;
        }
        String name = spec.podTemplate.spec.serviceAccountName;
        return name == null || name.isBlank() ? null : name;
    }

    private static void metadata(Metadata overrides, PodTemplateSpec template) {
        template.getMetadata().setLabels(addAbsent(template.getMetadata().getLabels(), overrides.labels));
        template.getMetadata().setAnnotations(addAbsent(template.getMetadata().getAnnotations(),
                overrides.annotations));
    }

    private static void podSpec(PodSpecOverrides overrides, PodSpec pod) {
        if (overrides.serviceAccountName != null) {
            pod.setServiceAccountName(overrides.serviceAccountName);
        }
        if (overrides.imagePullSecrets != null) {
            pod.setImagePullSecrets(merged(pod.getImagePullSecrets(), overrides.imagePullSecrets,
                    s -> s.getName()));
        }
        if (overrides.runtimeClassName != null) {
            pod.setRuntimeClassName(overrides.runtimeClassName);
        }
        if (Boolean.TRUE.equals(overrides.hostNetwork)) {
            pod.setHostNetwork(true);
            // A host-network pod resolves names with its node's resolv.conf unless told otherwise, and then cannot
            // find rank 0 under the headless Service.
            pod.setDnsPolicy("ClusterFirstWithHostNet");
        }
        Container trainer = trainer(pod);
        if (overrides.securityContext != null) {
            security(overrides.securityContext, pod, trainer);
        }
        if (overrides.volumes != null) {
            pod.setVolumes(merged(pod.getVolumes(), overrides.volumes, Volume::getName));
        }
        if (overrides.trainer != null) {
            trainerAdditions(overrides.trainer, trainer);
        }
        if (overrides.initContainers != null) {
            pod.setInitContainers(merged(pod.getInitContainers(), withoutTrainer(overrides.initContainers),
                    Container::getName));
        }
        if (overrides.containers != null) {
            pod.setContainers(merged(pod.getContainers(), withoutTrainer(overrides.containers),
                    Container::getName));
        }
        sizeLimit(pod, RunVolumes.SCRATCH_VOLUME, overrides.tmpSizeLimit);
        sizeLimit(pod, RunVolumes.OUTPUT_VOLUME, overrides.outputSizeLimit);
    }

    private static void security(PodSecurityOverrides overrides, PodSpec pod, Container trainer) {
        PodSecurityContext context = pod.getSecurityContext();
        if (Boolean.TRUE.equals(overrides.platformAssignsIds)) {
            context.setRunAsUser(null);
            context.setRunAsGroup(null);
            context.setFsGroup(null);
        }
        if (overrides.runAsUser != null) {
            context.setRunAsUser(overrides.runAsUser);
        }
        if (overrides.runAsGroup != null) {
            context.setRunAsGroup(overrides.runAsGroup);
        }
        if (overrides.fsGroup != null) {
            context.setFsGroup(overrides.fsGroup);
        }
        if (overrides.fsGroupChangePolicy != null) {
            context.setFsGroupChangePolicy(overrides.fsGroupChangePolicy);
        }
        if (overrides.supplementalGroups != null) {
            context.setSupplementalGroups(overrides.supplementalGroups);
        }
        if (overrides.seccompProfile != null) {
            // The trainer container names its own profile, which would win over the pod's.
            context.setSeccompProfile(overrides.seccompProfile);
            trainer.getSecurityContext().setSeccompProfile(overrides.seccompProfile);
        }
    }

    private static void trainerAdditions(TrainerOverrides overrides, Container trainer) {
        if (overrides.volumeMounts != null) {
            trainer.setVolumeMounts(merged(trainer.getVolumeMounts(), overrides.volumeMounts,
                    VolumeMount::getMountPath));
        }
        if (overrides.envFrom != null) {
            // Explicit env wins over envFrom in Kubernetes, so the operator's variables stay.
            List<EnvFromSource> envFrom = new ArrayList<>(
                    trainer.getEnvFrom() == null ? List.of() : trainer.getEnvFrom());
            envFrom.addAll(overrides.envFrom);
            trainer.setEnvFrom(envFrom);
        }
    }

    private static void sizeLimit(PodSpec pod, String volume, String size) {
        if (size == null) {
            return;
        }
        for (Volume v : pod.getVolumes()) {
            EmptyDirVolumeSource emptyDir = v.getEmptyDir();
            if (v.getName().equals(volume) && emptyDir != null) {
                emptyDir.setSizeLimit(new Quantity(size));
            }
        }
    }

    private static Container trainer(PodSpec pod) {
        return pod.getContainers().stream().filter(c -> JobRenderer.CONTAINER.equals(c.getName())).findFirst()
                .orElseThrow(() -> new IllegalStateException("the rendered pod has no " + JobRenderer.CONTAINER
                        + " container"));
    }

    private static List<Container> withoutTrainer(List<Container> containers) {
        return containers.stream().filter(c -> !JobRenderer.CONTAINER.equals(c.getName())).toList();
    }

    /** The operator's entries, then the user's whose key none of them has. */
    static <T> List<T> merged(List<T> operators, List<T> users, Function<T, String> key) {
        List<T> all = new ArrayList<>(operators == null ? List.of() : operators);
        List<String> taken = new ArrayList<>(all.stream().map(key).toList());
        for (T u : users) {
            String k = key.apply(u);
            if (!taken.contains(k)) {
                all.add(u);
                taken.add(k);
            }
        }
        return all;
    }

    /** The operator's map, plus the user's keys it does not have. */
    static Map<String, String> addAbsent(Map<String, String> operators, Map<String, String> users) {
        Map<String, String> all = new LinkedHashMap<>(operators == null ? Map.of() : operators);
        if (users != null) {
            users.forEach(all::putIfAbsent);
        }
        return all.isEmpty() ? null : all;
    }
}
