package io.milan.trainer.bench;

import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.ViTConfig;

/**
 * Analytic FLOPs of one image through the models, counted from their shapes: 2 × the multiply-accumulates of every
 * matrix product — Linear layers, the patch-embedding convolutions (a matmul over C·p² inputs per patch) and both
 * attention products (q·kᵀ and weights·v). Not counted: LayerNorm, softmax, GELU, residual adds, gathers, the
 * loss and the optimizer (elementwise, a few % of the total for these widths). Backward is counted as 2 × the
 * forward of the trainable parts (the usual 6·N·tokens convention; it includes the input gradient of the first
 * layer, which autograd skips).
 */
public final class FlopCount {

    private FlopCount() {
    }

    /** One pre-norm ViT block (fused qkv, MLP of {@code mlpHidden}) over {@code tokens} tokens of width d. */
    public static double vitBlock(long tokens, long d, long mlpHidden) {
        double qkv = 2.0 * tokens * d * 3 * d;
        double attention = 2 * (2.0 * tokens * tokens * d); // q·kᵀ and weights·v, summed over heads
        double proj = 2.0 * tokens * d * d;
        double mlp = 2 * (2.0 * tokens * d * mlpHidden);
        return qkv + attention + proj + mlp;
    }

    /** Patch embedding: a [D, C·p²] matmul per patch, for {@code patches} patches. */
    public static double patchEmbed(ViTConfig c, long patches) {
        return 2.0 * patches * c.dim() * c.inChannels() * c.patchSize() * c.patchSize();
    }

    /**
     * Encoder forward on cls + {@code visible} patches. MAE embeds ALL L patches before dropping the masked ones,
     * so the patch embedding is counted for L; the blocks for 1 + visible tokens.
     */
    public static double encoderForward(ViTConfig c, int visible) {
        double blocks = c.depth() * vitBlock(1 + visible, c.dim(), c.mlpHidden());
        return patchEmbed(c, c.numPatches()) + blocks;
    }

    /** Encoder forward on every patch (fine-tuning, timm's VisionTransformer, the encoder teacher). */
    public static double encoderForwardAll(ViTConfig c) {
        return encoderForward(c, c.numPatches());
    }

    /**
     * The pretraining decoder for an encoder of width {@code encoderDim}, L patches of which {@code visible} are
     * visible: decoder_embed on 1+K tokens, the blocks, decoder_pred on all 1+L tokens.
     * Prompting decoder blocks: only the M = L−K mask tokens are queries (q, proj, MLP on M tokens), keys/values
     * come from all S = 1+L tokens (kv on S tokens, attention M×S). MAE decoder blocks: full blocks over 1+L.
     */
    public static double decoderForward(DecoderConfig d, int encoderDim, int patches, int visible) {
        long dd = d.dim();
        double embed = 2.0 * (1 + visible) * encoderDim * dd;
        double head = 2.0 * (1 + patches) * dd * d.outDim();
        double block;
        if (d.prompting()) {
            long m = patches - visible;
            long s = 1 + patches;
            double q = 2.0 * m * dd * dd;
            double kv = 2.0 * s * dd * 2 * dd;
            double attention = 2 * (2.0 * m * s * dd);
            double proj = 2.0 * m * dd * dd;
            double mlp = 2 * (2.0 * m * dd * d.mlpHidden());
            block = q + kv + attention + proj + mlp;
        } else {
            block = vitBlock(1 + patches, dd, d.mlpHidden());
        }
        return embed + d.depth() * block + head;
    }

    /**
     * The CLIP image tower (separate q/k/v/out projections, same count as a fused qkv) on cls + L patches, conv
     * without bias, then visual_projection to {@code projectionDim} on every token.
     */
    public static double clipForward(int imageSize, int patchSize, int width, int layers, int mlpHidden,
            int projectionDim) {
        long patches = (long) (imageSize / patchSize) * (imageSize / patchSize);
        long tokens = 1 + patches;
        double conv = 2.0 * patches * width * 3 * patchSize * patchSize;
        double projection = 2.0 * tokens * width * projectionDim;
        return conv + layers * vitBlock(tokens, width, mlpHidden) + projection;
    }

    /** Backward of a part whose forward is {@code forward}: 2× (gradients of inputs and of weights). */
    public static double backward(double forward) {
        return 2 * forward;
    }
}
