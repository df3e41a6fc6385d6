package io.milan.operator.it;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.milan.operator.config.OperatorSettings;
import io.milan.operator.metrics.RunMetrics;
import io.milan.operator.reconcile.FinetuneReconciler;
import io.milan.operator.reconcile.PretrainReconciler;
import io.milan.operator.reconcile.RunLifecycle;
import java.time.Clock;

/**
 * The operator as the product runs it (both reconcilers on the Java Operator SDK), started in the test JVM
 * against the test cluster and watching only the test class's namespace. {@link #close()} stops it like a
 * crashed or redeployed operator: everything it knew lives on only in the cluster.
 */
final class InProcessOperator implements AutoCloseable {
    private final Operator operator;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private InProcessOperator(KubernetesClient client, String namespace) {
        RunMetrics metrics = new RunMetrics(registry, Clock.systemUTC());
        RunLifecycle lifecycle = new RunLifecycle(OperatorSettings.defaults(), Clock.systemUTC(), metrics);
        operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false));
        operator.register(new PretrainReconciler(lifecycle, metrics), c -> c.settingNamespaces(namespace));
        operator.register(new FinetuneReconciler(lifecycle, metrics), c -> c.settingNamespaces(namespace));
    }

    /** The operator on {@code namespace}, which first gets the restricted Pod Security profile our pods must pass. */
    static InProcessOperator startRestricted(KubernetesClient client, String namespace) {
        PodSecurity.enforceRestricted(client, namespace);
        return start(client, namespace);
    }

    static InProcessOperator start(KubernetesClient client, String namespace) {
        InProcessOperator op = new InProcessOperator(client, namespace);
        op.operator.start();
        return op;
    }

    double restarts(String kind) {
        var counter = registry.find("milan.restarts").tag("kind", kind).counter();
        return counter == null ? 0 : counter.count();
    }

    long reconciles(String kind) {
        var timer = registry.find("milan.reconcile").tag("kind", kind).timer();
        return timer == null ? 0 : timer.count();
    }

    double runs(String kind, String phase) {
        var gauge = registry.find("milan.runs").tag("kind", kind).tag("phase", phase).gauge();
        return gauge == null ? -1 : gauge.value();
    }

    @Override
    public void close() {
        operator.stop();
    }
}
