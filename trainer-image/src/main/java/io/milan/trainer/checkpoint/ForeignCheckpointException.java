package io.milan.trainer.checkpoint;

import java.nio.file.Path;

/**
 * {@code --resume auto} found a checkpoint of another run in the output directory. A configuration error (the
 * trainer's usage-error type, so the process exits as one): restarting cannot fix it, the user must choose.
 */
public final class ForeignCheckpointException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    ForeignCheckpointException(Path checkpoint, Path directory, String difference) {
        super("--resume auto: " + checkpoint + " belongs to another run: " + difference + ". Refusing to continue"
                + " another run's training. To start this run fresh, give it an output directory of its own"
                + " (--output_dir; for a run of the Milan operator, spec.output with another claim or subPath) or"
                + " move the checkpoints in " + directory + " away; to continue the run that wrote it, resume that"
                + " run with its own flags; to start from its state on purpose (a warm start), name the file:"
                + " --resume " + checkpoint);
    }
}
