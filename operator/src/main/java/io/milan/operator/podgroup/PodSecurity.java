package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.milan.operator.config.OperatorSettings;

/**
 * Security contexts that pass the {@code restricted} Pod Security Standard: non-root, RuntimeDefault seccomp,
 * no privilege escalation, every capability dropped; and a read-only root filesystem (the trainer writes only to
 * its output and to an emptyDir at /tmp, see {@link RunVolumes}).
 */
public final class PodSecurity {
    private PodSecurity() {
    }

    public static PodSecurityContext pod(OperatorSettings settings) {
        return new PodSecurityContextBuilder()
                .withRunAsNonRoot(true)
                .withRunAsUser(settings.runAsUser())
                .withRunAsGroup(settings.runAsGroup())
                .withFsGroup(settings.fsGroup())
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .build();
    }

    public static SecurityContext container() {
        return new SecurityContextBuilder()
                .withRunAsNonRoot(true)
                .withAllowPrivilegeEscalation(false)
                .withPrivileged(false)
                .withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .build();
    }
}
