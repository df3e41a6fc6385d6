package io.milan.trainer.data;

/**
 * The Pillow 9 point, histogram and enhancement operations RandAugment uses, on 8-bit RGB images, with
 * Pillow's integer and float arithmetic (so results equal Pillow's byte for byte):
 * {@code ImageOps.autocontrast/equalize/invert/posterize/solarize}, timm's {@code solarize_add}, and
 * {@code ImageEnhance.Color/Contrast/Brightness/Sharpness} (a blend with a degenerate image).
 */
final class PilImageOps {

    private PilImageOps() {
    }

    /** {@code ImageOps.autocontrast(img)} (cutoff 0): each channel's [lo, hi] stretched to [0, 255]. */
    static RgbImage autoContrast(RgbImage image) {
        int[][] histograms = histograms(image);
        int[][] luts = new int[3][];
        for (int c = 0; c < 3; c++) {
            int[] h = histograms[c];
            int lo = 0;
            while (lo < 255 && h[lo] == 0) {
                lo++;
            }
            int hi = 255;
            while (hi > 0 && h[hi] == 0) {
                hi--;
            }
            int[] lut = identity();
            if (hi > lo) {
                double scale = 255.0 / (hi - lo);
                double offset = -lo * scale;
                for (int i = 0; i < 256; i++) {
                    lut[i] = clamp((int) (i * scale + offset));
                }
            }
            luts[c] = lut;
        }
        return applyLuts(image, luts);
    }

    /** {@code ImageOps.equalize(img)}: per-channel histogram equalisation with Pillow's integer steps. */
    static RgbImage equalize(RgbImage image) {
        int[][] histograms = histograms(image);
        int[][] luts = new int[3][];
        for (int c = 0; c < 3; c++) {
            int[] h = histograms[c];
            long total = 0;
            int nonZero = 0;
            int lastNonZero = 0;
            for (int count : h) {
                if (count != 0) {
                    total += count;
                    nonZero++;
                    lastNonZero = count;
                }
            }
            int[] lut = identity();
            long step = nonZero <= 1 ? 0 : (total - lastNonZero) / 255;
            if (step != 0) {
                long n = step / 2;
                for (int i = 0; i < 256; i++) {
                    lut[i] = (int) (n / step);
                    n += h[i];
                }
            }
            luts[c] = lut;
        }
        return applyLuts(image, luts);
    }

    /** {@code ImageOps.invert}: 255 − v. */
    static RgbImage invert(RgbImage image) {
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) {
            lut[i] = 255 - i;
        }
        return applyLut(image, lut);
    }

    /** timm's posterize: unchanged for 8+ bits, else {@code ImageOps.posterize} (keep the top {@code bits} bits). */
    static RgbImage posterize(RgbImage image, int bits) {
        if (bits >= 8) {
            return image;
        }
        if (bits < 0) {
            throw new IllegalArgumentException("posterize needs 0..8 bits, got " + bits);
        }
        int mask = ~((1 << (8 - bits)) - 1);
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) {
            lut[i] = i & mask;
        }
        return applyLut(image, lut);
    }

    /** {@code ImageOps.solarize(img, threshold)}: values at or above the threshold are inverted. */
    static RgbImage solarize(RgbImage image, int threshold) {
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) {
            lut[i] = i < threshold ? i : 255 - i;
        }
        return applyLut(image, lut);
    }

    /** timm's solarize_add: values below {@code threshold} get {@code add} (capped at 255). */
    static RgbImage solarizeAdd(RgbImage image, int add, int threshold) {
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) {
            lut[i] = i < threshold ? Math.min(255, i + add) : i;
        }
        return applyLut(image, lut);
    }

    /** {@code ImageEnhance.Color}: blend with the image's greyscale ("L" converted back to RGB). */
    static RgbImage color(RgbImage image, double factor) {
        byte[] px = image.pixels();
        byte[] grey = new byte[px.length];
        for (int i = 0; i < px.length; i += 3) {
            byte l = (byte) luma(px[i] & 0xff, px[i + 1] & 0xff, px[i + 2] & 0xff);
            grey[i] = l;
            grey[i + 1] = l;
            grey[i + 2] = l;
        }
        return blend(new RgbImage(image.width(), image.height(), grey), image, factor);
    }

    /** {@code ImageEnhance.Contrast}: blend with a flat image of the rounded mean luma. */
    static RgbImage contrast(RgbImage image, double factor) {
        byte[] px = image.pixels();
        long[] histogram = new long[256];
        for (int i = 0; i < px.length; i += 3) {
            histogram[luma(px[i] & 0xff, px[i + 1] & 0xff, px[i + 2] & 0xff)]++;
        }
        // ImageStat: sum of i·h[i] in float64, divided by the count
        double sum = 0;
        for (int i = 0; i < 256; i++) {
            sum += (double) i * histogram[i];
        }
        int mean = (int) (sum / (px.length / 3) + 0.5);
        return blend(flat(image, mean), image, factor);
    }

    /** {@code ImageEnhance.Brightness}: blend with black. */
    static RgbImage brightness(RgbImage image, double factor) {
        return blend(flat(image, 0), image, factor);
    }

    /** {@code ImageEnhance.Sharpness}: blend with {@code ImageFilter.SMOOTH} of the image. */
    static RgbImage sharpness(RgbImage image, double factor) {
        return blend(smooth(image), image, factor);
    }

    /**
     * {@code Image.blend(degenerate, image, factor)}: {@code d + α·(v − d)} with α a C float; truncated inside
     * [0, 1], clipped to [0, 255] and truncated outside it.
     */
    static RgbImage blend(RgbImage degenerate, RgbImage image, double factor) {
        float alpha = (float) factor;
        byte[] a = degenerate.pixels();
        byte[] b = image.pixels();
        byte[] out = new byte[b.length];
        boolean interpolate = alpha >= 0 && alpha <= 1.0;
        for (int i = 0; i < out.length; i++) {
            int in1 = a[i] & 0xff;
            int in2 = b[i] & 0xff;
            float v = in1 + alpha * (in2 - in1);
            int result;
            if (interpolate) {
                result = (int) v;
            } else if (v <= 0.0f) {
                result = 0;
            } else if (v >= 255.0f) {
                result = 255;
            } else {
                result = (int) v;
            }
            out[i] = (byte) result;
        }
        return new RgbImage(image.width(), image.height(), out);
    }

    /** Pillow's RGB → "L": ITU-R 601-2 luma in 16-bit fixed point with rounding. */
    static int luma(int r, int g, int b) {
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }

    /**
     * {@code ImageFilter.SMOOTH}: the 3×3 kernel (1 1 1 / 1 5 1 / 1 1 1) / 13 in float32 plus 0.5 for rounding,
     * clipped and truncated; the border rows and columns are copied unchanged.
     */
    static RgbImage smooth(RgbImage image) {
        int w = image.width();
        int h = image.height();
        byte[] in = image.pixels();
        byte[] out = in.clone();
        if (w < 3 || h < 3) {
            return new RgbImage(w, h, out);
        }
        float edge = 1f / 13f;
        float centre = 5f / 13f;
        // Pillow's kernel rows, bottom (y+1) first: the kernel is flipped, which a symmetric kernel ignores.
        float[][] rows = {{edge, edge, edge}, {edge, centre, edge}, {edge, edge, edge}};
        for (int y = 1; y < h - 1; y++) {
            for (int x = 1; x < w - 1; x++) {
                for (int c = 0; c < 3; c++) {
                    float ss = 0.5f;
                    for (int k = 0; k < 3; k++) {
                        int row = y + 1 - k;
                        float[] kr = rows[k];
                        float left = in[(row * w + x - 1) * 3 + c] & 0xff;
                        float mid = in[(row * w + x) * 3 + c] & 0xff;
                        float right = in[(row * w + x + 1) * 3 + c] & 0xff;
                        ss += left * kr[0] + mid * kr[1] + right * kr[2];
                    }
                    out[(y * w + x) * 3 + c] = (byte) clip8(ss);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static int clip8(float v) {
        if (v <= 0.0f) {
            return 0;
        }
        if (v >= 255.0f) {
            return 255;
        }
        return (int) v;
    }

    private static RgbImage flat(RgbImage like, int value) {
        byte[] px = new byte[like.pixels().length];
        java.util.Arrays.fill(px, (byte) value);
        return new RgbImage(like.width(), like.height(), px);
    }

    private static int[][] histograms(RgbImage image) {
        int[][] h = new int[3][256];
        byte[] px = image.pixels();
        for (int i = 0; i < px.length; i += 3) {
            h[0][px[i] & 0xff]++;
            h[1][px[i + 1] & 0xff]++;
            h[2][px[i + 2] & 0xff]++;
        }
        return h;
    }

    private static int[] identity() {
        int[] lut = new int[256];
        for (int i = 0; i < 256; i++) {
            lut[i] = i;
        }
        return lut;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    private static RgbImage applyLut(RgbImage image, int[] lut) {
        return applyLuts(image, new int[][] {lut, lut, lut});
    }

    private static RgbImage applyLuts(RgbImage image, int[][] luts) {
        byte[] px = image.pixels();
        byte[] out = new byte[px.length];
        for (int i = 0; i < px.length; i += 3) {
            out[i] = (byte) luts[0][px[i] & 0xff];
            out[i + 1] = (byte) luts[1][px[i + 1] & 0xff];
            out[i + 2] = (byte) luts[2][px[i + 2] & 0xff];
        }
        return new RgbImage(image.width(), image.height(), out);
    }
}
