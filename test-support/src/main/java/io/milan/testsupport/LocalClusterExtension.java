package io.milan.testsupport;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
  * JUnit 5 extension behind {@link WithLocalCluster}.
  *
  * <ul>
  *   <li>Once per JVM (root store): starts {@code e2e/local-cluster.sh up} in
  *       {@code e2e/.work/junit-<pid>}, or attaches to {@code KUBECONFIG} when set; installs the CRDs
  *       of {@code crds/manifests/}. The root store closes it when the test run ends, which runs
  *       {@code local-cluster.sh down}; if the JVM dies first, the script's watchdog
  *       ({@code --owner-pid}) stops the cluster.
  *   <li>Once per test class (class store): a fresh namespace and a client defaulting to it, both
  *       cleaned up after the class.
  *   <li>Parameters of type {@link KubernetesClient} and {@link TestCluster} are resolved.
  * </ul>
  *
  * <p>System properties: {@code milan.cluster.nodes}, {@code milan.cluster.gpus} (fake node
  * layout, defaults 4 and 8), {@code milan.cluster.keep=true} (keep the work dir with the logs).
  */
public final class LocalClusterExtension implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LocalClusterExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        SharedCluster shared = context.getRoot().getStore(NS)
                .computeIfAbsent(ClusterHolder.class, k -> ClusterHolder.start(), ClusterHolder.class).cluster();
        context.getStore(NS).put(TestCluster.class, TestCluster.create(shared, context.getRequiredTestClass()));
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == KubernetesClient.class || type == TestCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        TestCluster cluster = extensionContext.getStore(NS).get(TestCluster.class, TestCluster.class);
        if (cluster == null) {
            throw new ParameterResolutionException("no test cluster for " + parameterContext.getParameter()
                    + "; annotate the test class with @WithLocalCluster");
        }
        return parameterContext.getParameter().getType() == TestCluster.class ? cluster : cluster.client();
    }

    /** Remembers a failed start, so later test classes fail at once with the same cause instead of retrying. */
    static final class ClusterHolder implements AutoCloseable {
        private final SharedCluster cluster;
        private final RuntimeException failure;

        private ClusterHolder(SharedCluster cluster, RuntimeException failure) {
            this.cluster = cluster;
            this.failure = failure;
        }

        static ClusterHolder start() {
            try {
                return new ClusterHolder(SharedCluster.start(), null);
            } catch (RuntimeException e) {
                return new ClusterHolder(null, e);
            }
        }

        SharedCluster cluster() {
            if (failure != null) {
                throw new IllegalStateException(failure.getMessage(), failure);
            }
            return cluster;
        }

        @Override
        public void close() {
            if (cluster != null) {
                cluster.close();
            }
        }
    }
}
