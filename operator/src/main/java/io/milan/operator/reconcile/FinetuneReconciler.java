package io.milan.operator.reconcile;

import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.operator.metrics.RunMetrics;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reconciles MilanFinetune runs. Besides its Jobs and pods it watches MilanPretrains, so a fine-tune waiting on
 * {@code spec.pretrained.pretrainRef} starts as soon as that pretrain succeeds.
 */
@ControllerConfiguration(name = FinetuneReconciler.NAME, fieldManager = RunLifecycle.FIELD_MANAGER)
public class FinetuneReconciler implements Reconciler<MilanFinetune> {
    public static final String NAME = "milanfinetune";

    private final RunLifecycle lifecycle;
    private final RunMetrics metrics;
    private final PodGroupCreates<MilanFinetune> creates = new PodGroupCreates<>();

    @Inject
    public FinetuneReconciler(RunLifecycle lifecycle, RunMetrics metrics) {
        this.lifecycle = lifecycle;
        this.metrics = metrics;
    }

    @Override
    public UpdateControl<MilanFinetune> reconcile(MilanFinetune run, Context<MilanFinetune> context)
            throws Exception {
        try {
            return metrics.reconcileTimer(RunKind.FINETUNE, run.getMetadata().getNamespace())
                    .recordCallable(() -> lifecycle.reconcile(RunKind.FINETUNE, run, context, creates));
        } finally {
            metrics.refresh(RunKind.FINETUNE);
        }
    }

    @Override
    public List<EventSource<?, MilanFinetune>> prepareEventSources(EventSourceContext<MilanFinetune> context) {
        metrics.watchRuns(RunKind.FINETUNE, context.getPrimaryCache());
        lifecycle.runs.register(RunKind.FINETUNE, context.getPrimaryCache());
        List<EventSource<?, MilanFinetune>> sources = new ArrayList<>(ChildEventSources.of(RunKind.FINETUNE, context));
        sources.add(creates.wakeups());
        var cache = context.getPrimaryCache();
        sources.add(new InformerEventSource<>(InformerEventSourceConfiguration
                .from(MilanPretrain.class, MilanFinetune.class)
                .withName("pretrains")
                // A pretrain's change concerns the fine-tunes in its namespace that reference it.
                .withSecondaryToPrimaryMapper(pretrain -> cache.list(pretrain.getMetadata().getNamespace())
                        .filter(ft -> pretrain.getMetadata().getName().equals(pretrainName(ft)))
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
                .withPrimaryToSecondaryMapper((MilanFinetune ft) -> pretrainName(ft) == null ? Set.of()
                        : Set.of(new ResourceID(pretrainName(ft), ft.getMetadata().getNamespace())))
                .build(), context));
        return sources;
    }

    static String pretrainName(MilanFinetune ft) {
        var pretrained = ft.getSpec() == null ? null : ft.getSpec().pretrained;
        return pretrained == null || pretrained.pretrainRef == null ? null : pretrained.pretrainRef.name;
    }
}
