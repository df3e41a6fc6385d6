package io.milan.trainer.dist;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * What a failing rank tells its successor before closing, and what each successor forwards in turn, so every
 * rank reports the original cause (e.g. "rank 2 lost its connection to rank 1 ...") rather than just "my
 * neighbour went away".
 *
 * @param originRank  the rank that first saw the failure
 * @param culpritRank the rank blamed, or {@link DistributedException#NO_PEER}
 * @param message     the origin's error message
 */
record AbortNotice(int originRank, int culpritRank, String message) {

    private static final int MAX_MESSAGE_BYTES = 16 * 1024;
    /** Largest payload of an abort frame. */
    static final int MAX_PAYLOAD_BYTES = 8 + MAX_MESSAGE_BYTES;

    byte[] encode() {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, MAX_MESSAGE_BYTES);
        ByteBuffer buffer = ByteBuffer.allocate(8 + length);
        buffer.putInt(originRank).putInt(culpritRank).put(text, 0, length);
        return buffer.array();
    }

    static AbortNotice decode(ByteBuffer frame) {
        ByteBuffer payload = frame.slice().order(ByteOrder.BIG_ENDIAN); // as encode() wrote it
        int origin = payload.getInt();
        int culprit = payload.getInt();
        byte[] text = new byte[payload.remaining()];
        payload.get(text);
        return new AbortNotice(origin, culprit, new String(text, StandardCharsets.UTF_8));
    }

    /** The error a receiving rank throws. */
    DistributedException toException(int localRank, String during) {
        return new DistributedException(culpritRank, DistributedException.Link.OTHER,
                "rank " + localRank + ": " + during + " aborted because " + message, null);
    }

    /** Thrown by the frame reader when an abort notice arrives instead of data. */
    static final class Received extends RuntimeException {
        private final AbortNotice notice;

        Received(AbortNotice notice) {
            super(notice.message(), null, false, false);
            this.notice = notice;
        }

        AbortNotice notice() {
            return notice;
        }
    }
}
