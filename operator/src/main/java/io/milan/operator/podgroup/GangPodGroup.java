package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.milan.api.GangScheduler;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The PodGroup a gang scheduler needs so that all pods of the group are placed together or not at all
 * (minMember = nodes). Built as a generic resource: the operator compiles and runs without either scheduler's
 * CRDs, and a run asking for a scheduler whose CRD is missing fails with a message naming it.
 */
public enum GangPodGroup {
    VOLCANO("scheduling.volcano.sh", "v1beta1", "volcano"),
    COSCHEDULING("scheduling.x-k8s.io", "v1alpha1", "scheduler-plugins-scheduler");

    /** Volcano finds a pod's group from this annotation. */
    public static final String VOLCANO_GROUP_ANNOTATION = "scheduling.k8s.io/group-name";
    /** The coscheduling plugin finds a pod's group from this label. */
    public static final String COSCHEDULING_GROUP_LABEL = "scheduling.x-k8s.io/pod-group";
    public static final String KIND = "PodGroup";

    public final String group;
    public final String version;
    public final String schedulerName;

    GangPodGroup(String group, String version, String schedulerName) {
        this.group = group;
        this.version = version;
        this.schedulerName = schedulerName;
    }

    /** The scheduler's PodGroup support, or null when the run asks for none. */
    public static GangPodGroup of(GangScheduler scheduler) {
        if (scheduler == null) {
            return null;
        }
        return switch (scheduler) {
            case VOLCANO -> VOLCANO;
            case COSCHEDULING -> COSCHEDULING;
            case NONE -> null;
        };
    }

    public String apiVersion() {
        return group + "/" + version;
    }

    /** "podgroups.scheduling.volcano.sh/v1beta1", as a user would look the CRD up. */
    public String crdDescription() {
        return "podgroups." + group + "/" + version;
    }

    public GenericKubernetesResource render(RenderInput in) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("minMember", in.spec().nodes);
        if (this == VOLCANO && in.spec().priorityClassName != null) {
            spec.put("priorityClassName", in.spec().priorityClassName);
        }
        GenericKubernetesResource pg = new GenericKubernetesResource();
        pg.setApiVersion(apiVersion());
        pg.setKind(KIND);
        pg.setMetadata(in.childMetadata(in.names().podGroup()));
        pg.setAdditionalProperty("spec", spec);
        return pg;
    }

    /** Pod labels that tie a pod to its group. */
    public Map<String, String> podLabels(RenderInput in) {
        return this == COSCHEDULING ? Map.of(COSCHEDULING_GROUP_LABEL, in.names().podGroup()) : Map.of();
    }

    /** Pod annotations that tie a pod to its group. */
    public Map<String, String> podAnnotations(RenderInput in) {
        return this == VOLCANO ? Map.of(VOLCANO_GROUP_ANNOTATION, in.names().podGroup()) : Map.of();
    }
}
