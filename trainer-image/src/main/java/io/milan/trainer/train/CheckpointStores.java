package io.milan.trainer.train;

import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.checkpoint.RunIdentity;
import io.milan.trainer.checkpoint.S3Checkpoints;
import io.milan.trainer.cli.CommonOptions;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.ObjectStoreConfig;
import io.milan.trainer.storage.S3Location;

/** The checkpoint store of a run: --output_dir, with a copy in object storage when --checkpoint_uri is set. */
final class CheckpointStores {

    private CheckpointStores() {
    }

    /** {@code identity}: the run the checkpoints record (null for a store that only reads). */
    static CheckpointStore open(CommonOptions c, RunIdentity identity) {
        if (c.checkpointUri == null || c.checkpointUri.isBlank()) {
            return new CheckpointStore(c.outputDir, identity);
        }
        S3Location location = S3Location.parse("--checkpoint_uri", c.checkpointUri);
        // One client for the life of the process (it holds only idle connections).
        ObjectStore objects = new ObjectStore(ObjectStoreConfig.fromEnvironment(System.getenv()));
        return new CheckpointStore(c.outputDir, identity, new S3Checkpoints(objects, location));
    }
}
