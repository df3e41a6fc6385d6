package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Map;

/** An optimizer over named parameters whose state can be saved and restored (for exact resume). */
public interface StatefulOptimizer {

    /**
     * One update of every parameter in the groups from its current gradient, the group learning rate being
     * {@code lr × lrScale}. Runs under no-grad; parameters and state are modified in place.
     */
    void step(Map<String, NDArray> params, double lr);

    /** Number of steps taken so far (PyTorch's {@code state['step']}). */
    long stepCount();

    List<ParamGroup> groups();

    /**
     * Creates the (zero) state of every parameter now rather than at the first step, so all ranks hold state
     * tensors of the same names and shapes before rank 0's resumed state is broadcast to them.
     */
    void initializeState(Map<String, NDArray> params);

    /** The live state tensors and step count. */
    OptimizerState state();

    /**
     * Replaces the state with a saved one. Every tensor must be known and match the parameter's shape;
     * the values are copied into this optimizer's own arrays.
     */
    void loadState(OptimizerState saved, Map<String, NDArray> params);
}
