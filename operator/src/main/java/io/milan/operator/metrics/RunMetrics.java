package io.milan.operator.metrics;

import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.fabric8.kubernetes.client.CustomResource;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.operator.reconcile.RunKind;
import java.util.function.Supplier;

/**
 * The operator's Prometheus metrics: {@code milan_runs{kind,phase}} (gauge, counted from the informer cache, so it
 * is right after a restart and forgets deleted runs), {@code milan_restarts_total{kind}} (gang restarts) and
 * {@code milan_reconcile_seconds{kind}} (reconcile duration, with histogram buckets).
 */
public class RunMetrics {
    private final MeterRegistry registry;

    public RunMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Registers the per-phase gauges of one kind over its primary cache. */
    public <R extends CustomResource<?, RunStatus>> void watchPhases(RunKind kind, IndexedResourceCache<R> cache) {
        for (RunPhase phase : RunPhase.values()) {
            Supplier<Number> count = () -> cache.list().filter(r -> phaseOf(r) == phase).count();
            Gauge.builder("milan.runs", count)
                    .description("Runs by kind and phase")
                    .tag("kind", kind.kind)
                    .tag("phase", phase.name())
                    .register(registry);
        }
    }

    public void restarted(RunKind kind) {
        Counter.builder("milan.restarts").description("Gang restarts of pod groups")
                .tag("kind", kind.kind).register(registry).increment();
    }

    public Timer reconcileTimer(RunKind kind) {
        return Timer.builder("milan.reconcile").description("Duration of one reconcile of a run")
                .tag("kind", kind.kind)
                .publishPercentileHistogram()
                .register(registry);
    }

    private static RunPhase phaseOf(CustomResource<?, RunStatus> r) {
        // A run the operator has not seen yet counts as Pending.
        return r.getStatus() == null || r.getStatus().phase == null ? RunPhase.Pending : r.getStatus().phase;
    }
}
