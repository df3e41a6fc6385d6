package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.model.GradMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with PyTorch's {@code torch.optim.AdamW} semantics, over named parameter groups.
 *
 * <p>Per parameter, with group learning rate {@code lr} and weight decay {@code wd}, at step {@code t}:
 * <pre>
 *   p ← p·(1 − lr·wd)                          decoupled weight decay
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + ε)
 * </pre>
 * All parameters step together, so one step count serves them all (PyTorch keeps one per parameter, with
 * equal values when every parameter has a gradient, as here: zeroed gradients are still stepped).
 * State is named {@code exp_avg.<param>} and {@code exp_avg_sq.<param>} like PyTorch's state keys.
 *
 * <p>The update is libtorch's fused kernel, {@code torch.optim.AdamW(fused=True)}'s ({@link FusedAdamWStep}): one
 * pass over memory per parameter. Same formula as the single-tensor path PyTorch uses by default on CPU, with
 * rounding that may differ in the last bits (PyTorch's own note on fused optimizers); OptimizerGoldenTest checks it
 * against torch.optim.AdamW.
 */
public final class AdamW implements StatefulOptimizer {

    public static final String KIND = "adamw";
    private static final String EXP_AVG = "exp_avg.";
    private static final String EXP_AVG_SQ = "exp_avg_sq.";

    private final List<ParamGroup> groups;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final NDManager stateManager;
    private final FusedAdamWStep kernel;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    /**
     * @param stateManager owns the moment arrays (keep it open as long as the optimizer is used)
     */
    public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps, NDManager stateManager) {
        this.groups = List.copyOf(groups);
        this.beta1 = requireUnitInterval("beta1", beta1);
        this.beta2 = requireUnitInterval("beta2", beta2);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be a finite value > 0, got " + eps);
        }
        this.eps = eps;
        this.stateManager = stateManager;
        this.kernel = new FusedAdamWStep(stateManager);
        requireUniqueNames(this.groups);
    }

    /** The reference pretraining optimizer: betas (0.9, 0.95), eps 1e-8. */
    public static AdamW forPretraining(List<ParamGroup> groups, NDManager stateManager) {
        return new AdamW(groups, 0.9, 0.95, 1e-8, stateManager);
    }

    /** The reference fine-tuning optimizer: PyTorch's default betas (0.9, 0.999), eps 1e-8. */
    public static AdamW forFinetuning(List<ParamGroup> groups, NDManager stateManager) {
        return new AdamW(groups, 0.9, 0.999, 1e-8, stateManager);
    }

    @Override
    public void step(Map<String, NDArray> params, double lr) {
        NamedParams.requireFinite("learning rate", lr);
        ensureState(params);
        step++;
        try (GradMode ignored = GradMode.disabled(); NDManager stepScope = stateManager.newSubManager()) {
            NDArray stepCount = stepScope.full(new Shape(), step, DataType.FLOAT32);
            for (ParamGroup group : groups) {
                List<NDArray> p = new ArrayList<>();
                List<NDArray> g = new ArrayList<>();
                List<NDArray> m = new ArrayList<>();
                List<NDArray> v = new ArrayList<>();
                for (String name : group.paramNames()) {
                    p.add(params.get(name));
                    NDArray grad = NamedParams.gradient(params, name); // a new handle to .grad
                    grad.attach(stepScope); // freed with the scope, the gradient stays
                    g.add(grad);
                    m.add(expAvg.get(name));
                    v.add(expAvgSq.get(name));
                }
                kernel.apply(p, g, m, v, stepCount, group.learningRate(lr), group.weightDecay(), beta1, beta2, eps);
            }
        }
    }

    @Override
    public long stepCount() {
        return step;
    }

    @Override
    public List<ParamGroup> groups() {
        return groups;
    }

    @Override
    public void initializeState(Map<String, NDArray> params) {
        ensureState(params);
    }

    @Override
    public OptimizerState state() {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        expAvg.forEach((name, m) -> tensors.put(EXP_AVG + name, m));
        expAvgSq.forEach((name, v) -> tensors.put(EXP_AVG_SQ + name, v));
        return new OptimizerState(KIND, step, tensors);
    }

    @Override
    public void loadState(OptimizerState saved, Map<String, NDArray> params) {
        OptimizerStates.requireKind(saved, KIND);
        ensureState(params);
        Map<String, NDArray> live = new LinkedHashMap<>();
        expAvg.forEach((name, m) -> live.put(EXP_AVG + name, m));
        expAvgSq.forEach((name, v) -> live.put(EXP_AVG_SQ + name, v));
        OptimizerStates.restore(saved, live, stateManager);
        expAvg.replaceAll((name, m) -> live.get(EXP_AVG + name));
        expAvgSq.replaceAll((name, v) -> live.get(EXP_AVG_SQ + name));
        step = saved.step();
    }

    /**
     * Checks every group parameter exists and requires a gradient (so a step never stops half-way), and
     * creates zero moments for those not seen yet (PyTorch does this at the first step).
     */
    private void ensureState(Map<String, NDArray> params) {
        for (ParamGroup group : groups) {
            for (String name : group.paramNames()) {
                NDArray p = NamedParams.requireTrainable(params, name);
                if (!expAvg.containsKey(name)) {
                    Shape shape = p.getShape();
                    expAvg.put(name, stateManager.zeros(shape, p.getDataType(), p.getDevice()));
                    expAvgSq.put(name, stateManager.zeros(shape, p.getDataType(), p.getDevice()));
                }
            }
        }
    }

    static void requireUniqueNames(List<ParamGroup> groups) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (ParamGroup g : groups) {
            for (String name : g.paramNames()) {
                if (!seen.add(name)) {
                    throw new IllegalArgumentException("parameter '" + name + "' appears in more than one group");
                }
            }
        }
    }

    private static double requireUnitInterval(String name, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + value);
        }
        return value;
    }
}
