package io.milan.trainer.checkpoint;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where inside an epoch a mid-epoch checkpoint was taken, recorded in its metadata so a resume continues at that
 * exact micro-batch. Nothing else is needed to replay the rest of the epoch identically: the sampler's order is a
 * function of ({@code dataSeed} + epoch, world size), and every random draw after it (augmentation, mask noise,
 * mixup, drop path) of (seed, epoch, sample index or iteration), see {@code data/SampleRandom}. The optimizer
 * state, its step count and the loss scaler travel as in an epoch-end checkpoint.
 *
 * <p>A checkpoint without {@value #ITERATION} is an epoch-end one: its {@code milan.epoch} is the epoch finished.
 * In a mid-epoch checkpoint {@code milan.epoch} is the epoch in progress. A data pipeline with more state (a
 * sharded reader's offsets) adds its own keys beside these.
 *
 * @param epoch the epoch in progress
 * @param iteration micro-batches of the epoch done (the next one to run); at most the epoch's iterations
 * @param worldSize processes whose shards the sampler cut the epoch into
 * @param dataSeed the {@code --seed} the epoch's order and draws were derived from
 */
public record EpochPosition(int epoch, int iteration, int worldSize, long dataSeed) {
    /** Metadata keys (written by the training loops, read by the store to name and order the files). */
    public static final String ITERATION = "milan.epoch_iteration";
    public static final String WORLD_SIZE = "milan.world_size";
    public static final String DATA_SEED = "milan.data_seed";

    public EpochPosition {
        if (epoch < 0 || iteration < 0 || worldSize < 1) {
            throw new IllegalArgumentException("invalid epoch position: epoch " + epoch + ", iteration " + iteration
                    + ", world size " + worldSize);
        }
    }

    /** The metadata that records this position ({@code milan.epoch} is the store's). */
    public Map<String, String> metadata() {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ITERATION, Integer.toString(iteration));
        meta.put(WORLD_SIZE, Integer.toString(worldSize));
        meta.put(DATA_SEED, Long.toString(dataSeed));
        return meta;
    }

    /** Whether {@code metadata} (a checkpoint's, or one about to be saved) is a mid-epoch checkpoint's. */
    public static boolean isMidEpoch(Map<String, String> metadata) {
        return metadata.containsKey(ITERATION);
    }

    /**
     * The position recorded in the metadata of {@code checkpoint} ({@code file} for messages); empty for an
     * epoch-end checkpoint, which resumes at the next epoch's start.
     */
    public static Optional<EpochPosition> of(Checkpoint checkpoint, String file) throws CheckpointException {
        Map<String, String> meta = checkpoint.metadata();
        if (!isMidEpoch(meta)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new EpochPosition(checkpoint.epoch(), Integer.parseInt(require(meta, ITERATION, file)),
                    Integer.parseInt(require(meta, WORLD_SIZE, file)), Long.parseLong(require(meta, DATA_SEED, file))));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("mid-epoch checkpoint " + file + " records an invalid position ("
                    + e.getMessage() + "); resume from an epoch-end checkpoint instead");
        }
    }

    private static String require(Map<String, String> meta, String key, String file) throws CheckpointException {
        String value = meta.get(key);
        if (value == null) {
            throw new CheckpointException("mid-epoch checkpoint " + file + " has no " + key + " metadata");
        }
        return value;
    }
}
