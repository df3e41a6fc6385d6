package io.milan.operator.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.TrainerExitCodes;
import io.milan.operator.config.OperatorSettings;
import io.milan.operator.it.TestRuns;
import io.milan.operator.naming.ChildNames;
import io.milan.operator.podgroup.JobRenderer;
import io.milan.operator.podgroup.RenderInput;
import io.milan.testsupport.WithLocalCluster;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A Kueue eviction seen through a stale Job cache (issue 21): Kueue suspends the Job, then the Job controller
 * deletes its pods and the trainers exit with the disrupted code (75) or 143. The pod informer can deliver those
 * ended pods before the Job informer delivers {@code spec.suspend: true}; a reconcile that trusted the cached Job
 * took the eviction for a drain and started a new attempt, deleting the Job and with it Kueue's Workload (the run
 * lost its place in the queue). The Job here is suspended in the real API server, as Kueue leaves it; the reconcile
 * is fed the cached copy from before the suspension and the pods that ended on SIGTERM.
 */
@WithLocalCluster
class KueueEvictionStaleCacheIT {
    private final OneReconcile reconcile = new OneReconcile();

    @Test
    void podsEndedByAnEvictionBeforeTheCacheSeesTheSuspendedJobLeaveTheRunQueued(KubernetesClient client) {
        MilanPretrain spec = TestRuns.pretrain("evicted", 2);
        spec.getSpec().queueName = "gpus";
        MilanPretrain run = client.resource(spec).create();
        run.setStatus(OneReconcile.attemptOneRunning("evicted-a1", Instant.now().minusSeconds(60)));
        Job rendered = JobRenderer.render(new RenderInput(RunKind.PRETRAIN, run, run.getSpec(),
                ChildNames.of(RunKind.PRETRAIN, "evicted"), 1, null, OperatorSettings.defaults()));
        assertEquals("gpus", rendered.getMetadata().getLabels().get(JobRenderer.KUEUE_QUEUE_LABEL));
        // In the API server the Job is suspended, as Kueue's eviction leaves it (no Job controller pods meanwhile).
        rendered.getSpec().setSuspend(true);
        Job live = client.resource(rendered).create();
        // The Job cache has not seen the suspension yet: it still shows the admitted, running Job.
        Job cached = new JobBuilder(live).editSpec().withSuspend(false).endSpec().build();

        RunStatus next = reconcile.statusAfter(client, run, cached,
                List.of(sigterm(live, 0, TrainerExitCodes.DISRUPTED), sigterm(live, 1, TrainerExitCodes.SIGTERM)));
        System.out.printf("KueueEvictionStaleCacheIT: phase %s, restarts %s, attempt %s, podGroup %s, lastFailure %s,"
                + " message: %s%n", next.phase, next.restarts, next.attempt, next.podGroup,
                next.lastFailure == null ? null : next.lastFailure.failureClass, next.message);
        Job after = client.batch().v1().jobs().inNamespace(run.getMetadata().getNamespace())
                .withName(live.getMetadata().getName()).get();
        assertNotNull(after, "the Job, and with it Kueue's Workload and the run's place in the queue, is kept");
        assertNull(after.getMetadata().getDeletionTimestamp(), "the Job is not being deleted");
        assertEquals(RunPhase.Queued, next.phase, "an eviction sends the run back to the queue: " + next.message);
        assertEquals(0, next.restarts, "restarts");
        assertEquals(1, next.attempt, "the same attempt waits for Kueue to admit it again");
        assertEquals("evicted-a1", next.podGroup);
        assertNull(next.lastFailure, "an eviction is not an attempt's end");
    }

    /** A pod of the Job deleted by the Job controller whose trainer ended on SIGTERM with {@code exitCode}. */
    private static Pod sigterm(Job job, int rank, int exitCode) {
        return OneReconcile.pod(job, rank, "Failed", exitCode, true);
    }
}
