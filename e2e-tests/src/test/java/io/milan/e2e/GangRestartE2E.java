package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.milan.api.FailureClass;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Deleting one trainer pod mid-epoch: the operator restarts the whole gang as attempt 2, which resumes after the
 * last checkpoint instead of from epoch 0; the epoch in status never goes back, and the run still succeeds. The
 * deleted pod's trainer stops on SIGTERM with the disrupted exit code, which the Job's podFailurePolicy records, so
 * the attempt's end is a Disruption and costs no restart (restarts stays 0).
 */
class GangRestartE2E extends E2ETestBase {
    private static final String RUN = "gang";
    private static final int EPOCHS = 4;

    @Test
    void deletingATrainerPodMidEpochRestartsTheGangFromTheLastCheckpoint() {
        runs.prepareData();
        MilanPretrain run = runs.pretrain(RUN, EPOCHS);
        client.resources(MilanPretrain.class).resource(run).create();
        RunHistory history = new RunHistory(RUN, () -> runs.pretrainStatus(RUN), () -> runs.jobs(RUN));

        // Mid-epoch after a checkpoint: a checkpoint of epoch c exists and epoch c+1 is under way (step >= 1).
        RunStatus before = history.until("a checkpoint, and the next epoch under way", Runs.RUN_TIMEOUT,
                RunHistory.midEpochAfterCheckpoint(EPOCHS));
        int checkpointEpoch = before.checkpoint.epoch;
        Pod victim = runs.pods(RUN).stream().filter(p -> "Running".equals(p.getStatus().getPhase()))
                .filter(p -> p.getMetadata().getName().startsWith(before.podGroup)).findFirst()
                .orElseThrow(() -> new AssertionError("no Running pod of " + before.podGroup));
        System.out.printf("deleting %s at epoch %d step %d (last checkpoint: epoch %d)%n",
                victim.getMetadata().getName(), before.progress.epoch, before.progress.step, checkpointEpoch);
        client.pods().resource(victim).delete();

        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT.plus(Duration.ofMinutes(5)));
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(RUN);
        assertEquals(RunPhase.Succeeded, end.phase, "the run did not succeed after the gang restart: " + end.message
                + context);
        assertEquals(0, end.restarts, "a deleted pod is a disruption, not a counted restart" + context);
        assertEquals(2, end.attempt, "attempt" + context);
        assertNotNull(end.lastFailure, "the first attempt's end is recorded" + context);
        assertEquals(FailureClass.Disruption, end.lastFailure.failureClass, end.lastFailure.message + context);
        assertEquals(1, end.lastFailure.attempt, context);
        assertTrue(history.jobNames().size() == 2, "one Job per attempt: " + history.jobNames() + context);
        QuickstartE2E.assertNonDecreasing(history.progressEpochs(), context);

        // The second attempt started after the checkpoint the first one left (checkpoints are taken every epoch,
        // so it resumes at epoch c+1 at the earliest), not from epoch 0.
        RunStatus resumed = history.firstProgressOf(2);
        assertNotNull(resumed, "no progress of attempt 2 was seen" + context);
        assertTrue(resumed.progress.epoch >= checkpointEpoch + 1,
                "attempt 2 reported epoch " + resumed.progress.epoch + " first; the last checkpoint before the"
                        + " restart was of epoch " + checkpointEpoch + context);
        long checkpointSteps = (checkpointEpoch + 1L) * before.progress.stepsPerEpoch;
        assertTrue(resumed.progress.globalStep >= checkpointSteps, "attempt 2's step count continues from the"
                + " checkpoint (" + checkpointSteps + " steps): first globalStep " + resumed.progress.globalStep
                + context);
        assertEquals(EPOCHS - 1, end.checkpoint.epoch, "last checkpoint" + context);
        Pod rank0 = runs.pods(RUN).stream().filter(p -> p.getMetadata().getName().startsWith(end.podGroup + "-0-"))
                .findFirst().orElseThrow(() -> new AssertionError("no rank-0 pod of " + end.podGroup + context));
        String log = client.pods().resource(rank0).getLog();
        assertTrue(log.contains("Resuming after epoch"), "rank 0 of attempt 2 says it resumed:\n" + log);
    }
}
