package io.milan.trainer.dist.c10d;

import io.milan.trainer.dist.DistributedException;

/**
 * A c10d collective or the rendezvous failed: a peer died or went silent past the timeout, the store was not
 * reachable, or a tensor was unfit. The message names the operation and this rank, and carries c10d's own
 * explanation (for Gloo, usually the peer's address). The group should be closed and the process should exit
 * non-zero (io.milan.trainer.dist.ProcessGroup adds which rank stopped).
 */
public final class C10dException extends DistributedException {

    C10dException(String message) {
        super(message);
    }
}
