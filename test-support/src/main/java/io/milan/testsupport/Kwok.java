package io.milan.testsupport;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;

/**
  * The pod annotations the local cluster's kwok stages (e2e/kwok/stages.yaml) react to. Pods on the
  * fake nodes become Running and stay so until one of these asks them to end.
  */
public final class Kwok {
    /** {@code Succeeded} or {@code Failed}: the phase a Running pod ends in. */
    public static final String PHASE = "kwok.milan.io/phase";
    /** Optional Go duration ("5s"): how long the pod keeps Running before it ends. */
    public static final String DELAY = "kwok.milan.io/delay";
    /** Optional exit code of every container of a Failed pod (default 1). */
    public static final String EXIT_CODE = "kwok.milan.io/exit-code";
    /**
     * Env var of a pod's first container: with the value {@code 143}, a deleted Running pod ends Failed with exit
     * code 143 before it goes, as under a real kubelet (SIGTERM, no handler). A Job with a podFailurePolicy (every
     * pod group Job of the operator) keeps its pods' tracking finalizer until they are terminal, so their pods need it.
     */
    public static final String SIGTERM_EXIT_ENV = "KWOK_SIGTERM_EXIT_CODE";

    private Kwok() {}

    /** Asks kwok to end the pod {@code name} (in the client's namespace) in {@code phase}. */
    public static Pod endPod(KubernetesClient client, String name, String phase) {
        if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) {
            throw new IllegalArgumentException("phase must be Succeeded or Failed, got " + phase);
        }
        Objects.requireNonNull(client.pods().withName(name).get(),
                () -> "no pod " + name + " in " + client.getNamespace());
        return client.pods().withName(name)
                .edit(p -> new PodBuilder(p).editMetadata().addToAnnotations(PHASE, phase).endMetadata().build());
    }
}
