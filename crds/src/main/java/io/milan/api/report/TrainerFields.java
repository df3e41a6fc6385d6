package io.milan.api.report;

import io.milan.api.CheckpointStatus;
import io.milan.api.EvalStatus;
import io.milan.api.Progress;
import io.milan.api.RunStatus;

/**
 * The status fields the trainer owns. Every apply sends all three (those known so far): server-side apply
 * removes a field its manager stops sending, so a progress-only write would otherwise erase eval and checkpoint.
 */
public record TrainerFields(Progress progress, EvalStatus eval, CheckpointStatus checkpoint) {
    public static final TrainerFields NONE = new TrainerFields(null, null, null);

    /** The trainer-owned part of a status read from the API server. */
    public static TrainerFields of(RunStatus status) {
        return status == null ? NONE : new TrainerFields(status.progress, status.eval, status.checkpoint);
    }

    public TrainerFields withProgress(Progress p) {
        return new TrainerFields(p, eval, checkpoint);
    }

    public TrainerFields withEval(EvalStatus e) {
        return new TrainerFields(progress, e, checkpoint);
    }

    public TrainerFields withCheckpoint(CheckpointStatus c) {
        return new TrainerFields(progress, eval, c);
    }

    /** A status holding only these fields, as sent by the apply. */
    public RunStatus toStatus() {
        RunStatus s = new RunStatus();
        s.progress = progress;
        s.eval = eval;
        s.checkpoint = checkpoint;
        return s;
    }
}
