package io.milan.trainer.data;

/** Loading a batch failed (a worker error, or too many unreadable images); the message names the file(s). */
public class DataLoadingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DataLoadingException(String message) {
        super(message);
    }

    public DataLoadingException(String message, Throwable cause) {
        super(message, cause);
    }
}
