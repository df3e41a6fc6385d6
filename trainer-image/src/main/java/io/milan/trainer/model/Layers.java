package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDResource;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import io.milan.trainer.torch.TorchOps;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

/**
 * The functional layers the models are written in, over named parameters.
 *
 * <p>Memory rule: a DJL result belongs to the NDManager of its FIRST operand. Results must never land on the
 * parameters' manager (they would live as long as the model), so every op here puts the activation first, and
 * slices/broadcasts of parameters are moved to the activation's manager.
 */
public final class Layers {

    private Layers() {
    }

    /** Fails naming {@code what} unless images is [N, channels, size, size] on the device of {@code weights}. */
    static void checkImages(NDArray images, int channels, int size, NDArray weights, String what) {
        Shape s = images.getShape();
        if (s.dimension() != 4 || s.get(1) != channels || s.get(2) != size || s.get(3) != size) {
            throw new IllegalArgumentException(what + ": expected [N, " + channels + ", " + size + ", " + size
                    + "], got " + s);
        }
        if (!images.getDevice().equals(weights.getDevice())) {
            throw new IllegalArgumentException(what + " are on " + images.getDevice() + " but the model is on "
                    + weights.getDevice());
        }
    }

    /** y = x Wᵀ + b with PyTorch's [out, in] weight layout; the bias is optional. */
    static NDArray linear(NDArray x, NamedParameters p, String name) {
        return Linear.linear(x, p.get(name + ".weight"), p.find(name + ".bias")).singletonOrThrow();
    }

    /** LayerNorm over the last axis. */
    static NDArray layerNorm(NDArray x, NamedParameters p, String name, float eps) {
        NDArray gamma = p.get(name + ".weight");
        return LayerNorm.layerNorm(x, gamma.getShape(), gamma, p.get(name + ".bias"), eps).singletonOrThrow();
    }

    /**
     * Runs {@code body} with its intermediates on a sub-manager that is closed afterwards, so only its result
     * stays referenced from Java; autograd still holds what backward needs. This is PyTorch's memory behaviour
     * (a block's temporaries die when it returns, saved tensors when backward has used them): memory is reused at
     * once instead of every step's forward and backward asking for fresh pages (page faults were most of our
     * extra time in the decoder and in backward). {@code inputs} are the arrays whose ops the body starts from
     * (results belong to the first operand's manager); they are lent to the sub-manager and given back. The
     * result is attached to the manager of {@code inputs[0]}.
     */
    static NDArray scoped(Supplier<NDArray> body, NDResource... inputs) {
        NDManager owner = inputs[0].getManager();
        try (NDManager scope = owner.newSubManager()) {
            scope.tempAttachAll(inputs);
            NDArray result = body.get();
            result.attach(owner);
            return result;
        }
    }

    /** Exact (erf) GELU, torch.nn.GELU(). */
    static NDArray gelu(NDArray x) {
        return Activation.gelu(x);
    }

    /** timm's Mlp: fc2(GELU(fc1(x))). */
    static NDArray mlp(NDArray x, NamedParameters p, String name) {
        return linear(gelu(linear(x, p, name + ".fc1")), p, name + ".fc2");
    }

    /** CLIP's QuickGELU: x·σ(1.702x). */
    static NDArray quickGelu(NDArray x) {
        return x.mul(Activation.sigmoid(scale(x, 1.702)));
    }

    /**
     * x in float32 when it is float16 or bfloat16 (autocast's outputs; DJL 0.36 reports bfloat16 as UNKNOWN), else
     * x itself: losses and statistics are computed in float32 under autocast, as PyTorch's autocast does for them.
     * The cast is in autograd's graph ({@link TorchOps#cast}; DJL's toType would detach it).
     */
    public static NDArray float32(NDArray x) {
        DataType type = x.getDataType();
        boolean half = type == DataType.FLOAT16 || type == DataType.BFLOAT16 || type == DataType.UNKNOWN;
        return half ? TorchOps.cast(x, DataType.FLOAT32) : x;
    }

    /**
     * x · v for a constant v. Not {@code x.mul(Number)}: DJL 0.36 wraps the number in a tensor that borrows a
     * Java buffer and releases it at once, while autograd keeps that tensor for backward — after a garbage
     * collection backward reads freed memory (wrong gradients, NaN). A libtorch-owned scalar is safe.
     */
    public static NDArray scale(NDArray x, double v) {
        // A float32 0-dim scalar for any floating x: it does not promote x (0-dim operands never do), so
        // float16/bfloat16 activations under autocast stay in their dtype, as with PyTorch's x * v. (DJL 0.36 reports
        // bfloat16 as UNKNOWN and cannot create one.)
        DataType type = x.getDataType();
        DataType scalarType = type.isFloating() || type == DataType.UNKNOWN ? DataType.FLOAT32 : type;
        try (NDArray scalar = x.getManager().full(new Shape(), (float) v, scalarType, x.getDevice())) {
            return x.mul(scalar);
        }
    }

    /** [N, T, H·hd] → [N, H, T, hd]. */
    static NDArray splitHeads(NDArray x, int heads) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), heads, s.get(2) / heads).transpose(0, 2, 1, 3);
    }

    /** [N, H, T, hd] → [N, T, H·hd]. */
    static NDArray mergeHeads(NDArray x) {
        Shape s = x.getShape();
        return x.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), s.get(1) * s.get(3));
    }

    /**
     * Attention softmax(q·kᵀ·hd^-0.5)·v: q [N,H,Tq,hd], k and v [N,H,Tk,hd] → [N,H,Tq,hd], through libtorch's
     * {@code scaled_dot_product_attention} (as timm's Attention with fused_attn, the default): one fused kernel
     * (flash attention on the CPU and, where it applies, on CUDA) that never keeps the [N,H,Tq,Tk] weights.
     * Equal to {@code attentionWeights(q, k).matMul(v)} within float32 rounding, forward and backward
     * (FusedAttentionTest states the tolerance).
     */
    static NDArray attention(NDArray q, NDArray k, NDArray v) {
        return TorchOps.scaledDotProductAttention(q, k, v);
    }

    /**
     * The explicit path, for where the weights themselves are needed (the teachers' last block, whose cls row
     * drives semantic-aware masking): softmax((q · hd^-0.5)·kᵀ) over the keys: q [N,H,Tq,hd], k [N,H,Tk,hd] →
     * [N,H,Tq,Tk]. The scale goes on q (Tk/hd times fewer elements to scale forward and backward than the scores,
     * and fewer kept alive), as in timm's current Attention and HF CLIP; timm 0.3.2 scales the scores instead,
     * which is bit-identical for power-of-two scales (hd 64: ViT-S/B/L, CLIP B/16) and within float rounding
     * otherwise.
     */
    static NDArray attentionWeights(NDArray q, NDArray k) {
        float scale = (float) Math.pow(q.getShape().get(3), -0.5);
        return TorchOps.softmax(scale(q, scale).matMul(k.transpose(0, 1, 3, 2)), -1);
    }

    /** Rows of x [N, T, D] picked per sample by ids [N, K] (int64): torch.gather along the token axis. */
    static NDArray gatherTokens(NDArray x, NDArray ids) {
        Shape s = ids.getShape();
        NDArray index = ids.expandDims(2).broadcast(s.get(0), s.get(1), x.getShape().get(2));
        return x.gather(index, 1);
    }

    /** Concatenation along the token axis, owned by the first array's manager. */
    static NDArray concatTokens(NDArray first, NDArray second) {
        return first.concat(second, 1);
    }

    /** A slice of a parameter (e.g. pos_embed[:, 1:]) owned by {@code owner}'s manager, not the model's. */
    static NDArray slice(NDArray param, String index, NDArray owner) {
        return param.get(owner.getManager(), new NDIndex(index));
    }

    /** A parameter broadcast (a view, no copy) to {@code shape}, owned by {@code owner}'s manager. */
    static NDArray expand(NDArray param, Shape shape, NDArray owner) {
        NDArray view = param.broadcast(shape);
        view.attach(owner.getManager());
        return view;
    }

    /**
     * Stochastic depth (timm DropPath) on a residual branch [N, ...]: each sample's branch is zeroed with
     * probability {@code rate} and otherwise scaled by 1/(1-rate). Identity when rate is 0 or random is null
     * (evaluation).
     */
    static NDArray dropPath(NDArray branch, double rate, Random random) {
        if (rate == 0 || random == null) {
            return branch;
        }
        long n = branch.getShape().get(0);
        float[] keep = new float[(int) n];
        for (int i = 0; i < n; i++) {
            keep[i] = random.nextDouble() < 1 - rate ? (float) (1 / (1 - rate)) : 0f;
        }
        long[] dims = new long[branch.getShape().dimension()];
        Arrays.fill(dims, 1);
        dims[0] = n;
        NDManager m = branch.getManager();
        // duplicate(): a libtorch-owned copy, since mul keeps the mask for backward (see scale()).
        return branch.mul(m.create(keep, new Shape(dims)).toDevice(branch.getDevice(), false).duplicate());
    }
}
