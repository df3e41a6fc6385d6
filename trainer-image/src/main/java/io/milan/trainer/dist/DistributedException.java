package io.milan.trainer.dist;

/**
 * A collective or the rendezvous failed: a peer died, went silent past the timeout, or the ranks disagree. The
 * message names the operation, this rank and, when known, the rank to blame. The training loop lets it propagate
 * so the process exits non-zero and the operator restarts the gang from the last checkpoint.
 */
public class DistributedException extends RuntimeException {

    public DistributedException(String message) {
        super(message);
    }

    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
