package io.milan.trainer.dist;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The elements a collective moves, addressed by element index from 0: float32 values (all-reduce, float
 * broadcast) or raw bytes (broadcast of any dtype, all-gather). Knows how to copy a run of elements into a
 * frame's payload and back.
 */
sealed interface Region {

    int length();

    int elementBytes();

    /** Appends elements {@code [start, start + count)} to {@code out} (a native-order buffer). */
    void copyOut(int start, int count, ByteBuffer out);

    /** Overwrites elements {@code [start, start + count)} with {@code payload}'s bytes. */
    void copyIn(int start, int count, ByteBuffer payload);

    /** float32 values: the elements between {@code data}'s position and limit. */
    record Floats(FloatBuffer data) implements Region {
        public Floats {
            data = data.slice(); // element 0 at index 0
        }

        @Override
        public int length() {
            return data.limit();
        }

        @Override
        public int elementBytes() {
            return Float.BYTES;
        }

        @Override
        public void copyOut(int start, int count, ByteBuffer out) {
            out.asFloatBuffer().put(data.slice(start, count));
            out.position(out.position() + count * Float.BYTES);
        }

        @Override
        public void copyIn(int start, int count, ByteBuffer payload) {
            data.slice(start, count).put(payload.asFloatBuffer().limit(count));
        }
    }

    /** Raw bytes: those between {@code data}'s position and limit. */
    record Bytes(ByteBuffer data) implements Region {
        public Bytes {
            data = data.slice();
        }

        @Override
        public int length() {
            return data.limit();
        }

        @Override
        public int elementBytes() {
            return 1;
        }

        @Override
        public void copyOut(int start, int count, ByteBuffer out) {
            out.put(data.slice(start, count));
        }

        @Override
        public void copyIn(int start, int count, ByteBuffer payload) {
            data.slice(start, count).put(payload.slice(payload.position(), count));
        }
    }
}
