package io.milan.operator.reconcile;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.CustomResource;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.milan.api.MilanPretrain;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import io.milan.operator.config.OperatorSettings;
import io.milan.operator.events.AsyncCreate;
import io.milan.operator.events.RunEvents;
import io.milan.operator.metrics.RunMetrics;
import java.time.Clock;
import java.util.List;

/**
 * What both reconcilers share: configuration, clock, the bounded create queue, events and metrics. Each
 * reconcile is a fresh {@link RunReconcile}, so no state survives between reconciles except what is in status.
 */
public final class RunLifecycle {
    /** Field manager of the operator's server-side applies (the trainer's is milan-trainer). */
    public static final String FIELD_MANAGER = "milan-operator";

    final OperatorSettings settings;
    final Clock clock;
    final AsyncCreate creates;
    final RunEvents events;
    final RunMetrics metrics;
    /** Both kinds' runs, from the reconcilers' own caches (who else writes to a run's output location). */
    final RunCaches runs = new RunCaches();

    public RunLifecycle(OperatorSettings settings, Clock clock, RunMetrics metrics) {
        this.settings = settings;
        this.clock = clock;
        this.creates = new AsyncCreate();
        this.events = new RunEvents(clock, creates);
        this.metrics = metrics;
    }

    <R extends CustomResource<? extends RunSpec, RunStatus>> UpdateControl<R> reconcile(RunKind kind, R run,
            Context<R> context, PodGroupCreates<R> creates) {
        creates.forgetGone(context.getPrimaryCache()::get);
        MilanPretrain pretrain = kind == RunKind.FINETUNE
                ? context.getSecondaryResource(MilanPretrain.class).orElse(null) : null;
        RunObservation observed = RunObservation.of(run.getMetadata().getUid(),
                List.copyOf(context.getSecondaryResources(Job.class)),
                List.copyOf(context.getSecondaryResources(Pod.class)));
        return new RunReconcile<>(this, kind, run, context.getClient(), observed, pretrain, creates).execute();
    }
}
