package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * libtorch's fused AdamW kernel ({@code torch._fused_adamw_}, what {@code torch.optim.AdamW(fused=True)} runs),
 * called through a TorchScript method that DJL loads: {@code adamw_step.pt}, written by
 * {@code trainer-image/tools/make_adamw_step.py} (code only, no weights).
 *
 * <p>Why: DJL's NDArray API has no {@code lerp_}/{@code addcmul_}/{@code addcdiv_}, so AdamW spelled with its ops
 * made ~33 passes over memory per parameter; the fused kernel reads parameter, gradient and both moments once
 * and writes parameter and moments once (docs/benchmarks.md, "Trainer step"). One call per parameter group.
 * The loaded script belongs to the manager given to the constructor and is freed with it.
 *
 * <p>DJL runs a script method with autograd off and below autograd's dispatch (libtorch logs a one-time warning
 * that this guard, {@code AutoNonVariableTypeMode}, is deprecated). The in-place updates then leave the tensors'
 * version counters alone; only autograd graphs read those, and none outlives the backward pass before a step.
 */
final class FusedAdamWStep {

    private static final String SCRIPT = "adamw_step.pt";

    private final PtSymbolBlock script;

    FusedAdamWStep(NDManager manager) {
        if (!(manager instanceof PtNDManager pt)) {
            throw new IllegalStateException("AdamW needs DJL's PyTorch engine, got " + manager.getEngine().getEngineName());
        }
        try (InputStream in = FusedAdamWStep.class.getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IllegalStateException("the trainer jar lacks " + SCRIPT + " (io/milan/trainer/optim)");
            }
            script = JniUtils.loadModule(pt, in, true, false);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + SCRIPT + " from the trainer jar", e);
        }
    }

    /**
     * Steps one group in place: {@code p ← p·(1 − lr·wd)}, then Adam's moment updates and bias-corrected step.
     *
     * @param step the step count after this step, a float32 0-dim tensor (as PyTorch keeps it)
     */
    void apply(List<NDArray> params, List<NDArray> grads, List<NDArray> expAvgs, List<NDArray> expAvgSqs,
            NDArray step, double lr, double weightDecay, double beta1, double beta2, double eps) {
        List<IValue> args = new ArrayList<>();
        try {
            args.add(IValue.listFrom(pt(params)));
            args.add(IValue.listFrom(pt(grads)));
            args.add(IValue.listFrom(pt(expAvgs)));
            args.add(IValue.listFrom(pt(expAvgSqs)));
            args.add(IValue.from((PtNDArray) step));
            for (double scalar : new double[] {lr, weightDecay, beta1, beta2, eps}) {
                args.add(IValue.from(scalar));
            }
            script.forward(args.toArray(IValue[]::new)).close();
        } finally {
            args.forEach(IValue::close);
        }
    }

    private static PtNDArray[] pt(List<NDArray> arrays) {
        return arrays.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new);
    }
}
