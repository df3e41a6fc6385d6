package io.milan.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.CustomResource;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import io.milan.operator.naming.Labels;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The children a reconciler watches: Jobs and pods of its kind (selected by label, mapped back to their run by the
 * {@code milan.io/run-name} annotation, which holds run names longer than a label can). A change to either
 * triggers a reconcile of the run. Service, ServiceAccount, Role and RoleBinding are created with each attempt
 * and not watched. Both caches keep only the fields a reconcile reads ({@link PrunedStore}).
 */
final class ChildEventSources {
    private ChildEventSources() {
    }

    static <R extends CustomResource<? extends RunSpec, RunStatus>> List<EventSource<?, R>> of(RunKind kind,
            EventSourceContext<R> context) {
        List<EventSource<?, R>> sources = new ArrayList<>();
        sources.add(new InformerEventSource<>(InformerEventSourceConfiguration
                .from(Job.class, context.getPrimaryResourceClass())
                .withName("jobs")
                .withLabelSelector(Labels.selectorFor(kind))
                .withItemStore(new PrunedStore<>())
                .withSecondaryToPrimaryMapper(ChildEventSources::toRun)
                .build(), context));
        sources.add(new InformerEventSource<>(InformerEventSourceConfiguration
                .from(Pod.class, context.getPrimaryResourceClass())
                .withName("pods")
                .withLabelSelector(Labels.selectorFor(kind))
                .withItemStore(new PrunedStore<>())
                .withSecondaryToPrimaryMapper(ChildEventSources::toRun)
                .build(), context));
        return sources;
    }

    private static Set<ResourceID> toRun(HasMetadata child) {
        String run = Labels.runName(child);
        return run == null ? Set.of() : Set.of(new ResourceID(run, child.getMetadata().getNamespace()));
    }
}
