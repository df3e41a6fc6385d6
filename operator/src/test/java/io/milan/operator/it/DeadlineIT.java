package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import io.milan.testsupport.WithLocalCluster;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * spec.activeDeadlineSeconds bounds only the time the pod group is admitted and unsuspended (issue 21, defect 7):
 * a run queued or suspended for longer than its deadline is not failed for it, a run that runs past it is.
 */
@WithLocalCluster
class DeadlineIT extends RestrictedOperatorIT {
    @Test
    void aSuspensionIsNotCountedButRunningPastTheDeadlineFailsTheRun() {
        long deadline = 15;
        MilanPretrain run = TestRuns.pretrain("paused", 1);
        run.getSpec().activeDeadlineSeconds = deadline;
        client.resource(run).create();
        RunStatus running = awaitPhase(client, MilanPretrain.class, "paused", RunPhase.Running);

        setSuspend("paused", true);
        RunStatus suspended = awaitPhase(client, MilanPretrain.class, "paused", RunPhase.Suspended);
        assertNull(suspended.activeSince, "no active stretch while suspended");
        // Suspended until the deadline, counted from the first pod group, is well past.
        Instant start = Instant.parse(running.startTime);
        Await.until("the deadline counted from " + start + " passed", Duration.ofSeconds(2 * deadline),
                Instant::now, t -> t.isAfter(start.plusSeconds(deadline + 2)));

        setSuspend("paused", false);
        RunStatus resumed = awaitStatus(client, MilanPretrain.class, "paused", "attempt 2 running, or failed",
                s -> s.phase == RunPhase.Failed || (s.attempt == 2 && s.phase == RunPhase.Running));
        assertEquals(RunPhase.Running, resumed.phase, "the suspension counted toward the deadline: "
                + resumed.message);

        RunStatus failed = awaitPhase(client, MilanPretrain.class, "paused", RunPhase.Failed);
        assertEquals("DeadlineExceeded", RunLifecycleIT.reason(failed, "Failed"));
        assertTrue(failed.activeSeconds >= deadline, "active time " + failed.activeSeconds);
        long wall = Duration.between(start, Instant.parse(failed.completionTime)).toSeconds();
        assertTrue(failed.activeSeconds < wall, "active " + failed.activeSeconds + " s of " + wall + " s: the"
                + " suspension is left out");
    }

    @Test
    void aRunQueuedLongerThanItsDeadlineIsNotFailed() {
        MilanPretrain run = TestRuns.pretrain("waiting", 1);
        run.getSpec().queueName = "no-such-queue"; // its Job waits suspended: no LocalQueue admits it
        run.getSpec().activeDeadlineSeconds = 3L;
        client.resource(run).create();
        RunStatus queued = awaitPhase(client, MilanPretrain.class, "waiting", RunPhase.Queued);

        Instant start = Instant.parse(queued.startTime);
        Await.until("the deadline counted from " + start + " passed", Duration.ofSeconds(30), Instant::now,
                t -> t.isAfter(start.plusSeconds(3 + 2)));
        // An edit makes the operator judge the run again, now that the deadline is behind it.
        client.resources(MilanPretrain.class).withName("waiting")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"ttlSecondsAfterFinished\":3600}}");
        RunStatus judged = awaitStatus(client, MilanPretrain.class, "waiting", "the edit observed",
                s -> s.observedGeneration != null && s.observedGeneration >= 2);
        assertEquals(RunPhase.Queued, judged.phase, "queueing counted toward the deadline: " + judged.message);
        assertNull(judged.activeSince, "never admitted");
    }

    private static void setSuspend(String name, boolean value) {
        client.resources(MilanPretrain.class).withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + value + "}}");
    }
}
