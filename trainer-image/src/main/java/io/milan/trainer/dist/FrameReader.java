package io.milan.trainer.dist;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;

/**
 * Reads frames from the ring predecessor on the calling thread, checking each against what this rank expects.
 * An abort notice in place of data is thrown as {@link AbortNotice.Received}.
 */
final class FrameReader {

    private final Connection predecessor;
    private final int rank;
    private final ByteBuffer header = ByteBuffer.allocateDirect(Frame.HEADER_BYTES).order(ByteOrder.nativeOrder());
    private final int maxDataBytes;
    private final ByteBuffer payload;
    private Frame last;

    FrameReader(Connection predecessor, int rank, int maxDataBytes) {
        this.predecessor = predecessor;
        this.rank = rank;
        this.maxDataBytes = maxDataBytes;
        int capacity = Math.max(maxDataBytes, AbortNotice.MAX_PAYLOAD_BYTES);
        this.payload = ByteBuffer.allocateDirect(capacity).order(ByteOrder.nativeOrder());
    }

    /**
     * Reads the next data frame of {@code op #seq} and returns its payload (valid until the next read).
     *
     * @param total        the element count this rank uses, or -1 when the sender decides it (then read it
     *                     from the returned frame via {@link #lastFrame()})
     * @param payloadBytes the payload size this rank expects, or -1 to accept any size up to the buffer
     */
    ByteBuffer expect(Frame.Op op, long seq, long total, int payloadBytes) {
        Frame frame = readHeader();
        String during = op + " #" + seq;
        Peer from = predecessor.peer();
        if (frame.op() != op.ordinal() || frame.seq() != seq) {
            throw mismatch("rank " + rank + " is in " + during + " but its predecessor " + from + " sent data of "
                    + frame.describe() + ": every rank must call the same collectives in the same order");
        }
        if (total >= 0 && frame.total() != total) {
            throw mismatch("rank " + rank + " runs " + during + " on " + total + " elements but its predecessor "
                    + from + " sent " + frame.total() + ": every rank must pass buffers of the same size");
        }
        if (payloadBytes >= 0 && frame.payloadBytes() != payloadBytes) {
            throw mismatch("rank " + rank + " expected a chunk of " + payloadBytes + " bytes in " + during
                    + " but " + from + " sent " + frame.payloadBytes() + " (do the ranks use the same chunk size?)");
        }
        return readPayload(frame);
    }

    /** The header of the frame whose payload {@link #expect} returned last. */
    Frame lastFrame() {
        return last;
    }

    /**
     * After this rank's successor link failed: reads (and discards) data from the predecessor for at most
     * {@code grace}, looking for an abort notice that explains the failure. Null when none arrives.
     */
    AbortNotice awaitNotice(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            while (true) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return null;
                }
                Duration left = Duration.ofNanos(remaining);
                header.clear();
                predecessor.readFully(header, left);
                header.flip();
                Frame frame = Frame.readFrom(header);
                if (!plausible(frame)) {
                    return null;
                }
                payload.clear().limit(frame.payloadBytes());
                predecessor.readFully(payload, left);
                payload.flip();
                if (frame.kind() == Frame.ABORT) {
                    return AbortNotice.decode(payload);
                }
            }
        } catch (DistributedException e) {
            return null; // the predecessor is gone or silent too: no explanation to be had
        }
    }

    private Frame readHeader() {
        header.clear();
        predecessor.readFully(header);
        header.flip();
        Frame frame = Frame.readFrom(header);
        if (frame.kind() != Frame.DATA && frame.kind() != Frame.ABORT) {
            throw mismatch(String.format("rank %d received garbage (frame kind 0x%08x) from its predecessor %s",
                    rank, frame.kind(), predecessor.peer()));
        }
        if (!plausible(frame)) {
            throw mismatch("rank " + rank + " received a frame of " + frame.payloadBytes() + " bytes from "
                    + predecessor.peer() + "; at most " + maxDataBytes + " expected (do the ranks use the same"
                    + " chunk size?)");
        }
        if (frame.kind() == Frame.ABORT) {
            throw new AbortNotice.Received(AbortNotice.decode(readPayload(frame)));
        }
        return frame;
    }

    private boolean plausible(Frame frame) {
        int max = frame.kind() == Frame.ABORT ? AbortNotice.MAX_PAYLOAD_BYTES
                : frame.kind() == Frame.DATA ? maxDataBytes : -1;
        return frame.payloadBytes() >= 0 && frame.payloadBytes() <= max;
    }

    private ByteBuffer readPayload(Frame frame) {
        last = frame;
        payload.clear().limit(frame.payloadBytes());
        predecessor.readFully(payload);
        payload.flip();
        return payload;
    }

    private DistributedException mismatch(String message) {
        return new DistributedException(predecessor.peer().rank(), DistributedException.Link.OTHER, message, null);
    }
}
