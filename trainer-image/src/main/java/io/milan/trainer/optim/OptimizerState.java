package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an optimizer needs to continue exactly where it stopped: its named state tensors (e.g.
 * {@code exp_avg.blocks.0.attn.qkv.weight}) and the number of steps taken. The tensors are the optimizer's
 * live arrays; a checkpoint writer copies them out. Sorted by name, so every process lists them in one order.
 */
public record OptimizerState(String kind, long step, Map<String, NDArray> tensors) {

    public OptimizerState {
        tensors = Collections.unmodifiableMap(new TreeMap<>(tensors));
    }
}
