package io.milan.trainer.dist;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A two-layer MLP made of plain NDArrays (named parameters, real DJL autograd) and a hand-written SGD step with
 * weight decay: small enough to train in every test process, real enough that gradients, bucketing and the
 * ring are the production ones. Data is a deterministic function of the step, so any split of a global batch
 * over processes and replicas can be compared with one device taking it whole.
 */
final class TinyMlp {

    static final int INPUTS = 6;
    static final int HIDDEN = 40;
    static final int OUTPUTS = 3;
    static final float LEARNING_RATE = 0.1f;
    static final float WEIGHT_DECAY = 0.01f;

    private TinyMlp() {
    }

    /** Fresh parameters drawn from {@code seed}, requiring gradients. */
    static LinkedHashMap<String, NDArray> init(NDManager manager, long seed) {
        Random random = new Random(seed);
        LinkedHashMap<String, NDArray> params = new LinkedHashMap<>();
        params.put("fc1.weight", normal(manager, random, new Shape(INPUTS, HIDDEN), 0.5f));
        params.put("fc1.bias", normal(manager, random, new Shape(HIDDEN), 0.1f));
        params.put("fc2.weight", normal(manager, random, new Shape(HIDDEN, OUTPUTS), 0.5f));
        params.put("fc2.bias", normal(manager, random, new Shape(OUTPUTS), 0.1f));
        params.values().forEach(p -> p.setRequiresGradient(true));
        return params;
    }

    /** The global batch of {@code step}: inputs {@code [batch, INPUTS]} and targets {@code [batch, OUTPUTS]}. */
    static NDArray[] batch(NDManager manager, int step, int batch) {
        Random random = new Random(1000L + step);
        float[] x = new float[batch * INPUTS];
        float[] y = new float[batch * OUTPUTS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) Math.sin(i * 0.37 + step);
        }
        return new NDArray[] {manager.create(x, new Shape(batch, INPUTS)), manager.create(y, new Shape(batch, OUTPUTS))};
    }

    /** Rows {@code [from, to)} of a batch array. */
    static NDArray rows(NDArray array, long from, long to) {
        return array.get(new NDIndex(from + ":" + to));
    }

    /** Mean squared error of the network on {@code x} against {@code y}: a mean over the rows given. */
    static NDArray loss(Map<String, NDArray> params, NDArray x, NDArray y) {
        NDArray hidden = x.matMul(params.get("fc1.weight")).add(params.get("fc1.bias")).tanh();
        NDArray out = hidden.matMul(params.get("fc2.weight")).add(params.get("fc2.bias"));
        return out.sub(y).square().mean();
    }

    /** Runs backward of each replica's loss on its slice (one collector at a time: DJL allows one per process). */
    static void backward(List<Map<String, NDArray>> replicas, List<NDArray> xs, List<NDArray> ys) {
        for (int i = 0; i < replicas.size(); i++) {
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(loss(replicas.get(i), xs.get(i), ys.get(i)));
            }
        }
    }

    /** w -= lr·(g + wd·w); then the gradient is zeroed. */
    static void sgdStep(Map<String, NDArray> params) {
        for (NDArray param : params.values()) {
            try (NDArray gradient = param.getGradient(); NDArray weight = param.stopGradient()) {
                weight.subi(gradient.add(weight.mul(WEIGHT_DECAY)).mul(LEARNING_RATE));
                gradient.subi(gradient);
            }
        }
    }

    /** Trains on one device with the whole global batch: the reference every split must reproduce. */
    static List<float[]> trainOnOneDevice(NDManager manager, int steps, int globalBatch) {
        Map<String, NDArray> params = init(manager, 1);
        for (int step = 0; step < steps; step++) {
            NDArray[] data = batch(manager, step, globalBatch);
            backward(List.of(params), List.of(data[0]), List.of(data[1]));
            sgdStep(params);
        }
        return values(params);
    }

    static List<float[]> values(Map<String, NDArray> params) {
        List<float[]> values = new ArrayList<>();
        params.values().forEach(p -> values.add(p.toFloatArray()));
        return values;
    }

    private static NDArray normal(NDManager manager, Random random, Shape shape, float scale) {
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian() * scale;
        }
        return manager.create(values, shape);
    }
}
