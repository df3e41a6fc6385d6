package io.milan.trainer.model;

import static io.milan.trainer.model.Layers.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Linear probing as in the reference ({@code models_probe.py} under {@code main_linprobe.py}, cls-token pooling):
 * a FROZEN encoder (no tensor requires gradients), final {@code norm}, token 0, then
 * {@code head = Sequential(BatchNorm1d(D, affine=False, eps=1e-6), Linear(D, classes))}.
 *
 * <p>Only {@code head.1.weight} (init trunc_normal(std 0.01), MoCo v3) and {@code head.1.bias} (0) train; the
 * batch norm has running statistics but no parameters. {@link #stateDict()} holds everything under the
 * reference names: encoder tensors, {@code head.0.running_mean}, {@code head.0.running_var},
 * {@code head.0.num_batches_tracked} (int64 scalar), {@code head.1.weight}, {@code head.1.bias}.
 */
public final class LinearProbeModel implements AutoCloseable {

    static final String NORM = "head.0";
    static final String LINEAR = "head.1";

    private final ViTConfig config;
    private final int numClasses;
    private final NamedParameters params;
    private final VitEncoder encoder;
    private final BatchNormNoAffine batchNorm;

    private LinearProbeModel(ViTConfig config, int numClasses, NamedParameters params, NDManager manager) {
        this.config = config;
        this.numClasses = numClasses;
        this.params = params;
        this.encoder = new VitEncoder(config, params);
        this.batchNorm = new BatchNormNoAffine(NORM, config.dim(), TransformerBlock.EPS, manager);
    }

    /** A probe with a freshly initialised (to be loaded) encoder on {@code manager}'s device. */
    public static LinearProbeModel create(ViTConfig config, int numClasses, NDManager manager, long seed) {
        if (numClasses < 1) {
            throw new IllegalArgumentException("number of classes must be >= 1, got " + numClasses);
        }
        if (config.dropPath() != 0) {
            throw new IllegalArgumentException("linear probing runs the encoder without drop path, got dropPath "
                    + config.dropPath());
        }
        Random random = new Random(seed);
        NamedParameters.Builder b = NamedParameters.builder(manager);
        VitEncoder.addParameters(b, config, random, EncoderVariant.LINEAR_PROBE);
        Init.MatrixInit mocoV3 = (r, out, in) -> Init.truncNormal(r, 0.01, (long) out * in);
        TransformerBlock.addLinear(b, LINEAR, config.dim(), numClasses, random, mocoV3, true);
        return new LinearProbeModel(config, numClasses, b.build(), manager);
    }

    /**
     * Logits [N, numClasses]. The encoder runs without recording gradients (it is frozen); in training mode
     * the batch norm uses and updates batch statistics (needs N ≥ 2), in evaluation mode its running ones.
     */
    public NDArray forward(NDArray images, boolean training) {
        NDArray features;
        try (GradMode ignored = GradMode.disabled()) {
            features = encoder.forwardAll(images, true, null).get(new NDIndex(":, 0, :"));
        }
        return linear(batchNorm.forward(features, training), params, LINEAR);
    }

    public ViTConfig config() {
        return config;
    }

    public int numClasses() {
        return numClasses;
    }

    /** The parameters (encoder frozen, head.1.* trainable); the batch norm's buffers are in {@link #stateDict()}. */
    public NamedParameters parameters() {
        return params;
    }

    /** Everything a checkpoint holds, in the reference state_dict order. */
    public Map<String, NDArray> stateDict() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        params.asMap().forEach((name, a) -> {
            if (!name.startsWith("head.")) {
                out.put(name, a);
            }
        });
        out.putAll(batchNorm.buffers());
        params.asMap().forEach((name, a) -> {
            if (name.startsWith(LINEAR + ".")) {
                out.put(name, a);
            }
        });
        return out;
    }

    /** Restores a {@link #stateDict()} (resume); every name must be present with its shape. */
    public void loadStateDict(Map<String, NDArray> state, String source) {
        Map<String, NDArray> parameterValues = new LinkedHashMap<>();
        for (String name : params.asMap().keySet()) {
            NDArray value = state.get(name);
            if (value == null) {
                throw new IllegalArgumentException(source + " has no '" + name + "'");
            }
            parameterValues.put(name, value);
        }
        params.copyFrom(parameterValues);
        batchNorm.load(state, source);
    }

    /** Batches the batch norm has normalised in training mode ({@code num_batches_tracked}). */
    public long batchesTracked() {
        return batchNorm.batchesTracked();
    }

    @Override
    public void close() {
        params.close();
        batchNorm.close();
    }
}
