package io.milan.operator.it;

import io.fabric8.kubernetes.client.KubernetesClient;

/** Makes the API server enforce the restricted Pod Security Standard in a test namespace. */
final class PodSecurity {
    private PodSecurity() {
    }

    static void enforceRestricted(KubernetesClient client, String namespace) {
        client.namespaces().withName(namespace).edit(ns -> {
            ns.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
            ns.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce-version", "latest");
            return ns;
        });
    }
}
