package io.milan.trainer.dist;

import java.nio.ByteBuffer;

/**
 * The header in front of every chunk on the ring: {@code int kind, int op, long seq, long total, int
 * payloadBytes} (28 bytes, native byte order, which the rendezvous checked is the same on every rank). The
 * receiver checks op, sequence number and size against its own call, so ranks that issue different collectives
 * or different buffer sizes fail with a clear message instead of silently mixing data.
 */
record Frame(int kind, int op, long seq, long total, int payloadBytes) {

    static final int HEADER_BYTES = 28;
    static final int DATA = 0x4D444154; // "MDAT"
    static final int ABORT = 0x4D41424F; // "MABO"

    /** The collectives, as they appear in frames and messages. */
    enum Op {
        ALL_REDUCE_MEAN("allReduceMean"),
        BROADCAST("broadcast"),
        ALL_GATHER("allGather");

        private final String label;

        Op(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }

        static String labelOf(int ordinal) {
            return ordinal >= 0 && ordinal < values().length ? values()[ordinal].label : "unknown op " + ordinal;
        }
    }

    static Frame data(Op op, long seq, long total, int payloadBytes) {
        return new Frame(DATA, op.ordinal(), seq, total, payloadBytes);
    }

    void writeTo(ByteBuffer buffer) {
        buffer.putInt(kind).putInt(op).putLong(seq).putLong(total).putInt(payloadBytes);
    }

    static Frame readFrom(ByteBuffer buffer) {
        return new Frame(buffer.getInt(), buffer.getInt(), buffer.getLong(), buffer.getLong(), buffer.getInt());
    }

    /** "allReduceMean #12" */
    String describe() {
        return Op.labelOf(op) + " #" + seq;
    }
}
