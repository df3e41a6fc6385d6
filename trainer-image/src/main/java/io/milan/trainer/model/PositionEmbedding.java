package io.milan.trainer.model;

/**
 * MAE's fixed 2-D sin-cos position table (util/pos_embed.get_2d_sincos_pos_embed), computed in float64.
 *
 * <p>With ω_i = 1 / 10000^(i / (D/4)), i = 0..D/4-1, the patch at (row r, column c) gets
 * {@code [sin(c·ω), cos(c·ω), sin(r·ω), cos(r·ω)]}: the first half encodes the COLUMN, as in the reference
 * (it passes the meshgrid's w-grid as "emb_h"). Patches are numbered row-major (r · grid + c), as the
 * conv patch embedding flattens them; the optional cls row is all zeros.
 */
public final class PositionEmbedding {

    private PositionEmbedding() {
    }

    /** The table as [(cls ? 1 : 0) + grid², dim] row-major floats. */
    public static float[] sinCos2d(int dim, int grid, boolean clsRow) {
        if (dim <= 0 || dim % 4 != 0) {
            throw new IllegalArgumentException("2-D sin-cos embedding needs dim divisible by 4, got " + dim);
        }
        int quarter = dim / 4;
        int offset = clsRow ? 1 : 0;
        float[] table = new float[(offset + grid * grid) * dim];
        for (int r = 0; r < grid; r++) {
            for (int c = 0; c < grid; c++) {
                int base = (offset + r * grid + c) * dim;
                for (int i = 0; i < quarter; i++) {
                    double omega = 1.0 / Math.pow(10000.0, (double) i / quarter);
                    table[base + i] = (float) Math.sin(c * omega);
                    table[base + quarter + i] = (float) Math.cos(c * omega);
                    table[base + 2 * quarter + i] = (float) Math.sin(r * omega);
                    table[base + 3 * quarter + i] = (float) Math.cos(r * omega);
                }
            }
        }
        return table;
    }
}
