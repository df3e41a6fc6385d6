package io.milan.trainer.model;

/**
 * MAE's {@code util/pos_embed.interpolate_pos_embed}: a checkpoint's position table for a g×g patch grid
 * resized to the model's G×G grid with {@code F.interpolate(mode='bicubic', align_corners=False)}; the extra
 * (cls) rows are kept as they are.
 *
 * <p>The resize follows PyTorch's CPU kernel: source coordinate {@code (dst + 0.5)·(in/out) − 0.5} (no clamping
 * for cubic), Keys' cubic with A = −0.75, neighbour indices clamped to the border, each row interpolated along x,
 * then the four rows along y. Weights and sums are computed in double and rounded once to float32, so each value
 * is the exact bicubic value to float precision; torch's float32 kernel is itself up to ~2e-6 away from it.
 */
public final class PosEmbedInterpolation {

    private static final double A = -0.75;

    private PosEmbedInterpolation() {
    }

    /**
     * The resized table.
     *
     * @param table       [extra + from², dim] row-major (the checkpoint's pos_embed without its batch axis)
     * @param extraTokens leading rows copied unchanged (1: the cls row)
     * @return [extra + to², dim] row-major
     */
    public static float[] resize(float[] table, int extraTokens, int dim, int from, int to) {
        if (table.length != (long) (extraTokens + from * from) * dim) {
            throw new IllegalArgumentException("position table has " + table.length + " values, expected ("
                    + extraTokens + " + " + from + "²) × " + dim);
        }
        float[] out = new float[(extraTokens + to * to) * dim];
        System.arraycopy(table, 0, out, 0, extraTokens * dim);
        double scale = (double) from / to;
        int[][] xIndex = new int[to][];
        double[][] xWeight = new double[to][];
        for (int o = 0; o < to; o++) {
            double real = scale * (o + 0.5) - 0.5;
            int base = (int) Math.floor(real);
            xWeight[o] = coefficients(real - base);
            xIndex[o] = new int[4];
            for (int k = 0; k < 4; k++) {
                xIndex[o][k] = Math.max(Math.min(base - 1 + k, from - 1), 0);
            }
        }
        int inBase = extraTokens * dim;
        for (int oy = 0; oy < to; oy++) {
            for (int ox = 0; ox < to; ox++) {
                int target = (extraTokens + oy * to + ox) * dim;
                for (int c = 0; c < dim; c++) {
                    double sum = 0;
                    for (int ky = 0; ky < 4; ky++) {
                        int row = xIndex[oy][ky];
                        double rowValue = 0;
                        for (int kx = 0; kx < 4; kx++) {
                            rowValue += table[inBase + (row * from + xIndex[ox][kx]) * dim + c] * xWeight[ox][kx];
                        }
                        sum += rowValue * xWeight[oy][ky];
                    }
                    out[target + c] = (float) sum;
                }
            }
        }
        return out;
    }

    /** The grid side of {@code patchTokens} patches; fails unless it is a perfect square. */
    public static int gridOf(long patchTokens, String what) {
        int side = (int) Math.round(Math.sqrt(patchTokens));
        if ((long) side * side != patchTokens) {
            throw new IllegalArgumentException(what + ": " + patchTokens
                    + " patch positions do not form a square grid");
        }
        return side;
    }

    /** torch's get_cubic_upsample_coefficients(t) with A = −0.75. */
    private static double[] coefficients(double t) {
        double x2 = 1.0 - t;
        return new double[] {far(t + 1.0), near(t), near(x2), far(x2 + 1.0)};
    }

    /** cubic_convolution1: |x| ≤ 1. */
    private static double near(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    /** cubic_convolution2: 1 < |x| < 2. */
    private static double far(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }
}
