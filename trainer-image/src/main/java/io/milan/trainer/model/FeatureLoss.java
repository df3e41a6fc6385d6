package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * MILAN's feature-reconstruction loss (milan-reference.md §1.5): per token, L2-normalise prediction and target
 * over the feature axis, then mean over ALL N×(1+L) tokens (cls, visible and masked; the mask is not used) of
 * 2 − 2·cos = ‖p̂ − t̂‖², in float32 (half-precision inputs from autocast are cast up).
 */
public final class FeatureLoss {

    /** Guards the normalisation of an all-zero vector (the reference divides by its norm and gets NaN). */
    static final double NORM_EPS = 1e-12;

    private FeatureLoss() {
    }

    /** pred, target [N, T, C] → scalar loss. */
    public static NDArray cosine(NDArray pred, NDArray target) {
        if (!pred.getShape().equals(target.getShape())) {
            throw new IllegalArgumentException("loss: prediction " + pred.getShape() + " and teacher target "
                    + target.getShape() + " must have the same shape");
        }
        return Layers.scoped(() -> {
            // In float32 under autocast too (PyTorch's autocast computes norms in float32 on CUDA).
            NDArray p = Layers.float32(pred).normalize(2, -1, NORM_EPS);
            NDArray t = Layers.float32(target).normalize(2, -1, NORM_EPS);
            return Layers.scale(p.mul(t).sum(new int[] {-1}), -2).add(2).mean();
        }, pred, target);
    }
}
