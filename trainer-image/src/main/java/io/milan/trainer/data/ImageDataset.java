package io.milan.trainer.data;

import io.milan.api.ObjectStorage;
import io.milan.trainer.data.shards.S3ShardSource;
import io.milan.trainer.data.shards.ShardManifest;
import io.milan.trainer.data.shards.ShardedDataset;
import io.milan.trainer.storage.ObjectStores;
import io.milan.trainer.storage.S3Location;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A split of labelled images, as {@link BatchLoader} reads it: an {@link ImageFolder} (files, read in any order)
 * or a {@link ShardedDataset} (tar shards, streamed). Samples are numbered 0..size-1; a label indexes
 * {@link #classes()}.
 */
public interface ImageDataset {

    int size();

    /** Class names; a class's index is its position. */
    List<String> classes();

    /** Where it is, for messages. */
    String location();

    /** The sample's file (or shard and entry), for messages and predictions. */
    String sampleName(long index);

    /** Identifies the content well enough to notice that a resume position belongs to other data. */
    String fingerprint();

    /**
     * The split in {@code dir}: shards when it holds {@value ShardManifest#FILE} (written by
     * {@code milan-trainer shard}), else an ImageFolder.
     */
    static ImageDataset open(Path dir) throws IOException {
        return ShardManifest.isShardDirectory(dir) ? ShardedDataset.open(dir) : ImageFolder.scan(dir);
    }

    /**
     * {@code --data_path}'s split {@code split} ({@code train} or {@code val}): under an {@code s3://bucket/prefix},
     * shards streamed from object storage with the dataset's {@code MILAN_S3_DATASET_*} variables (docs/storage.md);
     * else {@link #open(Path)} of the directory.
     */
    static ImageDataset open(String dataPath, String split) throws IOException {
        if (S3Location.isS3(dataPath)) {
            S3Location location = S3Location.parse("--data_path", dataPath).resolve(split);
            return ShardedDataset.open(new S3ShardSource(ObjectStores.forRole(ObjectStorage.Role.DATASET), location));
        }
        return open(Path.of(dataPath).resolve(split));
    }
}
