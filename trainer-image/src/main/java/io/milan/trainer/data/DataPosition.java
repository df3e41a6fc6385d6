package io.milan.trainer.data;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import java.util.Optional;

/**
 * Where a training data stream stands: the next batch to load is batch {@code batch} of epoch {@code epoch}, for
 * ranks of {@code worldSize} processes with batches of {@code batchSize}. With the seed, that is all a loader needs
 * to continue exactly (for shards the shuffle buffer's state is a function of it and the buffer's size,
 * {@code ShuffleOrder}). Kept in a
 * checkpoint's metadata under {@value #KEY} as an opaque JSON object the data source owns; the loops only carry it.
 *
 * @param fingerprint the data's {@link ImageDataset#fingerprint()}: a position is refused on other data
 */
public record DataPosition(int epoch, int batch, int batchSize, int worldSize, long seed, int shuffleBuffer,
        String fingerprint) {

    /** The checkpoint metadata key. */
    public static final String KEY = "dataPosition";
    private static final Gson GSON = new Gson();

    public String toJson() {
        return GSON.toJson(this);
    }

    /** Parses a position written by {@link #toJson()}; {@code where} names it in errors. */
    public static DataPosition parse(String json, String where) {
        try {
            DataPosition p = GSON.fromJson(json, DataPosition.class);
            if (p == null || p.fingerprint() == null || p.epoch() < 0 || p.batch() < 0) {
                throw new IllegalArgumentException(where + ": '" + json + "' is not a data position");
            }
            return p;
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(where + ": '" + json + "' is not a data position: " + e.getMessage(),
                    e);
        }
    }

    /**
     * What keeps a loader at {@code now} from continuing this position's epoch exactly, said as "with X; continuing
     * it exactly needs the same, not Y", or empty when it can (same data, processes, batch size, seed and buffer).
     */
    public Optional<String> differenceFrom(DataPosition now) {
        if (!now.fingerprint().equals(fingerprint)) {
            return Optional.of("of other data (" + fingerprint + ") than this run's (" + now.fingerprint() + ")");
        }
        if (now.worldSize() != worldSize || now.batchSize() != batchSize || now.seed() != seed
                || now.shuffleBuffer() != shuffleBuffer) {
            return Optional.of("with " + worldSize + " processes of batch " + batchSize + ", seed " + seed
                    + ", shuffle buffer " + shuffleBuffer + "; continuing it exactly needs the same, not "
                    + now.worldSize() + " processes of batch " + now.batchSize() + ", seed " + now.seed()
                    + ", shuffle buffer " + now.shuffleBuffer());
        }
        return Optional.empty();
    }
}
