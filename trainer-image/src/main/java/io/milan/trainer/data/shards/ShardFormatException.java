package io.milan.trainer.data.shards;

import java.io.IOException;

/** A shard or its manifest is missing, corrupt, truncated or does not match; the message names the file. */
public final class ShardFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public ShardFormatException(String message) {
        super(message);
    }

    public ShardFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
