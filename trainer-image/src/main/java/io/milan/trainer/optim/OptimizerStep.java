package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.Collection;
import java.util.Map;

/**
 * The update at an accumulation boundary, shared by the training loops: the part of MAE's
 * {@code NativeScalerWithGradNormCount.__call__} after the backward. With a loss scaler: unscale the gradients;
 * when one holds an inf or NaN skip the step (no clipping, parameters and optimizer state untouched); else clip
 * and step; then update the scale. Without: clip (a non-finite norm ends the run, {@link NonFiniteCheck}) and step.
 * Gradients are left for the caller to zero.
 */
public final class OptimizerStep {

    private OptimizerStep() {
    }

    /** Whether the step was applied, or skipped for inf/NaN gradients of a scaled loss. */
    public record Outcome(boolean applied, double gradNorm) {
    }

    /**
     * @param scaler the loss scaler (float16 training), or null
     * @param clipGrad --clip_grad, or null for none
     */
    public static Outcome apply(StatefulOptimizer optimizer, GradScaler scaler, Map<String, NDArray> params,
            Collection<String> names, Double clipGrad, double lr, int epoch, int iteration) {
        boolean skip = scaler != null && scaler.unscale(params, names);
        double norm = Double.NaN;
        if (!skip) {
            if (clipGrad != null) {
                norm = NonFiniteCheck.requireFiniteGradNorm(Gradients.clipGlobalNorm(params, names, clipGrad),
                        epoch, iteration);
            }
            optimizer.step(params, lr);
        }
        if (scaler != null) {
            scaler.update();
        }
        return new Outcome(!skip, norm);
    }
}
