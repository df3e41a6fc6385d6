package io.milan.e2e;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Each test class gets its own namespace ({@code e2e-<class>-<random>}, labelled {@code milan.io/e2e}) and a
 * client defaulting to it; the namespace is deleted after the class unless {@code -Dmilan.e2e.keep=true}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class E2ETestBase {
    protected E2ECluster cluster;
    protected KubernetesClient client;
    protected String namespace;
    protected Runs runs;

    @BeforeAll
    void createNamespace() {
        cluster = E2ECluster.get();
        String base = getClass().getSimpleName().replaceAll("E2E$", "").replaceAll("([a-z0-9])([A-Z])", "$1-$2")
                .toLowerCase(Locale.ROOT);
        namespace = "e2e-" + base + "-" + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
        cluster.admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace)
                .addToLabels("milan.io/e2e", "true").endMetadata().build()).create();
        // Pods are refused until the service-account controller has made the namespace's "default" account.
        cluster.admin.serviceAccounts().inNamespace(namespace).withName("default")
                .waitUntilCondition(Objects::nonNull, 60, TimeUnit.SECONDS);
        client = new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(cluster.admin.getConfiguration()).withNamespace(namespace).build())
                .build();
        runs = new Runs(client, cluster);
        System.out.printf("%s: namespace %s on the %s%n", getClass().getSimpleName(), namespace, cluster.description);
    }

    @AfterAll
    void deleteNamespace() {
        if (client == null) {
            return;
        }
        client.close();
        if (Boolean.getBoolean("milan.e2e.keep")) {
            System.out.println("kept namespace " + namespace + " (-Dmilan.e2e.keep=true)");
            return;
        }
        cluster.admin.namespaces().withName(namespace).delete();
        // Waiting frees the node's CPU for the next class (its trainer pods must be gone first).
        cluster.admin.namespaces().withName(namespace).waitUntilCondition(Objects::isNull, 5, TimeUnit.MINUTES);
    }
}
