package io.milan.trainer.data;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PilResample#resizeRegionNormalized}'s resample + flip + normalise in C ({@code src/main/c/milan_resample.c},
 * in the same library as {@link JpegRegionDecoder}): the horizontal pass (taps over interleaved RGB), which C2
 * does not vectorise, runs two rows at a time in AVX2 int32 lanes, on CPUs without AVX2 in plain C. Same
 * arithmetic as the Java code, so the same floats bit for bit ({@code NativeResampleTest}); the coefficients
 * come from {@link PilResample.Coefficients}, so the double math stays in Java.
 */
final class NativeResample {

    private static final Logger LOG = LoggerFactory.getLogger(NativeResample.class);

    /** Why the native resampler is not in use, or null when it is. */
    static final String UNAVAILABLE = load();

    /** Results of {@link #resize}: which code ran. */
    static final int DECLINED = -1;
    static final int PLAIN_C = 0;
    static final int AVX2 = 1;

    private static final int FLAG_FLIP = 1;
    private static final int FLAG_SCALAR = 2;

    /**
     * Per-thread native copies of the source rows and (for heap buffers) of the output: JNA would copy a byte[]
     * argument in and back out through a fresh allocation on every call; one reused buffer and one copy is less.
     */
    private static final ThreadLocal<Memory[]> BUFFERS = ThreadLocal.withInitial(() -> new Memory[2]);

    private NativeResample() {
    }

    private static String load() {
        try {
            Native.register(NativeResample.class, NativeLibrary.getInstance("milanjpeg"));
            LOG.info("Resampler: native (libmilanjpeg), {}", milan_resample_uses_avx2() != 0 ? "AVX2"
                    : "plain C: this CPU has no AVX2 (about 3.5x slower)");
            return null;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse(""); // JNA appends its search path
            String message = "the native resampler in libmilanjpeg is not loadable (" + why
                    + "); it is built by the trainer's Maven build and needs libjpeg62-turbo";
            LOG.warn("Resampler: Java (about 4.5x the CPU of the native one): {}", message);
            return message;
        }
    }

    static boolean available() {
        return UNAVAILABLE == null;
    }

    /**
     * Resamples the crop (already checked to fit) with the given coefficients (null for an axis whose size does
     * not change) into the planes at {@code out}'s position, which has room (checked); the position is left
     * unchanged. {@code plainC} forces the non-AVX2 path (tests). Returns {@link #AVX2} or {@link #PLAIN_C}, or
     * {@link #DECLINED} without touching {@code out} (then the caller runs the Java code).
     */
    static int resize(RgbImage in, int left, int top, int width, int height, int outWidth, int outHeight,
            PilResample.Coefficients horizontal, PilResample.Coefficients vertical, float[] table, boolean flip,
            FloatBuffer out, boolean plainC) {
        if (!available()) {
            return DECLINED;
        }
        // Only the crop: one copy when it spans whole rows (the region decoder's output is the crop itself).
        int imageStride = in.width() * 3;
        int stride = width * 3;
        long srcLength = (long) height * stride;
        Memory[] buffers = BUFFERS.get();
        Memory src = buffers[0] = atLeast(buffers[0], srcLength);
        if (stride == imageStride) {
            src.write(0, in.pixels(), top * imageStride, (int) srcLength);
        } else {
            for (int y = 0; y < height; y++) {
                src.write((long) y * stride, in.pixels(), (top + y) * imageStride + left * 3, stride);
            }
        }
        long floats = 3L * outWidth * outHeight;
        Pointer target;
        if (out.isDirect()) {
            target = Native.getDirectBufferPointer(out).share((long) out.position() * Float.BYTES);
        } else {
            target = buffers[1] = atLeast(buffers[1], floats * Float.BYTES);
        }
        int flags = (flip ? FLAG_FLIP : 0) | (plainC ? FLAG_SCALAR : 0);
        int result = milan_resample_normalized(src, srcLength, stride, 0, 0, width, height, outWidth, outHeight,
                horizontal == null ? 0 : horizontal.size, horizontal == null ? null : horizontal.bounds,
                horizontal == null ? null : horizontal.fixed, vertical == null ? 0 : vertical.size,
                vertical == null ? null : vertical.bounds, vertical == null ? null : vertical.fixed, table, flags,
                target);
        if (result < 0) {
            return DECLINED;
        }
        if (!out.isDirect()) {
            out.duplicate().put(target.getByteBuffer(0, floats * Float.BYTES).order(ByteOrder.nativeOrder())
                    .asFloatBuffer());
        }
        return result;
    }

    private static Memory atLeast(Memory buffer, long size) {
        return buffer != null && buffer.size() >= size ? buffer : new Memory(Math.max(size, 1));
    }

    private static native int milan_resample_uses_avx2();

    private static native int milan_resample_normalized(Pointer src, long srcLength, int stride, int left, int top,
            int width, int height, int outWidth, int outHeight, int hSize, int[] hBounds, int[] hFixed, int vSize,
            int[] vBounds, int[] vFixed, float[] table, int flags, Pointer out);
}
