package io.milan.testsupport;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
  * What a test class annotated with {@link WithLocalCluster} works with: its own namespace, a
  * client defaulting to that namespace, the kubeconfig, kubectl, and the fake-node layout of the
  * local cluster.
  */
public final class TestCluster implements AutoCloseable {
    /** Label put on every namespace the extension creates. */
    public static final String NAMESPACE_LABEL = "milan.io/test-class";
    private static final Duration KUBECTL_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration KUEUE_TIMEOUT = Duration.ofMinutes(3);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SharedCluster shared;
    private final String namespace;
    private final KubernetesClient client;

    private TestCluster(SharedCluster shared, String namespace, KubernetesClient client) {
        this.shared = shared;
        this.namespace = namespace;
        this.client = client;
    }

    /** Creates a fresh namespace for {@code testClass} and waits until pods can be created in it. */
    static TestCluster create(SharedCluster shared, Class<?> testClass) {
        String name = namespaceName(testClass);
        shared.admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
                .addToLabels(NAMESPACE_LABEL, labelValue(testClass.getSimpleName())).endMetadata().build()).create();
        // Pods are refused until the service-account controller has created the namespace's "default" account.
        shared.admin.serviceAccounts().inNamespace(name).withName("default")
                .waitUntilCondition(Objects::nonNull, 60, TimeUnit.SECONDS);
        KubernetesClient client = new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(shared.config).withNamespace(name).build()).build();
        return new TestCluster(shared, name, client);
    }

    static String namespaceName(Class<?> testClass) {
        String base = labelValue(testClass.getSimpleName());
        if (base.length() > 40) {
            base = base.substring(0, 40).replaceAll("-+$", "");
        }
        StringBuilder suffix = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            suffix.append("abcdefghijklmnopqrstuvwxyz0123456789".charAt(RANDOM.nextInt(36)));
        }
        return "it-" + base + "-" + suffix;
    }

    private static String labelValue(String simpleName) {
        // FakeGpuNodesIT -> fake-gpu-nodes-it; AVeryLong -> a-very-long
        String s = simpleName.replaceAll("([A-Z]+)([A-Z][a-z])", "$1-$2").replaceAll("([a-z0-9])([A-Z])", "$1-$2")
                .toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        return s.length() > 63 ? s.substring(0, 63).replaceAll("-+$", "") : s;
    }

    /** The namespace created for this test class (deleted after it). */
    public String namespace() {
        return namespace;
    }

    /** A client whose default namespace is {@link #namespace()}. */
    public KubernetesClient client() {
        return client;
    }

    /** The client configuration (admin, default namespace {@link #namespace()}), e.g. for an in-process operator. */
    public Config config() {
        return new ConfigBuilder(shared.config).withNamespace(namespace).build();
    }

    /** The kubeconfig: a file path, or when attached to KUBECONFIG, that variable's value. */
    public String kubeconfig() {
        return shared.kubeconfig;
    }

    /** True when the extension started the cluster (tier C: kwok fake GPU nodes). */
    public boolean isLocal() {
        return shared.localNodes.isPresent();
    }

    /** Number of fake GPU nodes of the local cluster. */
    public int fakeNodeCount() {
        return localNodes().count();
    }

    /** nvidia.com/gpu advertised by each fake node of the local cluster. */
    public int gpusPerNode() {
        return localNodes().gpusPerNode();
    }

    private SharedCluster.LocalNodes localNodes() {
        return shared.localNodes.orElseThrow(() -> new IllegalStateException(
                "this test needs the local cluster with kwok fake GPU nodes, but KUBECONFIG=" + shared.kubeconfig
                        + " is set, so an existing cluster is used; unset KUBECONFIG to run it"));
    }

    /**
      * Makes sure Kueue runs in this cluster: on the local cluster, starts it once with {@code e2e/local-cluster.sh
      * kueue} (its CRDs and its controller, built by e2e/build-kueue.sh; later calls find it running); on a cluster
      * named by KUBECONFIG, checks that Kueue's CRDs are installed. Only the test classes that call this pay for it.
      */
    public synchronized void ensureKueue() {
        if (shared.workDir.isEmpty()) {
            if (shared.admin.apiextensions().v1().customResourceDefinitions()
                    .withName("clusterqueues.kueue.x-k8s.io").get() == null) {
                throw new IllegalStateException("this test needs Kueue, but the cluster of KUBECONFIG="
                        + shared.kubeconfig + " has no clusterqueues.kueue.x-k8s.io CRD; install Kueue there or"
                        + " unset KUBECONFIG to use the local cluster");
            }
            return;
        }
        Path repo = repoPath("");
        List<String> cmd = List.of(repo.resolve(RepoRoot.MARKER).toString(), "kueue", "--dir",
                shared.workDir.get().toString());
        CommandResult up = Commands.run(cmd, Map.of(), repo, KUEUE_TIMEOUT);
        if (!up.succeeded()) {
            throw new IllegalStateException("Kueue did not start in the local test cluster (" + String.join(" ", cmd)
                    + " exited with " + up.exitCode() + "):\n" + up.stderr() + up.stdout());
        }
    }

    /** The log of the local cluster's component {@code name} (e.g. kueue), for a failure message. */
    public Optional<Path> componentLog(String name) {
        return shared.workDir.map(d -> d.resolve("logs").resolve(name + ".log"));
    }

    /** The repository root (the directory holding e2e/local-cluster.sh), if the tests run inside it. */
    public Optional<Path> repoRoot() {
        return shared.repoRoot;
    }

    /** A path inside the repository; fails with a clear message outside it. */
    public Path repoPath(String relative) {
        return shared.repoRoot.orElseThrow(() -> new IllegalStateException(
                "no repository root found at or above " + System.getProperty("user.dir") + " (looked for "
                        + RepoRoot.MARKER + "); run the tests inside the Milan repository")).resolve(relative);
    }

    /** The kubectl used by {@link #kubectl(String...)}. */
    public Path kubectlPath() {
        return shared.kubectl.orElseThrow(() -> new IllegalStateException(
                "kubectl not found: build it with e2e/build-k8s.sh, put kubectl on PATH or set MILAN_KUBECTL"));
    }

    /** Runs kubectl against this cluster (KUBECONFIG set; no namespace implied) and returns its result. */
    public CommandResult kubectl(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(kubectlPath().toString());
        cmd.addAll(List.of(args));
        return Commands.run(cmd, Map.of("KUBECONFIG", shared.kubeconfig), null, KUBECTL_TIMEOUT);
    }

    /**
      * Deletes the namespace and waits until it is gone, so the next class starts with every fake
      * GPU free again; then closes the client.
      */
    @Override
    public void close() {
        try {
            shared.admin.namespaces().withName(namespace).delete();
            shared.admin.namespaces().withName(namespace).waitUntilCondition(Objects::isNull, 120, TimeUnit.SECONDS);
        } finally {
            client.close();
        }
    }
}
