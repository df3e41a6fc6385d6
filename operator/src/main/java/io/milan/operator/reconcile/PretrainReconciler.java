package io.milan.operator.reconcile;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.micrometer.core.instrument.Timer;
import io.milan.api.MilanPretrain;
import io.milan.operator.metrics.RunMetrics;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;

/** Reconciles MilanPretrain runs into pod groups; the lifecycle is {@link RunReconcile}'s. */
@ControllerConfiguration(name = PretrainReconciler.NAME, fieldManager = RunLifecycle.FIELD_MANAGER)
public class PretrainReconciler implements Reconciler<MilanPretrain> {
    public static final String NAME = "milanpretrain";

    private final RunLifecycle lifecycle;
    private final RunMetrics metrics;
    private final Timer timer;
    private final PodGroupCreates<MilanPretrain> creates = new PodGroupCreates<>();

    @Inject
    public PretrainReconciler(RunLifecycle lifecycle, RunMetrics metrics) {
        this.lifecycle = lifecycle;
        this.metrics = metrics;
        this.timer = metrics.reconcileTimer(RunKind.PRETRAIN);
    }

    @Override
    public UpdateControl<MilanPretrain> reconcile(MilanPretrain run, Context<MilanPretrain> context)
            throws Exception {
        return timer.recordCallable(() -> lifecycle.reconcile(RunKind.PRETRAIN, run, context, creates));
    }

    @Override
    public List<EventSource<?, MilanPretrain>> prepareEventSources(EventSourceContext<MilanPretrain> context) {
        metrics.watchPhases(RunKind.PRETRAIN, context.getPrimaryCache());
        lifecycle.runs.register(RunKind.PRETRAIN, context.getPrimaryCache());
        List<EventSource<?, MilanPretrain>> sources = new ArrayList<>(ChildEventSources.of(RunKind.PRETRAIN, context));
        sources.add(creates.wakeups());
        return sources;
    }
}
