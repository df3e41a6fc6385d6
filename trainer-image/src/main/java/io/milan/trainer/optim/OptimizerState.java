package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * What an optimizer needs to continue exactly where it stopped: its named state tensors (e.g.
 * {@code exp_avg.blocks.0.attn.qkv.weight}) and the number of steps taken. The tensors are the optimizer's
 * live arrays; a checkpoint writer copies them out.
 */
public record OptimizerState(String kind, long step, Map<String, NDArray> tensors) {

    public OptimizerState {
        tensors = Map.copyOf(tensors);
    }
}
