package io.milan.trainer.data.shards;

import io.milan.api.ObjectStorage;
import io.milan.trainer.data.ImageFolder;
import io.milan.trainer.storage.ObjectStores;
import io.milan.trainer.storage.S3Location;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shard}: one ImageFolder split ({@code <from>/<class>/<image>}) as tar shards of the WebDataset layout plus
 * {@link ShardManifest#FILE} (see {@link ShardWriter}). Shard {@code train/} and {@code val/} one at a time into
 * {@code <data>/train} and {@code <data>/val}; {@code --data_path <data>} then streams them.
 */
@Command(name = "shard", mixinStandardHelpOptions = true,
        description = "Write an ImageFolder split as WebDataset tar shards with a manifest (shards.json).")
public final class ShardCommand implements Callable<Integer> {

    @Option(names = "--from", required = true, description = "The ImageFolder split: <from>/<class>/<image>.")
    Path from;

    @Option(names = "--to", required = true, description = "The shard directory to create (must not exist yet), or"
            + " s3://bucket/prefix (must hold no objects yet; written with the MILAN_S3_DATASET_* variables, else"
            + " MILAN_S3_*; docs/storage.md).")
    String to;

    @Option(names = "--shard-size", required = true, paramLabel = "N|BYTES",
            description = "Samples per shard (e.g. 1000) or bytes per shard (e.g. 256MB, 1GiB).")
    String shardSize;

    @Option(names = "--seed", description = "Seed of the order of the samples across shards (default:"
            + " ${DEFAULT-VALUE}).")
    long seed = 0;

    @Override
    public Integer call() throws IOException {
        ShardWriter.ShardSize size = ShardWriter.ShardSize.parse(shardSize);
        ImageFolder folder = ImageFolder.scan(from);
        ShardManifest m = S3Location.isS3(to)
                ? new ShardUpload(ObjectStores.forRole(ObjectStorage.Role.DATASET), S3Location.parse("--to", to))
                        .write(folder, size, seed)
                : ShardWriter.write(folder, Path.of(to), size, seed);
        long bytes = m.shards().stream().mapToLong(ShardManifest.Shard::bytes).sum();
        System.out.printf(Locale.ROOT, "shard: %s, %d samples of %d classes in %d shards (%.1f MB)%n", to,
                m.samples(), m.classes().size(), m.shards().size(), bytes / 1e6);
        return 0;
    }
}
