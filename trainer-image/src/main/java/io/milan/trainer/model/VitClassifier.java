package io.milan.trainer.model;

import static io.milan.trainer.model.Layers.layerNorm;
import static io.milan.trainer.model.Layers.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.Map;
import java.util.Random;

/**
 * The fine-tuning ViT of the reference ({@code models_vit.py}): the pretraining encoder with a LEARNABLE
 * {@code pos_embed}, drop path {@code linspace(0, dropPath, depth)}, and a classification head.
 *
 * <p>{@link Pooling#GLOBAL_AVERAGE}: mean of the patch tokens → {@code fc_norm} (LayerNorm eps 1e-6) →
 * {@code head}; the encoder's {@code norm} does not exist. {@link Pooling#CLS_TOKEN}: {@code norm} → token 0 →
 * {@code head}.
 *
 * <p>Parameters use the reference state_dict names and order: {@code cls_token, pos_embed, patch_embed.*,
 * blocks.*, [norm.*], head.weight, head.bias, [fc_norm.*]}. Init as timm's ViT: Linear weights
 * trunc_normal(0.02), biases 0 (the head too: MILAN does not use MAE's 2e-5 head init), pos_embed the sin-cos
 * table; a pretrained checkpoint ({@link PretrainedLoader}) overwrites the encoder.
 */
public final class VitClassifier implements AutoCloseable {

    private final ViTConfig config;
    private final int numClasses;
    private final Pooling pooling;
    private final NamedParameters params;
    private final VitEncoder encoder;

    private VitClassifier(ViTConfig config, int numClasses, Pooling pooling, NamedParameters params) {
        this.config = config;
        this.numClasses = numClasses;
        this.pooling = pooling;
        this.params = params;
        this.encoder = new VitEncoder(config, params);
    }

    /**
     * A freshly initialised classifier on {@code manager}'s device.
     *
     * @param config     encoder shape; its {@code dropPath} is the last block's stochastic-depth rate
     * @param numClasses width of {@code head}
     */
    public static VitClassifier create(ViTConfig config, int numClasses, Pooling pooling, NDManager manager,
            long seed) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("number of classes must be >= 1, got " + numClasses);
        }
        Random random = new Random(seed);
        NamedParameters.Builder b = NamedParameters.builder(manager);
        VitEncoder.addParameters(b, config, random, EncoderVariant.fineTuning(pooling == Pooling.CLS_TOKEN));
        // Registration order of models_vit.py: head (timm's VisionTransformer), then fc_norm (the subclass).
        TransformerBlock.addLinear(b, "head", config.dim(), numClasses, random, Init.MatrixInit.TIMM, true);
        if (pooling == Pooling.GLOBAL_AVERAGE) {
            TransformerBlock.addLayerNorm(b, "fc_norm", config.dim());
        }
        return new VitClassifier(config, numClasses, pooling, b.build());
    }

    /**
     * Logits [N, numClasses] for ImageNet-normalised images [N, C, H, W].
     *
     * @param dropPath drives stochastic depth in training; null = evaluation (no drop path)
     */
    public NDArray forward(NDArray images, Random dropPath) {
        return linear(features(images, dropPath), params, "head");
    }

    /** The pooled feature [N, D] the head sees (after fc_norm, or the normed cls token). */
    public NDArray features(NDArray images, Random dropPath) {
        NDArray tokens = encoder.forwardAll(images, pooling == Pooling.CLS_TOKEN, dropPath);
        if (pooling == Pooling.CLS_TOKEN) {
            return tokens.get(new NDIndex(":, 0, :"));
        }
        NDArray patchMean = tokens.get(new NDIndex(":, 1:, :")).mean(new int[] {1});
        return layerNorm(patchMean, params, "fc_norm", TransformerBlock.EPS);
    }

    public ViTConfig config() {
        return config;
    }

    public int numClasses() {
        return numClasses;
    }

    public Pooling pooling() {
        return pooling;
    }

    /** All tensors by reference name (all trainable, pos_embed included). */
    public NamedParameters parameters() {
        return params;
    }

    /** What a checkpoint holds: the parameters, in state_dict order. */
    public Map<String, NDArray> stateDict() {
        return params.asMap();
    }

    @Override
    public void close() {
        params.close();
    }
}
