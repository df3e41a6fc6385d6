package io.milan.trainer.data.shards;

import io.milan.trainer.data.ImageFolder;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.S3Location;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code shard --to s3://bucket/prefix}: {@link ShardWriter} writes each shard to a local temporary directory,
 * from where it is uploaded (whole or not at all: {@link ObjectStore#upload}) and deleted before the next is
 * written, so only one shard at a time takes local disk; {@value ShardManifest#FILE} goes up last. A reader
 * therefore sees either no manifest (an interrupted upload: no dataset) or a complete set of shards.
 */
public final class ShardUpload {
    private final ObjectStore store;
    private final S3Location prefix;

    public ShardUpload(ObjectStore store, S3Location prefix) {
        this.store = store;
        this.prefix = prefix;
    }

    public ShardManifest write(ImageFolder from, ShardWriter.ShardSize size, long seed) throws IOException {
        if (!store.list(prefix).isEmpty()) {
            throw new IllegalArgumentException("--to " + prefix + " already holds objects; remove them or choose"
                    + " another prefix");
        }
        Path temp = Files.createTempDirectory("milan-shard-");
        try {
            ShardManifest manifest = ShardWriter.write(from, temp.resolve("shards"), size, seed, shard -> {
                store.upload(shard, prefix.bucket(), prefix.key(shard.getFileName().toString()));
                Files.delete(shard);
            });
            store.putBytes(prefix.bucket(), prefix.key(ShardManifest.FILE),
                    manifest.toJson().getBytes(StandardCharsets.UTF_8));
            return manifest;
        } finally {
            try (Stream<Path> files = Files.walk(temp)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
