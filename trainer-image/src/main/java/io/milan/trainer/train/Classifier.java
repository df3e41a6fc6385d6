package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.model.LinearProbeModel;
import io.milan.trainer.model.NamedParameters;
import io.milan.trainer.model.Pooling;
import io.milan.trainer.model.VitClassifier;
import io.milan.trainer.model.ViTConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One replica of the model the fine-tuning / linear-probing loops train and evaluate: a {@link VitClassifier}
 * (end-to-end fine-tuning) or a {@link LinearProbeModel} (frozen encoder, batch norm + linear head).
 */
interface Classifier extends ModelState, AutoCloseable {

    /** Logits in training mode (drop path on, batch norm on batch statistics). */
    NDArray trainLogits(NDArray images, Random dropPath);

    /** Logits in evaluation mode; call without gradient recording. */
    NDArray evalLogits(NDArray images);

    /** Buffers that are state but not parameters (batch-norm statistics); empty for fine-tuning. */
    Map<String, NDArray> buffers();

    ViTConfig config();

    int numClasses();

    @Override
    void close();

    /** End-to-end fine-tuning model. */
    static Classifier finetune(VitClassifier model) {
        return new Finetune(model);
    }

    /** Linear probe. */
    static Classifier linearProbe(LinearProbeModel model) {
        return new Probe(model);
    }

    /** The fine-tuning ViT: all state is parameters. */
    record Finetune(VitClassifier model) implements Classifier {
        @Override
        public NamedParameters parameters() {
            return model.parameters();
        }

        @Override
        public Map<String, NDArray> stateDict() {
            return model.stateDict();
        }

        @Override
        public List<String> load(Map<String, NDArray> state, String source) {
            try {
                return model.parameters().copyFrom(state);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + " is not a fine-tuning checkpoint of this model ("
                        + model.config().dim() + "-d, " + model.numClasses() + " classes, " + model.pooling()
                        + "): " + e.getMessage(), e);
            }
        }

        @Override
        public NDArray trainLogits(NDArray images, Random dropPath) {
            return model.forward(images, dropPath);
        }

        @Override
        public NDArray evalLogits(NDArray images) {
            return model.forward(images, null);
        }

        @Override
        public Map<String, NDArray> buffers() {
            return Map.of();
        }

        @Override
        public ViTConfig config() {
            return model.config();
        }

        @Override
        public int numClasses() {
            return model.numClasses();
        }

        @Override
        public void close() {
            model.close();
        }

        Pooling pooling() {
            return model.pooling();
        }
    }

    /** The linear probe: parameters plus the batch norm's running statistics. */
    record Probe(LinearProbeModel model) implements Classifier {
        @Override
        public NamedParameters parameters() {
            return model.parameters();
        }

        @Override
        public Map<String, NDArray> stateDict() {
            return model.stateDict();
        }

        @Override
        public List<String> load(Map<String, NDArray> state, String source) {
            model.loadStateDict(state, source);
            return state.keySet().stream().filter(k -> !model.stateDict().containsKey(k)).toList();
        }

        @Override
        public NDArray trainLogits(NDArray images, Random dropPath) {
            return model.forward(images, true);
        }

        @Override
        public NDArray evalLogits(NDArray images) {
            return model.forward(images, false);
        }

        @Override
        public Map<String, NDArray> buffers() {
            Map<String, NDArray> out = new LinkedHashMap<>();
            model.stateDict().forEach((name, a) -> {
                if (!model.parameters().contains(name)) {
                    out.put(name, a);
                }
            });
            return out;
        }

        @Override
        public ViTConfig config() {
            return model.config();
        }

        @Override
        public int numClasses() {
            return model.numClasses();
        }

        @Override
        public void close() {
            model.close();
        }
    }
}
