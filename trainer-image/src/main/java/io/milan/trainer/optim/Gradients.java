package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.milan.trainer.model.GradMode;
import java.util.Collection;
import java.util.Map;

/** Whole-model gradient operations: zeroing, global norm, and global-norm clipping. */
public final class Gradients {

    /** torch.nn.utils.clip_grad_norm_ adds this to the norm before dividing. */
    private static final double CLIP_EPSILON = 1e-6;

    private Gradients() {
    }

    /**
     * Sets the gradients of the named parameters to zero ({@code optimizer.zero_grad()} with
     * {@code set_to_none=False}, the reference's PyTorch behaviour). Gradients accumulate over backward
     * calls until this is called.
     */
    public static void zero(Map<String, NDArray> params, Collection<String> names) {
        for (String name : names) {
            NDArray p = NamedParams.require(params, name);
            if (!p.hasGradient()) {
                throw new IllegalStateException("parameter '" + name + "' does not require a gradient");
            }
            JniUtils.zeroGrad((PtNDArray) p);
        }
    }

    /** {@code sqrt(Σ ‖g‖²)} over the named parameters' gradients, computed in float32 like PyTorch. */
    public static double globalNorm(Map<String, NDArray> params, Collection<String> names) {
        if (names.isEmpty()) {
            return 0.0;
        }
        NDList norms = new NDList(names.size());
        try {
            for (String name : names) {
                try (NDArray g = NamedParams.gradient(params, name)) {
                    norms.add(g.norm());
                }
            }
            try (NDArray stacked = NDArrays.stack(norms); NDArray total = stacked.norm()) {
                return total.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).getFloat();
            }
        } finally {
            norms.close();
        }
    }

    /**
     * {@code torch.nn.utils.clip_grad_norm_(params, maxNorm)}: when the global norm exceeds {@code maxNorm},
     * every gradient is multiplied in place by {@code maxNorm / (norm + 1e-6)}. Returns the norm before
     * clipping (for logging). A non-finite norm leaves the gradients untouched; the caller decides (see
     * {@link NonFiniteCheck#requireFiniteGradNorm}).
     */
    public static double clipGlobalNorm(Map<String, NDArray> params, Collection<String> names, double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("max gradient norm must be a finite value > 0, got " + maxNorm);
        }
        double total = globalNorm(params, names);
        if (!Double.isFinite(total)) {
            return total;
        }
        // Same float32 arithmetic as PyTorch: coef = max_norm / (total + 1e-6), applied when < 1.
        float coefficient = (float) maxNorm / ((float) total + (float) CLIP_EPSILON);
        if (coefficient < 1f) {
            try (GradMode ignored = GradMode.disabled()) {
                for (String name : names) {
                    try (NDArray g = NamedParams.gradient(params, name)) {
                        g.muli(coefficient);
                    }
                }
            }
        }
        return total;
    }
}
