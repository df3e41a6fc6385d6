package io.milan.trainer.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Conversions of little-endian F16, BF16 and F64 tensor bytes to float32 bytes, and of I16 to int32 (loading
 * only).
 */
final class Float16 {

    private Float16() {
    }

    static ByteBuffer halfToFloat32(ByteBuffer raw) {
        ByteBuffer in = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocateDirect(in.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            out.putFloat(halfToFloat(in.getShort()));
        }
        return out.flip();
    }

    static ByteBuffer bfloat16ToFloat32(ByteBuffer raw) {
        ByteBuffer in = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocateDirect(in.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            // bfloat16 is the top half of a float32.
            out.putInt((in.getShort() & 0xffff) << 16);
        }
        return out.flip();
    }

    static ByteBuffer float64ToFloat32(ByteBuffer raw) {
        ByteBuffer in = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocateDirect(in.remaining() / 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            out.putFloat((float) in.getDouble());
        }
        return out.flip();
    }

    static ByteBuffer int16ToInt32(ByteBuffer raw) {
        ByteBuffer in = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocateDirect(in.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            out.putInt(in.getShort());
        }
        return out.flip();
    }

    /** IEEE 754 binary16 → binary32, exact (every half value is representable as a float). */
    static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {                       // infinity or NaN
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {                          // zero or subnormal: mantissa × 2^-24
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
