package io.milan.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import io.milan.trainer.optim.OptimizerState;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a run needs to continue after {@code epoch}: the model's tensors under the reference
 * state_dict names, the optimizer state (null for a weights-only checkpoint) and run metadata.
 *
 * @param epoch the last finished epoch (training resumes at {@code epoch + 1}, as in the reference)
 * @param globalStep optimizer steps taken so far
 * @param metadata run facts to keep with the weights (e.g. {@code args} as JSON, {@code seed}); the store
 *     adds the epoch, step and versions itself
 */
public record Checkpoint(int epoch, long globalStep, Map<String, NDArray> model, OptimizerState optimizer,
        Map<String, String> metadata) {

    public Checkpoint {
        if (epoch < 0) {
            throw new IllegalArgumentException("checkpoint epoch must be >= 0, got " + epoch);
        }
        if (globalStep < 0) {
            throw new IllegalArgumentException("checkpoint global step must be >= 0, got " + globalStep);
        }
        Objects.requireNonNull(model, "model");
        metadata = Map.copyOf(metadata);
    }

    /** The epoch the training loop continues with. */
    public int nextEpoch() {
        return epoch + 1;
    }
}
