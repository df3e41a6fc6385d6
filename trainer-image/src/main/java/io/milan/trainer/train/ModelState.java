package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import io.milan.trainer.model.NamedParameters;
import java.util.List;
import java.util.Map;

/**
 * What a checkpoint holds of a model and how it is restored: usually just the parameters, but a linear probe
 * also has batch-norm running statistics, which are state without being parameters.
 */
interface ModelState {

    /** The parameters the optimizer updates and the gradients are averaged over. */
    NamedParameters parameters();

    /** Everything saved and broadcast, under the reference state_dict names. */
    Map<String, NDArray> stateDict();

    /**
     * Restores a {@link #stateDict()} read from {@code source}; every name must be present.
     *
     * @return names in {@code state} that the model does not use
     */
    List<String> load(Map<String, NDArray> state, String source);

    /** A model whose state is exactly its parameters. */
    static ModelState of(NamedParameters params) {
        return new ModelState() {
            @Override
            public NamedParameters parameters() {
                return params;
            }

            @Override
            public Map<String, NDArray> stateDict() {
                return params.asMap();
            }

            @Override
            public List<String> load(Map<String, NDArray> state, String source) {
                return params.copyFrom(state);
            }
        };
    }
}
