package io.milan.trainer.checkpoint.torchfile;

import java.io.IOException;
import java.nio.file.Path;

/** A {@code torch.save} file that cannot be read: malformed, hostile, or using what this reader leaves out. */
public final class TorchFileException extends IOException {
    private static final long serialVersionUID = 1L;

    public TorchFileException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public TorchFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
