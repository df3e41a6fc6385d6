package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code torch.nn.BatchNorm1d(features, affine=False, eps, momentum=0.1)} on [N, features]: no weight or bias,
 * only the running statistics (buffers {@code running_mean}, {@code running_var}, {@code num_batches_tracked}).
 *
 * <p>Training mode normalises with the batch mean and biased variance, and updates
 * {@code running = (1 − momentum)·running + momentum·batch}, using the UNBIASED batch variance for
 * {@code running_var}, and counts the batch. Evaluation mode normalises with the running statistics.
 */
final class BatchNormNoAffine {

    static final double MOMENTUM = 0.1;

    private final String prefix;
    private final int features;
    private final float eps;
    private final NDArray runningMean;
    private final NDArray runningVar;
    private final NDArray batchesTracked;

    BatchNormNoAffine(String prefix, int features, float eps, NDManager manager) {
        this.prefix = prefix;
        this.features = features;
        this.eps = eps;
        this.runningMean = manager.zeros(new Shape(features));
        this.runningVar = manager.ones(new Shape(features));
        this.batchesTracked = manager.create(0L);
    }

    /**
     * x [N, features] → normalised [N, features]; training mode also updates the running statistics. Computed in
     * float32 (a float16/bfloat16 input from autocast is cast up, as cuDNN's batch norm keeps its statistics in
     * float32).
     */
    NDArray forward(NDArray input, boolean training) {
        NDArray x = Layers.float32(input);
        Shape s = x.getShape();
        if (s.dimension() != 2 || s.get(1) != features) {
            throw new IllegalArgumentException(prefix + ": expected [N, " + features + "], got " + s);
        }
        if (!training) {
            // the buffers' copies go to x's manager: results of ops on the buffers would live as long as the model
            NDArray std = Layers.slice(runningVar, ":", x).add(eps).sqrt();
            return x.sub(runningMean).div(std);
        }
        long n = s.get(0);
        if (n < 2) {
            // as torch: "Expected more than 1 value per channel when training"
            throw new IllegalArgumentException(prefix + ": batch norm in training mode needs more than one sample"
                    + " per batch, got " + s);
        }
        NDArray mean = x.mean(new int[] {0});
        NDArray centred = x.sub(mean);
        NDArray variance = centred.square().mean(new int[] {0});
        try (GradMode ignored = GradMode.disabled()) {
            float m = (float) MOMENTUM;
            runningMean.muli(1 - m).addi(mean.mul(m));
            runningVar.muli(1 - m).addi(variance.mul(m * n / (n - 1f)));
            batchesTracked.addi(1L);
        }
        return centred.div(variance.add(eps).sqrt());
    }

    /** The buffers under their state_dict names ({prefix}.running_mean, .running_var, .num_batches_tracked). */
    Map<String, NDArray> buffers() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put(prefix + ".running_mean", runningMean);
        out.put(prefix + ".running_var", runningVar);
        out.put(prefix + ".num_batches_tracked", batchesTracked);
        return out;
    }

    /** Restores the buffers from a state dict holding the three names (float statistics, integer count). */
    void load(Map<String, NDArray> state, String source) {
        NDArray mean = require(state, ".running_mean", new Shape(features), source);
        NDArray var = require(state, ".running_var", new Shape(features), source);
        NDArray count = require(state, ".num_batches_tracked", new Shape(), source);
        try (GradMode ignored = GradMode.disabled()) {
            runningMean.set(toFloats(mean));
            runningVar.set(toFloats(var));
            try (NDArray c = count.toType(DataType.INT64, true)) {
                batchesTracked.set(c.toLongArray());
            }
        }
    }

    long batchesTracked() {
        return batchesTracked.getLong();
    }

    private NDArray require(Map<String, NDArray> state, String suffix, Shape shape, String source) {
        NDArray a = state.get(prefix + suffix);
        if (a == null) {
            throw new IllegalArgumentException(source + " has no '" + prefix + suffix + "'");
        }
        if (!a.getShape().equals(shape)) {
            throw new IllegalArgumentException(source + ": '" + prefix + suffix + "' has shape " + a.getShape()
                    + ", expected " + shape);
        }
        return a;
    }

    private static float[] toFloats(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) {
            return a.toFloatArray();
        }
        try (NDArray f = a.toType(DataType.FLOAT32, true)) {
            return f.toFloatArray();
        }
    }

    void close() {
        runningMean.close();
        runningVar.close();
        batchesTracked.close();
    }
}
