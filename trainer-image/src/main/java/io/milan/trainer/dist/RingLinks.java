package io.milan.trainer.dist;

import java.util.List;

/**
 * The result of the rendezvous: every rank's listen address, the connection this rank sends on (to its ring
 * successor, rank + 1) and the one it receives on (from its predecessor, rank - 1).
 */
record RingLinks(List<Peer> peers, Connection successor, Connection predecessor) {

    void close() {
        Connection.closeQuietly(successor);
        Connection.closeQuietly(predecessor);
    }

    void closeAbruptly() {
        successor.closeAbruptly();
        predecessor.closeAbruptly();
    }
}
