package io.milan.trainer.data;

import java.nio.FloatBuffer;

/**
 * torchvision's {@code ToTensor()} followed by {@code Normalize(mean, std)}: HWC uint8 → CHW float32
 * {@code (v / 255 − mean[c]) / std[c]}, in float32 arithmetic like PyTorch's CPU kernels, optionally
 * mirrored left-right ({@code RandomHorizontalFlip} applied to the image before).
 */
public record Normalization(float[] mean, float[] std) {

    /** ImageNet statistics, as in the reference (timm's IMAGENET_DEFAULT_MEAN/STD). */
    public static final Normalization IMAGENET = new Normalization(new float[] {0.485f, 0.456f, 0.406f},
            new float[] {0.229f, 0.224f, 0.225f});

    public Normalization {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values (R, G, B)");
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** Writes {@code 3 × height × width} floats, channel-major, at the buffer's position. */
    public void write(RgbImage image, boolean flipHorizontally, FloatBuffer out) {
        int w = image.width();
        PlaneWriter writer = planeWriter(w, image.height(), flipHorizontally, out);
        byte[] px = image.pixels();
        int[] row = new int[w * 3];
        for (int y = 0; y < image.height(); y++) {
            for (int i = 0; i < row.length; i++) {
                row[i] = px[y * w * 3 + i] & 0xff;
            }
            writer.row(y, row, 0);
        }
        writer.finish();
    }

    /** Writes an image that arrives row by row (e.g. from {@link PilResample}) into the float planes. */
    PlaneWriter planeWriter(int width, int height, boolean flipHorizontally, FloatBuffer out) {
        return new PlaneWriter(this, width, height, flipHorizontally, out);
    }

    /**
     * {@code (v / 255 − mean[c]) / std[c]} for each channel c and value v at {@code c * 256 + v}: only 256
     * inputs per channel, so each is computed once, with the same float operations.
     */
    float[] table() {
        float[] table = new float[3 * 256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                table[c * 256 + v] = (v / 255f - mean[c]) / std[c];
            }
        }
        return table;
    }

    /** Fails unless {@code out} has room for a {@code width × height} image's three planes. */
    static void requireRoom(FloatBuffer out, int width, int height) {
        if (out.remaining() < 3 * width * height) {
            throw new IllegalArgumentException("output buffer has room for " + out.remaining() + " floats, a "
                    + width + "x" + height + " image needs " + 3 * width * height);
        }
    }

    /** Row-wise {@code write}: each HWC row (values 0..255) becomes one row of each of the three CHW float planes. */
    static final class PlaneWriter implements PilResample.RowSink {
        private final float[] table;
        private final float[] planeRow;
        private final int width;
        private final int planeSize;
        private final boolean flip;
        private final FloatBuffer out;
        private final int start;

        private PlaneWriter(Normalization n, int width, int height, boolean flip, FloatBuffer out) {
            requireRoom(out, width, height);
            this.table = n.table();
            this.width = width;
            this.planeSize = width * height;
            this.flip = flip;
            this.out = out;
            this.start = out.position();
            this.planeRow = new float[3 * width];
        }

        @Override
        public void row(int y, int[] px, int offset) {
            int w = width;
            float[] t = table;
            float[] r = planeRow;
            for (int x = 0; x < w; x++) {
                int p = offset + (flip ? w - 1 - x : x) * 3;
                r[x] = t[px[p]];
                r[w + x] = t[256 + px[p + 1]];
                r[2 * w + x] = t[512 + px[p + 2]];
            }
            int base = start + y * w;
            for (int c = 0; c < 3; c++) {
                out.put(base + c * planeSize, r, c * w, w);
            }
        }

        /** Moves the buffer's position past the three planes, as a relative bulk put would. */
        void finish() {
            out.position(start + 3 * planeSize);
        }
    }
}
