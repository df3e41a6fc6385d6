package io.milan.trainer.data.shards;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where a shard directory's files are read from: a local (or mounted) directory today; an object-store prefix
 * needs only another implementation (a GET per whole shard), the reader and the epoch plan stay as they are.
 */
public interface ShardSource {

    /** Opens the file {@code name} (a shard or the manifest) for one sequential read. */
    InputStream open(String name) throws IOException;

    /** The file's location for messages, e.g. {@code /data/train/shard-000003.tar}. */
    String describe(String name);

    /** The directory's location for messages. */
    String location();
}
