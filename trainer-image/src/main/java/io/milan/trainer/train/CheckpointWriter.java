package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import com.google.gson.Gson;
import io.milan.trainer.checkpoint.Checkpoint;
import io.milan.trainer.checkpoint.CheckpointPolicy;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.data.DataPosition;
import io.milan.trainer.optim.StatefulOptimizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rank 0's end-of-epoch checkpoint, shared by the training loops: saved when the policy says so (every K epochs
 * and after the last), with the command line and seed as metadata, older ones pruned to --keep_checkpoints.
 */
final class CheckpointWriter {
    private final CheckpointStore store;
    private final CheckpointPolicy policy;
    private final int epochs;
    private final String[] commandLine;
    private final int seed;
    private Path lastSaved;
    private DataPosition dataPosition;

    CheckpointWriter(CheckpointStore store, CheckpointPolicy policy, int epochs, String[] commandLine, int seed) {
        this.store = store;
        this.policy = policy;
        this.epochs = epochs;
        this.commandLine = commandLine.clone();
        this.seed = seed;
    }

    /** Where the data stands for the next checkpoint: saved in its metadata under {@link DataPosition#KEY}. */
    void dataPosition(DataPosition position) {
        this.dataPosition = position;
    }

    /** Saves after {@code epoch} if due; returns the model file, or null when not saved. */
    Path maybeSave(int epoch, long globalStep, Map<String, NDArray> state, StatefulOptimizer optimizer,
            Map<String, String> extraMetadata) throws IOException {
        if (!policy.shouldSave(epoch, epochs)) {
            return null;
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(CheckpointStore.ARGS, new Gson().toJson(commandLine));
        meta.put(CheckpointStore.SEED, Integer.toString(seed));
        if (dataPosition != null) {
            meta.put(DataPosition.KEY, dataPosition.toJson());
        }
        meta.putAll(extraMetadata);
        Path saved = store.save(new Checkpoint(epoch, globalStep, state, optimizer.state(), meta));
        store.prune(epoch, policy.keepLast());
        lastSaved = saved;
        return saved;
    }

    /** Where users find the checkpoint saved as {@code modelFile}: its object's URL, or the path. */
    String locationOf(Path modelFile) {
        return store.locationOf(modelFile);
    }

    /** The model file this writer saved last in this process, or null. */
    Path lastSaved() {
        return lastSaved;
    }
}
