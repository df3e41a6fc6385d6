package io.milan.operator.it;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.testsupport.TestCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * An IT class whose tests share one in-process operator watching the class's namespace, which enforces the
 * restricted Pod Security profile ({@link InProcessOperator#startRestricted}). Subclasses carry
 * {@code @WithLocalCluster}; classes run one after another, so the static fields belong to the running class.
 */
abstract class RestrictedOperatorIT {
    protected static KubernetesClient client;
    protected static String namespace;
    protected static InProcessOperator operator;

    @BeforeAll
    static void startOperator(KubernetesClient c, TestCluster cluster) {
        client = c;
        namespace = cluster.namespace();
        operator = InProcessOperator.startRestricted(client, namespace);
    }

    @AfterAll
    static void stopOperator() {
        operator.close();
    }
}
