package io.milan.trainer.checkpoint.torchfile;

import java.io.Closeable;
import java.io.IOException;

/** Where a file's storages are: zip entries, or sections after the pickle in the legacy format. */
interface StorageSource extends Closeable {

    /** {@code length} bytes of {@code storage} from {@code byteOffset} (both already checked to lie inside it). */
    byte[] read(StorageRef storage, long byteOffset, int length) throws IOException;
}
