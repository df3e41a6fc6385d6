package io.milan.trainer.data;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Pillow 9's geometric transforms with bicubic resampling and a fill colour, as RandAugment calls them:
 * {@code Image.transform(size, AFFINE, (a, b, c, d, e, f), BICUBIC, fillcolor=fill)} and
 * {@code Image.rotate(angle, BICUBIC, fillcolor=fill)}.
 *
 * <p>Output pixel (x, y) samples the input at {@code (a·(x+½) + b·(y+½) + c, d·(x+½) + e·(y+½) + f)}. Points
 * outside the input keep the fill colour; inside, Pillow's bicubic filter (cubic with a = −1 over a 4×4
 * neighbourhood, edges clamped, computed in double, clipped and truncated to 8 bits) gives the value.
 */
final class PilAffine {

    private PilAffine() {
    }

    /** {@code Image.transform(image.size, AFFINE, matrix, BICUBIC, fillcolor=fill)}. */
    static RgbImage affine(RgbImage image, double[] matrix, int[] fill) {
        if (matrix.length != 6) {
            throw new IllegalArgumentException("an affine transform needs 6 coefficients, got " + matrix.length);
        }
        int w = image.width();
        int h = image.height();
        byte[] out = new byte[w * h * 3];
        int[] v = new int[3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double xin = x + 0.5;
                double yin = y + 0.5;
                double sx = matrix[0] * xin + matrix[1] * yin + matrix[2];
                double sy = matrix[3] * xin + matrix[4] * yin + matrix[5];
                int o = (y * w + x) * 3;
                if (bicubic(image, sx, sy, v)) {
                    out[o] = (byte) v[0];
                    out[o + 1] = (byte) v[1];
                    out[o + 2] = (byte) v[2];
                } else {
                    out[o] = (byte) fill[0];
                    out[o + 1] = (byte) fill[1];
                    out[o + 2] = (byte) fill[2];
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /**
     * {@code Image.rotate(degrees, BICUBIC, fillcolor=fill)} about the centre, same size: Pillow builds the
     * inverse matrix from {@code -radians(degrees mod 360)} with cos/sin rounded to 15 decimals.
     */
    static RgbImage rotate(RgbImage image, double degrees, int[] fill) {
        double angle = pythonMod360(degrees);
        if (angle == 0) {
            return image; // Pillow returns a copy; RgbImage is never mutated
        }
        if (angle == 180) {
            return rotate180(image);
        }
        // The 90/270 fast paths (square images) cannot occur for |degrees| <= 30; they are exact anyway.
        double cx = image.width() / 2.0;
        double cy = image.height() / 2.0;
        double rad = -Math.toRadians(angle);
        double a = round15(Math.cos(rad));
        double b = round15(Math.sin(rad));
        double d = round15(-Math.sin(rad));
        double e = round15(Math.cos(rad));
        double c = a * -cx + b * -cy + 0.0;
        double f = d * -cx + e * -cy + 0.0;
        return affine(image, new double[] {a, b, c + cx, d, e, f + cy}, fill);
    }

    /** Pillow's bicubic_filter32RGB; false when (x, y) lies outside the image (the pixel keeps the fill). */
    private static boolean bicubic(RgbImage image, double x, double y, int[] out) {
        int w = image.width();
        int h = image.height();
        if (x < 0.0 || x >= w || y < 0.0 || y >= h) {
            return false;
        }
        x -= 0.5;
        y -= 0.5;
        int x0 = (int) Math.floor(x);
        int y0 = (int) Math.floor(y);
        double dx = x - x0;
        double dy = y - y0;
        x0--;
        y0--;
        byte[] px = image.pixels();
        int[] cols = {clip(x0, w), clip(x0 + 1, w), clip(x0 + 2, w), clip(x0 + 3, w)};
        for (int c = 0; c < 3; c++) {
            // Rows outside the image repeat the nearest row inside, as Pillow's y-1..y+2 checks amount to.
            double v1 = row(px, w, clip(y0, h), cols, c, dx);
            double v2 = row(px, w, clip(y0 + 1, h), cols, c, dx);
            double v3 = row(px, w, clip(y0 + 2, h), cols, c, dx);
            double v4 = row(px, w, clip(y0 + 3, h), cols, c, dx);
            double v = cubic(v1, v2, v3, v4, dy);
            out[c] = v <= 0.0 ? 0 : v >= 255.0 ? 255 : (int) v;
        }
        return true;
    }

    private static double row(byte[] px, int w, int y, int[] cols, int c, double dx) {
        int base = y * w;
        return cubic(px[(base + cols[0]) * 3 + c] & 0xff, px[(base + cols[1]) * 3 + c] & 0xff,
                px[(base + cols[2]) * 3 + c] & 0xff, px[(base + cols[3]) * 3 + c] & 0xff, dx);
    }

    /** Pillow's BICUBIC macro: the cubic through v1..v4 at v2 + d (a = −1). */
    private static double cubic(double v1, double v2, double v3, double v4, double d) {
        double p1 = v2;
        double p2 = -v1 + v3;
        double p3 = 2 * (v1 - v2) + v3 - v4;
        double p4 = -v1 + v2 - v3 + v4;
        return p1 + d * (p2 + d * (p3 + d * p4));
    }

    private static int clip(int i, int size) {
        return i < 0 ? 0 : i < size ? i : size - 1;
    }

    /** Python's {@code angle % 360.0}: the result takes the divisor's sign (and −0.0 becomes 0.0). */
    static double pythonMod360(double angle) {
        double m = angle % 360.0;
        if (m != 0 && m < 0) {
            m += 360.0;
        }
        return m == 0 ? 0.0 : m;
    }

    /** Python's {@code round(x, 15)}: correctly rounded to 15 decimals, ties to even on the exact binary value. */
    static double round15(double x) {
        return new BigDecimal(x).setScale(15, RoundingMode.HALF_EVEN).doubleValue();
    }

    private static RgbImage rotate180(RgbImage image) {
        byte[] px = image.pixels();
        byte[] out = new byte[px.length];
        int n = px.length / 3;
        for (int i = 0; i < n; i++) {
            System.arraycopy(px, i * 3, out, (n - 1 - i) * 3, 3);
        }
        return new RgbImage(image.width(), image.height(), out);
    }
}
