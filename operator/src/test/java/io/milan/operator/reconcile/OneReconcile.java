package io.milan.operator.reconcile;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.operator.config.OperatorSettings;
import io.milan.operator.metrics.RunMetrics;
import io.milan.operator.status.OperatorStatus;
import io.milan.operator.status.Timestamps;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * One reconcile of a pretrain against the real API server, with the informer caches replaced by the Job and pods a
 * test chooses: how the ITs show what a stale cache makes the reconciler do (FailureCountedOnceIT,
 * KueueEvictionStaleCacheIT).
 */
final class OneReconcile {
    private final RunLifecycle lifecycle = new RunLifecycle(OperatorSettings.defaults(), Clock.systemUTC(),
            new RunMetrics(new SimpleMeterRegistry(), Clock.systemUTC()));
    private final PodGroupCreates<MilanPretrain> creates = new PodGroupCreates<>();

    /** The status the reconcile of {@code run} would write with the caches showing {@code job} and {@code pods}. */
    RunStatus statusAfter(KubernetesClient client, MilanPretrain run, Job job, List<Pod> pods) {
        RunObservation cached = RunObservation.of(run.getMetadata().getUid(), List.of(job), pods);
        UpdateControl<MilanPretrain> control = new RunReconcile<>(lifecycle, RunKind.PRETRAIN, run, client, cached,
                null, creates).execute();
        return control.isPatchStatus() ? control.getResource().orElseThrow().getStatus()
                : OperatorStatus.copyOf(run.getStatus());
    }

    /** The status of a run whose first attempt, pod group {@code podGroup}, runs since {@code started}. */
    static RunStatus attemptOneRunning(String podGroup, Instant started) {
        RunStatus s = new RunStatus();
        s.phase = RunPhase.Running;
        s.attempt = 1;
        s.restarts = 0;
        s.podGroup = podGroup;
        s.startTime = Timestamps.format(started);
        return s;
    }

    /**
     * A pod of {@code job} for rank {@code rank} in {@code phase}; its trainer ended with {@code exitCode} unless
     * that is null; {@code deleted}: the Job controller (or an eviction) is deleting it.
     */
    static Pod pod(Job job, int rank, String phase, Integer exitCode, boolean deleted) {
        String now = Timestamps.format(Instant.now());
        var container = new ContainerStatusBuilder().withName("trainer");
        if (exitCode != null) {
            container.withNewState().withNewTerminated().withExitCode(exitCode).withReason("Error")
                    .withFinishedAt(now).endTerminated().endState();
        }
        return new PodBuilder()
                .withNewMetadata().withName(job.getMetadata().getName() + "-" + rank + "-x")
                .withNamespace(job.getMetadata().getNamespace()).withDeletionTimestamp(deleted ? now : null)
                .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("batch/v1").withKind("Job")
                        .withName(job.getMetadata().getName()).withUid(job.getMetadata().getUid())
                        .withController(true).build())
                .endMetadata()
                .withNewStatus().withPhase(phase).withContainerStatuses(container.build()).endStatus()
                .build();
    }
}
