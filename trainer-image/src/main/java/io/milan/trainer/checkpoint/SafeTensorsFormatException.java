package io.milan.trainer.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file is truncated, corrupt or not a safetensors file; the message names the file. */
public class SafeTensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public SafeTensorsFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public SafeTensorsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
