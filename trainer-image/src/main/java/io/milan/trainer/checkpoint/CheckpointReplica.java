package io.milan.trainer.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A durable copy of a run's checkpoints outside the pod, e.g. in object storage ({@link S3Checkpoints}). The
 * {@link CheckpointStore} writes and validates checkpoints in its local directory as always, and tells the
 * replica after each step: {@link #publish} once a checkpoint's files are complete, {@link #prune} after pruning,
 * and {@link #restoreInto} before {@code --resume auto} looks for the newest valid checkpoint locally.
 */
public interface CheckpointReplica {

    /**
     * Copies a complete epoch-end checkpoint; {@code files} in commit order, the model file (the commit point)
     * last. Mid-epoch copies of epochs up to {@code epoch} are dropped (this one is further along).
     */
    void publish(int epoch, List<Path> files) throws IOException;

    /**
     * Copies a complete mid-epoch checkpoint (inside {@code epoch}, after {@code globalStep}) and drops the previous
     * mid-epoch copy: as in the directory, there is at most one. Called on the checkpoint writer's background
     * thread, so the upload does not hold up training.
     */
    void publishMidEpoch(int epoch, long globalStep, List<Path> files) throws IOException;

    /** Keeps the {@code keepLast} newest checkpoints up to {@code savedEpoch} (0 keeps all), as the store does. */
    void prune(int savedEpoch, int keepLast) throws IOException;

    /**
     * Brings the newest checkpoint whose copy is complete and intact into {@code directory}, falling back to
     * older ones; nothing when the replica holds none. Fails only when it holds some and none is usable.
     */
    void restoreInto(Path directory) throws IOException;

    /** Where the copy of {@code modelFile} lives, for status.checkpoint (e.g. {@code s3://bucket/key}). */
    String locationOf(Path modelFile);
}
