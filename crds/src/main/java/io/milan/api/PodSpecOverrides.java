package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.List;

/**
 * spec.podTemplate.spec: the pod fields a platform team sets. Lists are merged by name into the operator's; the
 * operator's entries (the trainer container, its volumes) cannot be replaced, so the rules refuse their names.
 * nodeSelector, tolerations, affinity, priorityClassName, env and resources are fields of the run's spec itself.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.trainer) || !has(self.trainer.volumeMounts) || self.trainer.volumeMounts.all(m,"
        + " has(self.volumes) && self.volumes.exists(v, v.name == m.name))",
        message = "spec.podTemplate.spec.trainer.volumeMounts must each name a volume of"
                + " spec.podTemplate.spec.volumes (the operator mounts its own volumes itself)",
        fieldPath = ".trainer.volumeMounts")
@ValidationRule(value = "!has(self.containers) || !has(self.initContainers)"
        + " || self.containers.all(c, !self.initContainers.exists(i, i.name == c.name))",
        message = "spec.podTemplate.spec.containers and initContainers must not share a name",
        fieldPath = ".containers")
@JsonIgnoreProperties(ignoreUnknown = true)
public class PodSpecOverrides {
    static final String DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    /**
     * The run's ServiceAccount stays what it was when the run started: the operator creates the trainer's
     * RoleBinding once, so a later attempt under another account could not report its progress.
     */
    static final String SERVICE_ACCOUNT_UNCHANGED = ApiGroup.UNLESS_STARTED
            + "(has(self.spec.podTemplate) && has(self.spec.podTemplate.spec)"
            + " && has(self.spec.podTemplate.spec.serviceAccountName) ? self.spec.podTemplate.spec.serviceAccountName"
            + " : '') == (has(oldSelf.spec.podTemplate) && has(oldSelf.spec.podTemplate.spec)"
            + " && has(oldSelf.spec.podTemplate.spec.serviceAccountName)"
            + " ? oldSelf.spec.podTemplate.spec.serviceAccountName : '')";
    static final String SERVICE_ACCOUNT_MESSAGE = "spec.podTemplate.spec.serviceAccountName cannot change once the"
            + " run has started";
    static final String SERVICE_ACCOUNT_FIELD = ".spec.podTemplate.spec.serviceAccountName";
    static final String QUANTITY = "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([KMGTPE]i|[kMGTPE]|[eE][-+]?[0-9]+)?$";

    @Size(max = 253)
    @Pattern(DNS_SUBDOMAIN)
    @JsonPropertyDescription("ServiceAccount of the trainer pods (IRSA, GKE Workload Identity, a registry's pull"
            + " secrets). It replaces the per-run ServiceAccount the operator would create; the operator binds the"
            + " run's Role (get the run, get/patch its status) to it, so the trainer still reports progress.")
    public String serviceAccountName;

    @Size(max = 16)
    @JsonPropertyDescription("Secrets for pulling the trainer image and the extra containers' images from a private"
            + " registry.")
    public List<LocalObjectReference> imagePullSecrets;

    @Size(max = 253)
    @Pattern(DNS_SUBDOMAIN)
    @JsonPropertyDescription("RuntimeClass of the trainer pods (the NVIDIA container runtime on clusters that do"
            + " not make it the default, gVisor, Kata).")
    public String runtimeClassName;

    @JsonPropertyDescription("Run the trainer pods in their node's network namespace, for RDMA/InfiniBand NICs that"
            + " a CNI does not expose. The pods then bind spec.masterPort on the node (the scheduler keeps two pods"
            + " on one port off the same node), see every interface of the node, and need a namespace whose Pod"
            + " Security level is privileged. DNS stays the cluster's (dnsPolicy ClusterFirstWithHostNet).")
    public Boolean hostNetwork;

    @JsonPropertyDescription("Pod-level security context fields (UIDs, groups, seccomp).")
    public PodSecurityOverrides securityContext;

    @Size(max = 32)
    @ValidationRule(value = ReservedNames.VOLUME_RULE, message = ReservedNames.VOLUME_MESSAGE)
    @JsonPropertyDescription("Extra volumes of the trainer pods (secrets, a shared dataset cache, hostPath for"
            + " local NVMe). Mount them in the trainer with trainer.volumeMounts, or in an extra container.")
    public List<Volume> volumes;

    @JsonPropertyDescription("Additions to the trainer container. Its image, command, arguments, ports, resources"
            + " and env come from the run's spec; env additions go in spec.env.")
    public TrainerOverrides trainer;

    @Size(max = 8)
    @ValidationRule(value = "self.all(c, c.name != '" + ReservedNames.TRAINER_CONTAINER + "')",
            message = "spec.podTemplate.spec.initContainers may not be named " + ReservedNames.TRAINER_CONTAINER
                    + ": that is the operator's container")
    @JsonPropertyDescription("Init containers, run before the trainer (restartPolicy Always makes a native sidecar"
            + " that runs beside it).")
    public List<Container> initContainers;

    @Size(max = 8)
    @ValidationRule(value = "self.all(c, c.name != '" + ReservedNames.TRAINER_CONTAINER + "')",
            message = "spec.podTemplate.spec.containers may not be named " + ReservedNames.TRAINER_CONTAINER
                    + ": that is the operator's container")
    @JsonPropertyDescription("Extra containers beside the trainer (log shippers, proxies). A pod's Job completes"
            + " when all its containers have exited, so an extra container must end with the trainer; a native"
            + " sidecar (an initContainer with restartPolicy Always) does not hold the pod open.")
    public List<Container> containers;

    @Pattern(QUANTITY)
    @JsonPropertyDescription("sizeLimit of the trainer's /tmp emptyDir (JVM and DJL temp files), a quantity such as"
            + " 10Gi; unset, it is bounded only by the node's ephemeral storage.")
    public String tmpSizeLimit;

    @Pattern(QUANTITY)
    @JsonPropertyDescription("sizeLimit of the output emptyDir a run without spec.output.claimName writes its"
            + " checkpoints to; the kubelet evicts the pod past it.")
    public String outputSizeLimit;
}
