package io.milan.trainer.data.shards;

import io.milan.trainer.data.ImageDataset;
import io.milan.trainer.data.SampleRandom;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * A split stored as shards ({@link ShardManifest}): what {@code --data_path}'s {@code train/} or {@code val/} is
 * read as when it holds {@value ShardManifest#FILE}. Samples are numbered in the manifest's order (shard by shard);
 * that number seeds a sample's augmentation and is its index in batches.
 */
public final class ShardedDataset implements ImageDataset {

    /** Whole shards read ahead of the one in use. */
    public static final int PREFETCH_SHARDS = 2;

    private final ShardSource source;
    private final ShardManifest manifest;
    private final int[] firstIndices;
    private final int[] counts;
    /** The manifest's hash, computed once: every checkpoint's data position carries it. */
    private final String fingerprint;

    public ShardedDataset(ShardSource source, ShardManifest manifest) {
        this.source = source;
        this.manifest = manifest;
        this.firstIndices = manifest.firstIndices();
        this.counts = manifest.shards().stream().mapToInt(ShardManifest.Shard::samples).toArray();
        this.fingerprint = "shards:" + ShardReader.sha256(manifest.toJson().getBytes(StandardCharsets.UTF_8));
    }

    /** The shards in a local directory. */
    public static ShardedDataset open(Path dir) throws IOException {
        return new ShardedDataset(new LocalShardSource(dir), ShardManifest.read(dir));
    }

    /** The shards at {@code source}, reading its manifest through it. */
    public static ShardedDataset open(ShardSource source) throws IOException {
        String json;
        try (InputStream in = source.open(ShardManifest.FILE)) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        return new ShardedDataset(source, ShardManifest.parse(json, source.describe(ShardManifest.FILE)));
    }

    public ShardManifest manifest() {
        return manifest;
    }

    @Override
    public int size() {
        return manifest.samples();
    }

    @Override
    public List<String> classes() {
        return manifest.classes();
    }

    @Override
    public String location() {
        return source.location();
    }

    @Override
    public String sampleName(long index) {
        int shard = 0;
        while (firstIndices[shard + 1] <= index) {
            shard++;
        }
        return source.describe(manifest.shards().get(shard).name()) + " sample " + (index - firstIndices[shard]);
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    /** The samples of the shard at {@code position} in the manifest, checked against it. */
    List<EncodedSample> readShard(int position) throws IOException {
        return ShardReader.read(source, manifest, position, firstIndices[position]);
    }

    /**
     * Rank {@code rank}'s stream of {@code epoch}: shuffled shards and a shuffle buffer of {@code shuffleBuffer}
     * samples (seeded by seed, epoch and rank), or with {@code shuffle} false every shard in order, unshuffled. It
     * starts at emission {@code skip}.
     */
    public ShardStream stream(int epoch, long seed, int world, int rank, boolean shuffle, int shuffleBuffer,
            int skip) {
        List<ShardEpochPlan.Segment> segments = ShardEpochPlan.segments(counts, epoch, seed, world, rank, shuffle);
        int length = ShardEpochPlan.samplesPerRank(size(), world);
        int[] order = ShuffleOrder.of(length, shuffle ? shuffleBuffer : 0,
                SampleRandom.forSample(seed ^ 0x7368756666L, epoch, rank, 0)); // "shuff"
        if (skip < 0 || skip > length) {
            throw new IllegalArgumentException("resume position " + skip + " is outside the epoch's " + length
                    + " samples of this rank");
        }
        return new ShardStream(this, segments, order, skip, PREFETCH_SHARDS);
    }
}
