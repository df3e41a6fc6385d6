package io.milan.trainer.dist;

/** A rank and the address it listens on for its ring predecessor; printed as "rank 2 (10.0.0.7:41234)". */
public record Peer(int rank, String host, int port) {

    @Override
    public String toString() {
        return "rank " + rank + " (" + host + ":" + port + ")";
    }
}
