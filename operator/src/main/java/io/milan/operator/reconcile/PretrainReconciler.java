package io.milan.operator.reconcile;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
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
    private final PodGroupCreates<MilanPretrain> creates = new PodGroupCreates<>();

    @Inject
    public PretrainReconciler(RunLifecycle lifecycle, RunMetrics metrics) {
        this.lifecycle = lifecycle;
        this.metrics = metrics;
    }

    @Override
    public UpdateControl<MilanPretrain> reconcile(MilanPretrain run, Context<MilanPretrain> context)
            throws Exception {
        try {
            return metrics.reconcileTimer(RunKind.PRETRAIN, run.getMetadata().getNamespace())
                    .recordCallable(() -> lifecycle.reconcile(RunKind.PRETRAIN, run, context, creates));
        } finally {
            metrics.refresh(RunKind.PRETRAIN);
        }
    }

    @Override
    public List<EventSource<?, MilanPretrain>> prepareEventSources(EventSourceContext<MilanPretrain> context) {
        metrics.watchRuns(RunKind.PRETRAIN, context.getPrimaryCache());
        lifecycle.runs.register(RunKind.PRETRAIN, context.getPrimaryCache());
        List<EventSource<?, MilanPretrain>> sources = new ArrayList<>(ChildEventSources.of(RunKind.PRETRAIN, context));
        sources.add(creates.wakeups());
        return sources;
    }
}
