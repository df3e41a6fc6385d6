package io.milan.operator.status;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.milan.api.RunStatus;
import java.util.ArrayList;

/**
 * The operator's part of a run's status. The operator applies it with server-side apply as a fresh object that
 * never contains the trainer's fields (progress, eval, checkpoint), so it neither overwrites nor takes ownership of
 * them.
 */
public final class OperatorStatus {
    private OperatorStatus() {
    }

    /** A copy of the operator-owned fields of {@code current} (empty when there is no status yet). */
    public static RunStatus copyOf(RunStatus current) {
        RunStatus s = new RunStatus();
        if (current == null) {
            return s;
        }
        s.observedGeneration = current.observedGeneration;
        s.phase = current.phase;
        s.conditions = current.conditions == null ? null : new ArrayList<>(current.conditions);
        s.message = current.message;
        s.attempt = current.attempt;
        s.endedAttempt = current.endedAttempt;
        s.restarts = current.restarts;
        s.lastFailure = current.lastFailure;
        s.startTime = current.startTime;
        s.completionTime = current.completionTime;
        s.activeSeconds = current.activeSeconds;
        s.activeSince = current.activeSince;
        s.nextRestartTime = current.nextRestartTime;
        s.podGroup = current.podGroup;
        s.worldSize = current.worldSize;
        s.effectiveBatchSize = current.effectiveBatchSize;
        s.effectiveLr = current.effectiveLr;
        s.pretrainedCheckpoint = current.pretrainedCheckpoint;
        s.pretrainedVolume = current.pretrainedVolume;
        return s;
    }

    /** Whether the operator-owned fields of both are equal (then there is nothing to write). */
    public static boolean same(RunStatus a, RunStatus b) {
        return Serialization.asJson(copyOf(a)).equals(Serialization.asJson(copyOf(b)));
    }
}
