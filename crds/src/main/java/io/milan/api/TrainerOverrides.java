package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.List;

/**
 * spec.podTemplate.spec.trainer: what may be added to the operator's trainer container. Only additions: its
 * command, arguments and rendezvous env are the operator's, so there is no field to change them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class TrainerOverrides {
    @Size(max = 32)
    @ValidationRule(value = "self.all(m, !(m.mountPath in ['/tmp', '/dev/shm'])"
            + " && !m.mountPath.startsWith('/var/run/milan'))",
            message = "spec.podTemplate.spec.trainer.volumeMounts may not mount at /tmp, /dev/shm or under"
                    + " /var/run/milan: the operator mounts its scratch, shared-memory and rendezvous-secret volumes"
                    + " there")
    @JsonPropertyDescription("Mounts of spec.podTemplate.spec.volumes in the trainer container. Paths the operator"
            + " mounts (the output, claimed inputs, /tmp, /dev/shm, /var/run/milan) are refused.")
    public List<VolumeMount> volumeMounts;

    @Size(max = 16)
    @JsonPropertyDescription("ConfigMaps and Secrets whose keys become env variables of the trainer. The operator's"
            + " own variables (spec.env's reserved names) win over a key of the same name, as explicit env does in"
            + " Kubernetes.")
    public List<EnvFromSource> envFrom;
}
