package io.milan.operator.metrics;

import io.fabric8.kubernetes.client.CustomResource;
import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.milan.api.RunPhase;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import io.milan.operator.reconcile.RunKind;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The operator's Prometheus metrics, all read from the informer caches (so they are right after a restart and forget
 * deleted runs) and labelled by namespace, so a dashboard can answer "which team uses how many GPU hours, at what
 * throughput":
 * <ul>
 * <li>{@code milan_runs{kind,namespace,queue,phase}}: runs by phase;</li>
 * <li>{@code milan_run_devices{kind,namespace,name,queue,resource}}: GPUs (or CPU pods) a run holds while it is
 * active, 0 otherwise;</li>
 * <li>{@code milan_run_device_seconds{...}}: devices x active seconds so far (status.activeSeconds plus the open
 * stretch), the run's GPU-seconds; a gauge from status, so it survives an operator restart;</li>
 * <li>{@code milan_run_images_per_second{...}} and {@code milan_run_train_loss{...}}: the trainer's last progress
 * report while the run is active;</li>
 * <li>{@code milan_restarts_total{kind,namespace}} and {@code milan_reconcile_seconds{kind,namespace}}.</li>
 * </ul>
 * Per-run series carry the run's name; their number is bounded by the runs that exist (deleted runs drop out at the
 * next reconcile of their kind).
 */
public class RunMetrics {
    private static final String NO_QUEUE = "none";

    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<RunKind, KindGauges<?>> kinds = new EnumMap<>(RunKind.class);

    public RunMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
    }

    /** Registers the gauges of one kind over its primary cache; {@link #refresh} keeps their rows current. */
    public synchronized <R extends CustomResource<? extends RunSpec, RunStatus>> void watchRuns(RunKind kind,
            IndexedResourceCache<R> cache) {
        // No rows yet: the cache starts after this call; the first reconcile adds them.
        kinds.put(kind, new KindGauges<>(kind, cache));
    }

    /** Re-reads which runs and label sets exist (after a reconcile or a deletion); values are read at scrape time. */
    public synchronized void refresh(RunKind kind) {
        KindGauges<?> gauges = kinds.get(kind);
        if (gauges != null) {
            gauges.refresh();
        }
    }

    public void restarted(RunKind kind, String namespace) {
        Counter.builder("milan.restarts").description("Gang restarts of pod groups")
                .tag("kind", kind.kind).tag("namespace", namespace).register(registry).increment();
    }

    public Timer reconcileTimer(RunKind kind, String namespace) {
        return Timer.builder("milan.reconcile").description("Duration of one reconcile of a run")
                .tag("kind", kind.kind)
                .tag("namespace", namespace)
                .publishPercentileHistogram()
                .register(registry);
    }

    static RunPhase phaseOf(CustomResource<?, RunStatus> r) {
        // A run the operator has not seen yet counts as Pending.
        return r.getStatus() == null || r.getStatus().phase == null ? RunPhase.Pending : r.getStatus().phase;
    }

    static String queueOf(CustomResource<? extends RunSpec, RunStatus> r) {
        String queue = r.getSpec() == null ? null : r.getSpec().queueName;
        return queue == null || queue.isBlank() ? NO_QUEUE : queue;
    }

    static String resourceOf(CustomResource<? extends RunSpec, RunStatus> r) {
        return r.getSpec() == null || !r.getSpec().usesGpus() ? "cpu" : r.getSpec().gpuResourceName;
    }

    /** The MultiGauges of one kind; each row's value is computed from the cached run when Prometheus scrapes. */
    private final class KindGauges<R extends CustomResource<? extends RunSpec, RunStatus>> {
        private final RunKind kind;
        private final IndexedResourceCache<R> cache;
        private final MultiGauge runs;
        private final MultiGauge devices;
        private final MultiGauge deviceSeconds;
        private final MultiGauge imagesPerSecond;
        private final MultiGauge trainLoss;

        KindGauges(RunKind kind, IndexedResourceCache<R> cache) {
            this.kind = kind;
            this.cache = cache;
            this.runs = MultiGauge.builder("milan.runs").description("Runs by kind, namespace, queue and phase")
                    .register(registry);
            this.devices = MultiGauge.builder("milan.run.devices")
                    .description("GPUs (or CPU pods) an active run holds; 0 while it is not active").register(registry);
            this.deviceSeconds = MultiGauge.builder("milan.run.device.seconds")
                    .description("Devices x active seconds of a run so far: its GPU-seconds").register(registry);
            this.imagesPerSecond = MultiGauge.builder("milan.run.images.per.second")
                    .description("Training throughput of an active run's whole group").register(registry);
            this.trainLoss = MultiGauge.builder("milan.run.train.loss")
                    .description("Mean training loss of the current epoch of an active run").register(registry);
        }

        /** The runs and label values the rows were last registered for; rows are rebuilt only when they change. */
        private List<List<String>> registered; // null until the first refresh

        void refresh() {
            List<R> all = cache.list().toList();
            // Values are read at scrape time; re-registering rows is needed only when runs or their labels change,
            // which is rare next to the reconciles that call this.
            List<List<String>> labels = all.stream().map(r -> List.of(r.getMetadata().getNamespace(),
                    r.getMetadata().getName(), queueOf(r), resourceOf(r))).sorted(Comparator.comparing(Object::toString))
                    .toList();
            if (labels.equals(registered)) {
                return;
            }
            registered = labels;
            runs.register(phaseRows(all), true);
            List<MultiGauge.Row<?>> held = new ArrayList<>();
            List<MultiGauge.Row<?>> used = new ArrayList<>();
            List<MultiGauge.Row<?>> speed = new ArrayList<>();
            List<MultiGauge.Row<?>> loss = new ArrayList<>();
            for (R run : all) {
                ResourceID id = ResourceID.fromResource(run);
                Tags tags = Tags.of("kind", kind.kind, "namespace", run.getMetadata().getNamespace(),
                        "name", run.getMetadata().getName(), "queue", queueOf(run), "resource", resourceOf(run));
                held.add(MultiGauge.Row.of(tags, () -> value(id, RunUsage::devices)));
                used.add(MultiGauge.Row.of(tags, () -> value(id, RunUsage::deviceSeconds)));
                speed.add(MultiGauge.Row.of(tags, () -> value(id, RunUsage::imagesPerSecond)));
                loss.add(MultiGauge.Row.of(tags, () -> value(id, RunUsage::trainLoss)));
            }
            devices.register(held, true);
            deviceSeconds.register(used, true);
            imagesPerSecond.register(speed, true);
            trainLoss.register(loss, true);
        }

        private List<MultiGauge.Row<?>> phaseRows(List<R> all) {
            Set<List<String>> namespaceQueues = new TreeSet<>((a, b) -> String.join("/", a)
                    .compareTo(String.join("/", b)));
            for (R run : all) {
                namespaceQueues.add(List.of(run.getMetadata().getNamespace(), queueOf(run)));
            }
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            for (List<String> nq : namespaceQueues) {
                for (RunPhase phase : RunPhase.values()) {
                    Tags tags = Tags.of("kind", kind.kind, "namespace", nq.get(0), "queue", nq.get(1),
                            "phase", phase.name());
                    rows.add(MultiGauge.Row.of(tags, () -> cache.list(nq.get(0))
                            .filter(r -> queueOf(r).equals(nq.get(1)) && phaseOf(r) == phase).count()));
                }
            }
            return rows;
        }

        private double value(ResourceID id, java.util.function.BiFunction<? super R, Clock, Double> metric) {
            return cache.get(id).map(run -> metric.apply(run, clock)).filter(Objects::nonNull).orElse(Double.NaN);
        }
    }
}
