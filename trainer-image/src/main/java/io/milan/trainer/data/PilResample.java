package io.milan.trainer.data;

import java.nio.FloatBuffer;

/**
 * Image resizing that reproduces Pillow's {@code Image.resize} ({@code libImaging/Resample.c}) for 8-bit
 * RGB, which is what torchvision's transforms run on PIL images. Unlike OpenCV's {@code INTER_CUBIC}
 * (a = −0.75, fixed 4×4 support), Pillow's filters are <em>antialiased</em>: when shrinking, the kernel is
 * stretched by the scale factor so every source pixel contributes, and the bicubic kernel uses a = −0.5.
 * On a 500×375 → 224 RandomResizedCrop, OpenCV's bicubic differs from PIL by tens of grey levels on fine
 * texture (aliasing); this class matches PIL exactly (verified against Pillow 9.4 output in the tests).
 *
 * <p>Algorithm (as Pillow): separable two-pass resampling, horizontal first, with normalised float kernel
 * weights converted to 22-bit fixed point; each pass rounds and clamps to 0..255. Only the crop box is
 * resampled, the horizontal pass only over the rows the vertical pass reads, and the training path
 * ({@link #resizeRegionNormalized}) writes the last pass's rows straight into the normalised float planes.
 * That path runs in C ({@link NativeResample}, AVX2) where the trainer's native library loads; the Java code
 * here is its reference (NativeResampleTest: same floats bit for bit) and its fallback.
 */
public final class PilResample {

    /** Pillow's resampling filters that torchvision uses. */
    public enum Filter {
        BILINEAR(1.0), BICUBIC(2.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            double ax = Math.abs(x);
            if (this == BILINEAR) {
                return ax < 1.0 ? 1.0 - ax : 0.0;
            }
            final double a = -0.5;
            if (ax < 1.0) {
                return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1;
            }
            if (ax < 2.0) {
                return (((ax - 5) * ax + 8) * ax - 4) * a;
            }
            return 0.0;
        }
    }

    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Which code {@link #resizeRegionNormalized} runs: the native resampler (AVX2 or plain C), or this class. */
    enum Path {
        NATIVE, NATIVE_PLAIN_C, JAVA
    }

    /** Whether the training path uses {@link NativeResample} (where it loads; -Dmilan.nativeResample=false: not). */
    static final boolean NATIVE = NativeResample.available()
            && !"false".equals(System.getProperty("milan.nativeResample"));

    private PilResample() {
    }

    /** Resizes the whole image to {@code outWidth × outHeight}. */
    public static RgbImage resize(RgbImage in, int outWidth, int outHeight, Filter filter) {
        return resizeRegion(in, 0, 0, in.width(), in.height(), outWidth, outHeight, filter);
    }

    /**
     * Crops the rectangle at (left, top) of size width × height, then resizes it: torchvision's
     * {@code resized_crop} on a PIL image ({@code img.crop(...).resize(...)}). The crop's border is the
     * edge for the filter, exactly as when the cropped image is resized on its own.
     */
    public static RgbImage resizeRegion(RgbImage in, int left, int top, int width, int height, int outWidth,
            int outHeight, Filter filter) {
        byte[] out = new byte[outWidth * outHeight * 3];
        int rowLength = outWidth * 3;
        resample(in, left, top, width, height, outWidth, outHeight, filter, (y, row, offset) -> {
            for (int i = 0; i < rowLength; i++) {
                out[y * rowLength + i] = (byte) row[offset + i];
            }
        });
        return new RgbImage(outWidth, outHeight, out);
    }

    /**
     * {@link #resizeRegion} followed by {@link Normalization#write} (optionally mirrored), without the
     * intermediate image: each output row goes straight from the last resampling pass into the float planes
     * at {@code out}'s position. The values are the same as the two steps' bit for bit.
     */
    public static void resizeRegionNormalized(RgbImage in, int left, int top, int width, int height, int outWidth,
            int outHeight, Filter filter, Normalization normalization, boolean flipHorizontally, FloatBuffer out) {
        resizeRegionNormalized(in, left, top, width, height, outWidth, outHeight, filter, normalization,
                flipHorizontally, out, NATIVE ? Path.NATIVE : Path.JAVA);
    }

    /** {@link #resizeRegionNormalized} by the given code; returns the code that ran (native can decline). */
    static Path resizeRegionNormalized(RgbImage in, int left, int top, int width, int height, int outWidth,
            int outHeight, Filter filter, Normalization normalization, boolean flipHorizontally, FloatBuffer out,
            Path path) {
        checkSizes(in, left, top, width, height, outWidth, outHeight);
        Normalization.requireRoom(out, outWidth, outHeight);
        if (path != Path.JAVA) {
            // About 4.5x less CPU in C with AVX2 (C2 does not vectorise the horizontal taps over interleaved RGB);
            // same coefficients, same integer arithmetic, same floats.
            int ran = NativeResample.resize(in, left, top, width, height, outWidth, outHeight,
                    width != outWidth ? Coefficients.of(width, outWidth, filter) : null,
                    height != outHeight ? Coefficients.of(height, outHeight, filter) : null,
                    normalization.table(), flipHorizontally, out, path == Path.NATIVE_PLAIN_C);
            if (ran != NativeResample.DECLINED) {
                out.position(out.position() + 3 * outWidth * outHeight);
                return ran == NativeResample.AVX2 ? Path.NATIVE : Path.NATIVE_PLAIN_C;
            }
        }
        Normalization.PlaneWriter writer = normalization.planeWriter(outWidth, outHeight, flipHorizontally, out);
        resample(in, left, top, width, height, outWidth, outHeight, filter, writer);
        writer.finish();
        return Path.JAVA;
    }

    /** A plain copy of a rectangle. */
    public static RgbImage crop(RgbImage in, int left, int top, int width, int height) {
        byte[] out = new byte[width * height * 3];
        for (int y = 0; y < height; y++) {
            System.arraycopy(in.pixels(), ((top + y) * in.width() + left) * 3, out, y * width * 3, width * 3);
        }
        return new RgbImage(width, height, out);
    }

    /** Receives the resized image row by row: {@code outWidth × 3} values 0..255 from {@code row[offset]}. */
    @FunctionalInterface
    interface RowSink {
        void row(int y, int[] row, int offset);
    }

    /** Pillow's {@code ImagingResampleInner}: horizontal pass (only where needed), then vertical pass. */
    private static void resample(RgbImage in, int left, int top, int width, int height, int outWidth, int outHeight,
            Filter filter, RowSink sink) {
        checkSizes(in, left, top, width, height, outWidth, outHeight);
        Coefficients vertical = height != outHeight ? Coefficients.of(height, outHeight, filter) : null;
        // The crop rows the vertical pass reads (all of them without one), as ints: the horizontal pass's
        // output, or the crop itself widened when there is no horizontal pass (a plain copy when the size
        // does not change, as Pillow returns).
        int firstRow = vertical == null ? 0 : vertical.bounds[0];
        int lastRow = vertical == null ? height
                : vertical.bounds[(outHeight - 1) * 2] + vertical.bounds[(outHeight - 1) * 2 + 1];
        int rows = lastRow - firstRow;
        int rowLength = outWidth * 3;
        int[] temp = scratch(rows * rowLength);
        byte[] src = in.pixels();
        int srcStride = in.width() * 3;
        int srcOffset = (top + firstRow) * srcStride + left * 3;
        if (width != outWidth) {
            horizontalPass(src, srcOffset, srcStride, rows, temp, outWidth, Coefficients.of(width, outWidth, filter));
        } else {
            for (int y = 0; y < rows; y++) {
                int from = srcOffset + y * srcStride;
                int to = y * rowLength;
                for (int i = 0; i < rowLength; i++) {
                    temp[to + i] = src[from + i] & 0xff;
                }
            }
        }
        if (vertical == null) {
            for (int y = 0; y < outHeight; y++) {
                sink.row(y, temp, y * rowLength);
            }
            return;
        }
        verticalPass(temp, firstRow, rowLength, outHeight, vertical, sink);
    }

    private static void checkSizes(RgbImage in, int left, int top, int width, int height, int outWidth,
            int outHeight) {
        if (left < 0 || top < 0 || width < 1 || height < 1 || left + width > in.width()
                || top + height > in.height()) {
            throw new IllegalArgumentException("crop " + width + "x" + height + " at (" + left + ", " + top
                    + ") does not fit in a " + in.width() + "x" + in.height() + " image");
        }
        if (outWidth < 1 || outHeight < 1) {
            throw new IllegalArgumentException("output size must be at least 1x1, got " + outWidth + "x" + outHeight);
        }
    }

    /** Per-thread buffer for the intermediate image (int, so the vertical pass vectorises). */
    private static final ThreadLocal<int[]> SCRATCH = ThreadLocal.withInitial(() -> new int[0]);

    private static int[] scratch(int size) {
        int[] buffer = SCRATCH.get();
        if (buffer.length < size) {
            buffer = new int[size];
            SCRATCH.set(buffer);
        }
        return buffer;
    }

    /** Pillow's {@code ImagingResampleHorizontal_8bpc}, two rows at a time so they share each weight load. */
    private static void horizontalPass(byte[] src, int srcOffset, int srcStride, int rows, int[] out, int outWidth,
            Coefficients k) {
        int half = 1 << (PRECISION_BITS - 1);
        int[] bounds = k.bounds;
        int[] fixed = k.fixed;
        int ksize = k.size;
        int rowLength = outWidth * 3;
        int y = 0;
        for (; y + 1 < rows; y += 2) {
            int rowStart = srcOffset + y * srcStride;
            int outRow = y * rowLength;
            for (int xx = 0; xx < outWidth; xx++) {
                int count = bounds[xx * 2 + 1];
                int kOffset = xx * ksize;
                int a0 = half;
                int a1 = half;
                int a2 = half;
                int b0 = half;
                int b1 = half;
                int b2 = half;
                int p = rowStart + bounds[xx * 2] * 3;
                for (int x = 0; x < count; x++, p += 3) {
                    int w = fixed[kOffset + x];
                    int q = p + srcStride;
                    a0 += (src[p] & 0xff) * w;
                    a1 += (src[p + 1] & 0xff) * w;
                    a2 += (src[p + 2] & 0xff) * w;
                    b0 += (src[q] & 0xff) * w;
                    b1 += (src[q + 1] & 0xff) * w;
                    b2 += (src[q + 2] & 0xff) * w;
                }
                int o = outRow + xx * 3;
                out[o] = clip8(a0);
                out[o + 1] = clip8(a1);
                out[o + 2] = clip8(a2);
                out[o + rowLength] = clip8(b0);
                out[o + rowLength + 1] = clip8(b1);
                out[o + rowLength + 2] = clip8(b2);
            }
        }
        for (; y < rows; y++) {
            int rowStart = srcOffset + y * srcStride;
            int outRow = y * rowLength;
            for (int xx = 0; xx < outWidth; xx++) {
                int count = bounds[xx * 2 + 1];
                int kOffset = xx * ksize;
                int s0 = half;
                int s1 = half;
                int s2 = half;
                int p = rowStart + bounds[xx * 2] * 3;
                for (int x = 0; x < count; x++, p += 3) {
                    int w = fixed[kOffset + x];
                    s0 += (src[p] & 0xff) * w;
                    s1 += (src[p + 1] & 0xff) * w;
                    s2 += (src[p + 2] & 0xff) * w;
                }
                int o = outRow + xx * 3;
                out[o] = clip8(s0);
                out[o + 1] = clip8(s1);
                out[o + 2] = clip8(s2);
            }
        }
    }

    /**
     * Pillow's {@code ImagingResampleVertical_8bpc} over {@code src}, whose row 0 is crop row
     * {@code firstRow}; accumulates a whole output row at a time (the same sums) so the JIT vectorises it.
     */
    private static void verticalPass(int[] src, int firstRow, int rowLength, int outHeight, Coefficients k,
            RowSink sink) {
        int half = 1 << (PRECISION_BITS - 1);
        int[] acc = new int[rowLength];
        for (int yy = 0; yy < outHeight; yy++) {
            int ymin = k.bounds[yy * 2] - firstRow;
            int count = k.bounds[yy * 2 + 1];
            int kOffset = yy * k.size;
            java.util.Arrays.fill(acc, half);
            for (int y = 0; y < count; y++) {
                int w = k.fixed[kOffset + y];
                int start = (ymin + y) * rowLength;
                for (int i = 0; i < rowLength; i++) {
                    acc[i] += src[start + i] * w;
                }
            }
            for (int i = 0; i < rowLength; i++) {
                acc[i] = clip8(acc[i]);
            }
            sink.row(yy, acc, 0);
        }
    }

    /** Pillow's clip8: the arithmetic shift of a negative sum is <= 0, of one >= 256 << 22 is >= 256. */
    private static int clip8(int value) {
        return Math.max(0, Math.min(255, value >> PRECISION_BITS));
    }

    /** Pillow's {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for one axis (Java and native paths). */
    static final class Coefficients {
        final int size;        // coefficients per output pixel (ksize)
        final int[] bounds;    // per output pixel: first source index, number of source pixels
        final int[] fixed;     // weights in 22-bit fixed point

        private Coefficients(int size, int[] bounds, int[] fixed) {
            this.size = size;
            this.bounds = bounds;
            this.fixed = fixed;
        }

        static Coefficients of(int inSize, int outSize, Filter filter) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[outSize * 2];
            int[] fixed = new int[outSize * ksize];
            double[] k = new double[ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                double ss = 1.0 / filterScale;
                int xmin = (int) (center - support + 0.5); // C truncation, as Pillow
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                double total = 0.0;
                for (int x = 0; x < xmax; x++) {
                    double w = filter.weight((x + xmin - center + 0.5) * ss);
                    k[x] = w;
                    total += w;
                }
                for (int x = 0; x < xmax; x++) {
                    double w = total != 0.0 ? k[x] / total : k[x];
                    fixed[xx * ksize + x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS)
                            : 0.5 + w * (1 << PRECISION_BITS));
                }
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            return new Coefficients(ksize, bounds, fixed);
        }
    }
}
