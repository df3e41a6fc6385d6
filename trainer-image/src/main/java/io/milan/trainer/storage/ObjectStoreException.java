package io.milan.trainer.storage;

import java.io.IOException;

/** An object storage request failed; the message names the location and, where known, why (never a secret). */
public class ObjectStoreException extends IOException {
    private static final long serialVersionUID = 1L;

    public ObjectStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
