package io.milan.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/** The operator as the chart deploys it: its pods, found by the chart's name label. */
final class Operator {
    static final String NAMESPACE = System.getProperty("milan.e2e.operatorNamespace", "milan-system");
    static final String SELECTOR = "app.kubernetes.io/name=milan-operator";

    private Operator() {}

    static List<Pod> pods(KubernetesClient admin) {
        return admin.pods().inNamespace(NAMESPACE).withLabel("app.kubernetes.io/name", "milan-operator").list()
                .getItems();
    }

    static boolean ready(Pod pod) {
        return pod.getMetadata().getDeletionTimestamp() == null && pod.getStatus() != null
                && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }
}
