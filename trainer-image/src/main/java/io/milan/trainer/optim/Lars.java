package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.model.GradMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LARS as in MoCo v3's {@code LARS} (used by MAE/MILAN linear probing), over named parameter groups.
 *
 * <p>Per parameter with gradient {@code g}, group learning rate {@code lr} and weight decay {@code wd}:
 * <pre>
 *   d ← g
 *   if p has more than one dimension:
 *       d ← g + wd·p
 *       if ‖p‖ > 0 and ‖d‖ > 0:  d ← d · trust·‖p‖/‖d‖
 *   μ ← momentum·μ + d
 *   p ← p − lr·μ
 * </pre>
 * 1-D parameters (biases, norm scales) skip weight decay and the trust ratio. State is named
 * {@code mu.<param>}.
 */
public final class Lars implements StatefulOptimizer {

    public static final String KIND = "lars";
    private static final String MU = "mu.";

    private final List<ParamGroup> groups;
    private final double momentum;
    private final double trustCoefficient;
    private final NDManager stateManager;
    private final Map<String, NDArray> mu = new LinkedHashMap<>();
    private long step;

    public Lars(List<ParamGroup> groups, double momentum, double trustCoefficient, NDManager stateManager) {
        this.groups = List.copyOf(groups);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("LARS momentum must be in [0, 1), got " + momentum);
        }
        if (!(trustCoefficient > 0) || Double.isInfinite(trustCoefficient)) {
            throw new IllegalArgumentException("LARS trust coefficient must be a finite value > 0, got "
                    + trustCoefficient);
        }
        this.momentum = momentum;
        this.trustCoefficient = trustCoefficient;
        this.stateManager = stateManager;
        AdamW.requireUniqueNames(this.groups);
    }

    /** The reference settings: momentum 0.9, trust coefficient 0.001. */
    public static Lars withReferenceSettings(List<ParamGroup> groups, NDManager stateManager) {
        return new Lars(groups, 0.9, 0.001, stateManager);
    }

    @Override
    public void step(Map<String, NDArray> params, double lr) {
        NamedParams.requireFinite("learning rate", lr);
        ensureState(params);
        step++;
        try (GradMode ignored = GradMode.disabled(); Scalars s = new Scalars(stateManager)) {
            Constants c = new Constants(s.of(momentum), s.of(trustCoefficient), s.of(0), s.of(1));
            for (ParamGroup group : groups) {
                NDArray groupLr = s.of(group.learningRate(lr));
                NDArray weightDecay = s.of(group.weightDecay());
                for (String name : group.paramNames()) {
                    NDArray p = params.get(name);
                    try (NDArray g = NamedParams.gradient(params, name);
                            NDArray d = p.getShape().dimension() > 1 ? scaledUpdate(p, g, weightDecay, c)
                                    : g.duplicate()) {
                        NDArray m = mu.get(name);
                        m.muli(c.momentum()).addi(d);
                        try (NDArray delta = m.mul(groupLr)) {
                            p.subi(delta);
                        }
                    }
                }
            }
        }
    }

    /** The step's constants as scalar tensors (see {@link Scalars}). */
    private record Constants(NDArray momentum, NDArray trust, NDArray zero, NDArray one) {
    }

    /** {@code d = (g + wd·p) · q} with the trust ratio {@code q} (1 when either norm is zero). */
    private static NDArray scaledUpdate(NDArray p, NDArray g, NDArray weightDecay, Constants c) {
        NDArray d;
        try (NDArray decay = p.mul(weightDecay)) {
            d = g.add(decay);
        }
        try (NDArray paramNorm = p.norm();
                NDArray updateNorm = d.norm();
                NDArray ratio = paramNorm.mul(c.trust()).divi(updateNorm);
                NDArray paramPositive = paramNorm.gt(c.zero());
                NDArray updatePositive = updateNorm.gt(c.zero());
                NDArray inner = NDArrays.where(updatePositive, ratio, c.one());
                NDArray q = NDArrays.where(paramPositive, inner, c.one())) {
            return d.muli(q);
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
        mu.forEach((name, m) -> tensors.put(MU + name, m));
        return new OptimizerState(KIND, step, tensors);
    }

    @Override
    public void loadState(OptimizerState saved, Map<String, NDArray> params) {
        OptimizerStates.requireKind(saved, KIND);
        ensureState(params);
        Map<String, NDArray> live = new LinkedHashMap<>();
        mu.forEach((name, m) -> live.put(MU + name, m));
        OptimizerStates.restore(saved, live, stateManager);
        mu.replaceAll((name, m) -> live.get(MU + name));
        step = saved.step();
    }

    /** Checks every group parameter is trainable and creates zero momentum for those not seen yet. */
    private void ensureState(Map<String, NDArray> params) {
        for (ParamGroup group : groups) {
            for (String name : group.paramNames()) {
                NDArray p = NamedParams.requireTrainable(params, name);
                mu.computeIfAbsent(name, n -> stateManager.zeros(p.getShape(), p.getDataType(), p.getDevice()));
            }
        }
    }
}
