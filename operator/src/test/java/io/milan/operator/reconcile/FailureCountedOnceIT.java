package io.milan.operator.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.CleanPodPolicy;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
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
 * One failure is counted once (issue 21, defect 3), however late the caches are. The reconcile is fed what the
 * informer caches can show right after a gang restart: the run's status as the operator wrote it (the operator SDK
 * caches its own status patch), but the Job cache has not yet seen the Job's deletion, and the second pod of the
 * same failure burst has failed meanwhile. The Job exists in the real API server; the reconcile acts against it.
 */
@WithLocalCluster
class FailureCountedOnceIT {
    private final OneReconcile reconcile = new OneReconcile();

    @Test
    void aBurstOfPodFailuresInOneAttemptIsOneRestart(KubernetesClient client) {
        MilanPretrain spec = TestRuns.pretrain("burst", 2);
        spec.getSpec().restartPolicy.maxRestarts = 1;
        // Long enough that no reconcile here starts attempt 2: only the counting is under test.
        spec.getSpec().restartPolicy.backoffSeconds = 600;
        spec.getSpec().cleanPodPolicy = CleanPodPolicy.NONE;
        MilanPretrain run = client.resource(spec).create();
        run.setStatus(OneReconcile.attemptOneRunning("burst-a1", Instant.now()));
        // Created suspended, so that the Job controller makes no pods: the pods are the ones the caches show.
        Job job = JobRenderer.render(new RenderInput(RunKind.PRETRAIN, run, run.getSpec(),
                ChildNames.of(RunKind.PRETRAIN, "burst"), 1, null, OperatorSettings.defaults()));
        job.getSpec().setSuspend(true);
        Job attemptOne = client.resource(job).create();

        RunStatus first = reconcile.statusAfter(client, run, attemptOne,
                List.of(failed(attemptOne, 0), running(attemptOne, 1)));
        assertEquals(RunPhase.Restarting, first.phase, first.message);
        assertEquals(1, first.restarts);

        // The next reconcile: the status just written, the Job not yet deleted in the cache, rank 1 failed too.
        run.setStatus(first);
        RunStatus second = reconcile.statusAfter(client, run, attemptOne,
                List.of(failed(attemptOne, 0), failed(attemptOne, 1)));
        assertEquals(RunPhase.Restarting, second.phase, "one failure burst fails the run: " + second.message);
        assertEquals(1, second.restarts, "restarts");
        assertEquals(1, second.endedAttempt, "attempt 1's end is recorded");
    }

    private static Pod running(Job job, int rank) {
        return OneReconcile.pod(job, rank, "Running", null, false);
    }

    private static Pod failed(Job job, int rank) {
        return OneReconcile.pod(job, rank, "Failed", 1, false);
    }
}
