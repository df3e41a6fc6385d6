package io.milan.trainer.optim;

import java.util.List;
import java.util.Objects;

/**
 * One optimizer parameter group, as in a PyTorch {@code param_groups} entry: the parameters (by their
 * reference state_dict names), their weight decay, and the factor the scheduled learning rate is multiplied
 * by for this group (layer-wise lr decay; 1 when there is none).
 */
public record ParamGroup(String name, List<String> paramNames, double weightDecay, double lrScale) {

    public ParamGroup {
        Objects.requireNonNull(name, "name");
        paramNames = List.copyOf(paramNames);
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("param group " + name + ": weight decay must be a finite value >= 0, got "
                    + weightDecay);
        }
        if (!(lrScale >= 0) || Double.isInfinite(lrScale)) {
            throw new IllegalArgumentException("param group " + name + ": lr scale must be a finite value >= 0, got "
                    + lrScale);
        }
    }

    /** The learning rate this group uses when the schedule says {@code lr} (reference: lr × lr_scale). */
    public double learningRate(double lr) {
        return lr * lrScale;
    }
}
