package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/** Lookups shared by the optimizers, with errors that name the parameter. */
final class NamedParams {

    private NamedParams() {
    }

    /** The parameter called {@code name}; fails clearly when the model has none. */
    static NDArray require(Map<String, NDArray> params, String name) {
        NDArray p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("optimizer parameter '" + name + "' is not among the model's "
                    + params.size() + " parameters");
        }
        return p;
    }

    /** The parameter called {@code name}, which must require a gradient. */
    static NDArray requireTrainable(Map<String, NDArray> params, String name) {
        NDArray p = require(params, name);
        if (!p.hasGradient()) {
            throw new IllegalStateException("optimizer parameter '" + name
                    + "' does not require a gradient; frozen parameters must not be in an optimizer group");
        }
        return p;
    }

    /**
     * The gradient of {@code name} (a new handle sharing the .grad storage: close it, the gradient stays).
     * Fails clearly when the parameter was never marked as requiring a gradient.
     */
    static NDArray gradient(Map<String, NDArray> params, String name) {
        return requireTrainable(params, name).getGradient();
    }

    /** Fails unless {@code value} is a finite number, naming it. */
    static double requireFinite(String what, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(what + " must be finite, got " + value);
        }
        return value;
    }
}
