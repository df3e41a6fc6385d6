package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import java.util.List;

/**
 * spec.podTemplate.spec.securityContext: the pod's IDs and seccomp profile. The rest of the operator's security
 * context (non-root, no privilege escalation, every capability dropped, read-only root) stays, so the pods keep
 * passing the restricted Pod Security Standard.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.platformAssignsIds) || !self.platformAssignsIds"
        + " || !(has(self.runAsUser) || has(self.runAsGroup) || has(self.fsGroup))",
        message = "spec.podTemplate.spec.securityContext.platformAssignsIds leaves runAsUser, runAsGroup and fsGroup"
                + " to the platform; do not set them too",
        fieldPath = ".platformAssignsIds")
@JsonIgnoreProperties(ignoreUnknown = true)
public class PodSecurityOverrides {
    @Min(1)
    @JsonPropertyDescription("UID of the pod's containers, instead of the operator's (10001 by default). Root (0)"
            + " is refused: the pods run as non-root.")
    public Long runAsUser;

    @Min(0)
    @JsonPropertyDescription("Primary GID of the pod's containers.")
    public Long runAsGroup;

    @Min(0)
    @JsonPropertyDescription("Group that owns mounted volumes, so the trainer can write its output claim.")
    public Long fsGroup;

    @Pattern("^(OnRootMismatch|Always)$")
    @JsonPropertyDescription("When the kubelet changes the owner of a volume to fsGroup: OnRootMismatch (skips"
            + " large datasets already owned) or Always.")
    public String fsGroupChangePolicy;

    @Size(max = 32)
    @JsonPropertyDescription("Extra GIDs of the pod's containers (a group that may read a shared dataset).")
    public List<Long> supplementalGroups;

    @ValidationRule(value = "self.type in ['RuntimeDefault', 'Localhost']",
            message = "spec.podTemplate.spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost"
                    + " (the restricted Pod Security Standard refuses Unconfined)")
    @JsonPropertyDescription("Seccomp profile of the pod and the trainer container (RuntimeDefault or Localhost).")
    public SeccompProfile seccompProfile;

    @JsonPropertyDescription("Leave runAsUser, runAsGroup and fsGroup unset, for platforms that assign them per"
            + " namespace (OpenShift's restricted-v2 SCC refuses any UID outside the namespace's range). The pods"
            + " still run as non-root.")
    public Boolean platformAssignsIds;
}
