package io.milan.trainer.model;

import static io.milan.trainer.model.Layers.attention;
import static io.milan.trainer.model.Layers.attentionWeights;
import static io.milan.trainer.model.Layers.dropPath;
import static io.milan.trainer.model.Layers.layerNorm;
import static io.milan.trainer.model.Layers.linear;
import static io.milan.trainer.model.Layers.mergeHeads;
import static io.milan.trainer.model.Layers.mlp;
import static io.milan.trainer.model.Layers.splitHeads;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * timm 0.3.2's ViT Block, as used by the encoder and by MAE's decoder: pre-norm (LayerNorm eps 1e-6),
 * fused qkv with bias, scale hd^-0.5, exact GELU MLP, optional drop path. Attention is libtorch's fused
 * scaled_dot_product_attention ({@link Layers#attention}), except in {@link #forwardWithClsAttention}.
 * Parameters: {prefix}.norm1, .attn.qkv, .attn.proj, .norm2, .mlp.fc1, .mlp.fc2.
 */
final class TransformerBlock {

    static final float EPS = 1e-6f;

    private final NamedParameters p;
    private final String prefix;
    private final int heads;
    private final double dropPath;

    TransformerBlock(NamedParameters p, String prefix, int heads, double dropPath) {
        this.p = p;
        this.prefix = prefix;
        this.heads = heads;
        this.dropPath = dropPath;
    }

    /** Adds the block's parameters with the reference init: xavier_uniform weights (qkv as one [3D, D]), zero biases. */
    static void addParameters(NamedParameters.Builder b, String prefix, int dim, int mlpHidden, Random r) {
        addParameters(b, prefix, dim, mlpHidden, r, Init.MatrixInit.XAVIER, true);
    }

    /** As above with another Linear weight init (zero biases, LayerNorm 1/0 either way) and trainability. */
    static void addParameters(NamedParameters.Builder b, String prefix, int dim, int mlpHidden, Random r,
            Init.MatrixInit weights, boolean trainable) {
        addLayerNorm(b, prefix + ".norm1", dim, trainable);
        addLinear(b, prefix + ".attn.qkv", dim, 3 * dim, r, weights, trainable);
        addLinear(b, prefix + ".attn.proj", dim, dim, r, weights, trainable);
        addLayerNorm(b, prefix + ".norm2", dim, trainable);
        addLinear(b, prefix + ".mlp.fc1", dim, mlpHidden, r, weights, trainable);
        addLinear(b, prefix + ".mlp.fc2", mlpHidden, dim, r, weights, trainable);
    }

    /** x [N, T, D] → [N, T, D]; {@code random} drives drop path (null = evaluation). */
    NDArray forward(NDArray x, Random random) {
        return forward(x, random, false).tokens();
    }

    /**
     * As {@link #forward(NDArray, Random)}, also returning the head-averaged attention of the cls query [N, T]; the
     * attention then runs on the explicit path (matmul, softmax, matmul), whose weights are kept.
     */
    Output forwardWithClsAttention(NDArray x) {
        return forward(x, null, true);
    }

    private Output forward(NDArray x, Random random, boolean keepClsAttention) {
        NDArray h = layerNorm(x, p, prefix + ".norm1", EPS);
        NDList qkv = linear(h, p, prefix + ".attn.qkv").split(3, 2);
        NDArray q = splitHeads(qkv.get(0), heads);
        NDArray k = splitHeads(qkv.get(1), heads);
        NDArray v = splitHeads(qkv.get(2), heads);
        NDArray clsAttention = null;
        NDArray attended;
        if (keepClsAttention) { // the explicit path: the weights' cls row is wanted
            NDArray weights = attentionWeights(q, k);
            clsAttention = weights.get(":, :, 0, :").mean(new int[] {1});
            attended = weights.matMul(v);
        } else {
            attended = attention(q, k, v);
        }
        x = x.add(dropPath(linear(mergeHeads(attended), p, prefix + ".attn.proj"), dropPath, random));
        x = x.add(dropPath(mlp(layerNorm(x, p, prefix + ".norm2", EPS), p, prefix + ".mlp"), dropPath, random));
        return new Output(x, clsAttention);
    }

    /** Block output and (optionally) the cls row of its head-averaged attention. */
    record Output(NDArray tokens, NDArray clsAttention) {
    }

    static void addLinear(NamedParameters.Builder b, String name, int in, int out, Random r) {
        addLinear(b, name, in, out, r, Init.MatrixInit.XAVIER, true);
    }

    static void addLinear(NamedParameters.Builder b, String name, int in, int out, Random r,
            Init.MatrixInit weights, boolean trainable) {
        b.add(name + ".weight", new Shape(out, in), weights.draw(r, out, in), trainable);
        b.add(name + ".bias", new Shape(out), Init.constant(0, out), trainable);
    }

    static void addLayerNorm(NamedParameters.Builder b, String name, int dim) {
        addLayerNorm(b, name, dim, true);
    }

    static void addLayerNorm(NamedParameters.Builder b, String name, int dim, boolean trainable) {
        b.add(name + ".weight", new Shape(dim), Init.constant(1, dim), trainable);
        b.add(name + ".bias", new Shape(dim), Init.constant(0, dim), trainable);
    }
}
