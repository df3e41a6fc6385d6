package io.milan.trainer.dist;

/**
 * A collective or the rendezvous failed: a peer died, went silent past the timeout, was refused, or the ranks
 * disagree. The message names this rank and, when known, the peer's rank and address. After it is thrown the
 * {@link ProcessGroup} is closed; the training loop should exit non-zero so the operator restarts the gang.
 */
public class DistributedException extends RuntimeException {

    /** No particular peer is to blame (e.g. this rank's own configuration is wrong). */
    public static final int NO_PEER = -1;

    private final int peerRank;
    private final transient Link link;

    /** Which of this rank's connections the failure was seen on; drives how it is propagated. */
    enum Link {
        /** The connection this rank receives on (from rank - 1). */
        PREDECESSOR,
        /** The connection this rank sends on (to rank + 1). */
        SUCCESSOR,
        /** Not a ring connection: rendezvous, a notice forwarded from another rank, or a local check. */
        OTHER
    }

    public DistributedException(int peerRank, String message) {
        this(peerRank, Link.OTHER, message, null);
    }

    DistributedException(int peerRank, Link link, String message, Throwable cause) {
        super(message, cause);
        this.peerRank = peerRank;
        this.link = link;
    }

    /** The rank blamed for the failure, or {@link #NO_PEER}. */
    public int peerRank() {
        return peerRank;
    }

    Link link() {
        return link;
    }
}
