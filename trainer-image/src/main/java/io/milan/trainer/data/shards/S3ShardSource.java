package io.milan.trainer.data.shards;

import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.S3Location;
import java.io.IOException;
import java.io.InputStream;

/**
 * Shards under an object storage prefix ({@code s3://bucket/prefix/shard-000000.tar}, ...): one GET per whole
 * shard, which {@link ShardReader} reads to its end before using a sample, and one for the manifest. The prefetch
 * thread of {@link ShardStream} keeps whole shards coming ahead of the one in use, as from a local directory.
 */
public record S3ShardSource(ObjectStore store, S3Location prefix) implements ShardSource {

    @Override
    public InputStream open(String name) throws IOException {
        return store.stream(prefix.bucket(), prefix.key(name)).orElseThrow(() -> missing(name));
    }

    private ShardFormatException missing(String name) {
        if (name.equals(ShardManifest.FILE)) {
            return new ShardFormatException(describe(name) + " does not exist (endpoint " + store.describeEndpoint()
                    + "); is " + prefix + " a prefix written by `milan-trainer shard`? (A dataset in object"
                    + " storage must be shards; an ImageFolder is read from a path.)");
        }
        return new ShardFormatException(describe(name) + " is listed in " + ShardManifest.FILE
                + " but does not exist (endpoint " + store.describeEndpoint() + ")");
    }

    @Override
    public String describe(String name) {
        return prefix.url(name);
    }

    @Override
    public String location() {
        return prefix.toString();
    }
}
