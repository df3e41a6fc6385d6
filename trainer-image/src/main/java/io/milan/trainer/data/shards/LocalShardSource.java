package io.milan.trainer.data.shards;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Shards in a local or mounted directory. */
public record LocalShardSource(Path dir) implements ShardSource {

    @Override
    public InputStream open(String name) throws IOException {
        try {
            return Files.newInputStream(dir.resolve(name));
        } catch (NoSuchFileException e) {
            throw new ShardFormatException(describe(name) + " is listed in " + ShardManifest.FILE
                    + " but does not exist");
        }
    }

    @Override
    public String describe(String name) {
        return dir.resolve(name).toString();
    }

    @Override
    public String location() {
        return dir.toString();
    }
}
