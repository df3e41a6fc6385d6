package io.milan.trainer.dist;

import java.nio.ByteBuffer;
import java.util.function.IntFunction;

/** Broadcast from rank 0 and all-gather, on the ring. */
final class RingCollectives {

    private RingCollectives() {
    }

    /**
     * Pipelined chain broadcast 0 → 1 → … → N-1: each rank forwards every chunk as soon as it has it, so the
     * time is about (size + (N-2) chunks) / bandwidth rather than N-1 whole transfers.
     *
     * @param expectedTotal the region length non-roots expect, or -1 when only rank 0 knows it
     * @param destination   where a non-root stores the data, given the length rank 0 announces
     */
    static Region broadcast(Ring ring, long seq, Region rootData, long expectedTotal,
            IntFunction<Region> destination) {
        Region result;
        if (ring.rank() == 0) {
            ring.send(Frame.Op.BROADCAST, seq, rootData, 0, rootData.length());
            result = rootData;
        } else {
            boolean forward = ring.successorRank() != 0;
            result = ring.receive(Frame.Op.BROADCAST, seq, expectedTotal, destination, forward);
        }
        ring.sender().awaitWritten();
        return result;
    }

    /**
     * Every rank's bytes to every rank: in step s rank r passes on the block of rank r-s and receives that of
     * rank r-s-1. Blocks may differ in length. Meant for small payloads (metrics, manifests).
     */
    static byte[][] allGather(Ring ring, long seq, byte[] mine) {
        int n = ring.size();
        int r = ring.rank();
        byte[][] blocks = new byte[n][];
        blocks[r] = mine;
        ring.send(Frame.Op.ALL_GATHER, seq, new Region.Bytes(ByteBuffer.wrap(mine)), 0, mine.length);
        for (int step = 0; step < n - 1; step++) {
            int from = Math.floorMod(r - step - 1, n);
            boolean forward = step < n - 2;
            ring.receive(Frame.Op.ALL_GATHER, seq, -1, length -> {
                blocks[from] = new byte[length];
                return new Region.Bytes(ByteBuffer.wrap(blocks[from]));
            }, forward);
        }
        ring.sender().awaitWritten();
        return blocks;
    }
}
