package io.milan.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Our AdamW and LARS against golden values from PyTorch 1.13's torch.optim.AdamW and MoCo v3's LARS (see
 * src/test/resources/optim/make_golden.py), three steps with changing lr, per-group weight decay and lr
 * scale. Gradients are produced by real backward passes and zeroed between steps with {@link Gradients#zero}.
 */
class OptimizerGoldenTest {

    private static final float TOLERANCE = 1e-6f;
    private static final JsonObject GOLDEN = Golden.load();

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void adamWPretrainBetasMatchPyTorch() {
        checkAgainstGolden("adamw_pretrain", groups -> AdamW.forPretraining(groups, manager));
    }

    @Test
    void adamWFinetuneBetasMatchPyTorch() {
        checkAgainstGolden("adamw_finetune", groups -> AdamW.forFinetuning(groups, manager));
    }

    @Test
    void larsMatchesMocoV3() {
        checkAgainstGolden("lars", groups -> Lars.withReferenceSettings(groups, manager));
    }

    @Test
    void adamWFirstStepByHand() {
        // Step 1: m̂ = g and v̂ = g², so p ← p(1 − lr·wd) − lr·g/(|g| + eps).
        Map<String, NDArray> params = params(Map.of("w", new float[] {0.5f, -1f}));
        AdamW adam = AdamW.forPretraining(List.of(new ParamGroup("decay", List.of("w"), 0.05, 1.0)), manager);
        setGradients(params, Map.of("w", new float[] {0.1f, -0.2f}));
        adam.step(params, 0.1);
        double w0 = 0.5 * (1 - 0.1 * 0.05) - 0.1 * 0.1 / (0.1 + 1e-8);
        double w1 = -1.0 * (1 - 0.1 * 0.05) + 0.1 * 0.2 / (0.2 + 1e-8);
        assertArrayEquals(new float[] {(float) w0, (float) w1}, params.get("w").toFloatArray(), TOLERANCE);
        assertEquals(1, adam.stepCount());
        // exp_avg = (1 − β1)·g, exp_avg_sq = (1 − β2)·g²
        assertArrayEquals(new float[] {0.01f, -0.02f},
                adam.state().tensors().get("exp_avg.w").toFloatArray(), TOLERANCE);
        assertArrayEquals(new float[] {0.05f * 0.01f, 0.05f * 0.04f},
                adam.state().tensors().get("exp_avg_sq.w").toFloatArray(), TOLERANCE);
    }

    @Test
    void adamWOnTensorsLongEnoughForTheVectorisedKernelFollowsTheFormula() {
        // The golden tensors are a few elements, which libtorch's fused kernel handles in its scalar tail; 10,007
        // elements (not a multiple of any vector width) go through its SIMD loop too. Reference: the formula in
        // double precision, three steps with changing lr and gradients, two groups (with and without decay).
        int n = 10_007;
        java.util.Random random = new java.util.Random(7);
        float[] w = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) random.nextGaussian();
            b[i] = (float) random.nextGaussian();
        }
        Map<String, NDArray> params = params(Map.of("w", w.clone(), "b", b.clone()));
        AdamW adam = AdamW.forPretraining(List.of(new ParamGroup("decay", List.of("w"), 0.05, 1.0),
                new ParamGroup("no_decay", List.of("b"), 0.0, 0.5)), manager);
        double[][] expected = {toDouble(w), toDouble(b)};
        double[][] m = new double[2][n];
        double[][] v = new double[2][n];
        double[] decay = {0.05, 0.0};
        double[] lrScale = {1.0, 0.5};
        for (int step = 1; step <= 3; step++) {
            double lr = 1e-2 / step;
            float[][] grads = new float[2][n];
            for (float[] g : grads) {
                for (int i = 0; i < n; i++) {
                    g[i] = (float) (random.nextGaussian() * 1e-2);
                }
            }
            Gradients.zero(params, List.of("w", "b"));
            setGradients(params, Map.of("w", grads[0], "b", grads[1]));
            adam.step(params, lr);
            for (int k = 0; k < 2; k++) {
                double groupLr = lr * lrScale[k];
                double bc1 = 1 - Math.pow(0.9, step);
                double bc2Sqrt = Math.sqrt(1 - Math.pow(0.95, step));
                for (int i = 0; i < n; i++) {
                    double g = grads[k][i];
                    expected[k][i] *= 1 - groupLr * decay[k];
                    m[k][i] = 0.9 * m[k][i] + 0.1 * g;
                    v[k][i] = 0.95 * v[k][i] + 0.05 * g * g;
                    expected[k][i] -= groupLr / bc1 * m[k][i] / (Math.sqrt(v[k][i]) / bc2Sqrt + 1e-8);
                }
            }
        }
        assertArrayEquals(toFloat(expected[0]), params.get("w").toFloatArray(), 2e-6f);
        assertArrayEquals(toFloat(expected[1]), params.get("b").toFloatArray(), 2e-6f);
        assertEquals(3, adam.stepCount());
    }

    private static double[] toDouble(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    private static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    @Test
    void larsFirstStepByHand() {
        // w = [3, 4] (‖w‖ = 5), g = [0, 1], wd 0.5 → d = [1.5, 3], ‖d‖ = sqrt(11.25);
        // q = 0.001·5/‖d‖; μ = d·q; w ← w − lr·μ.   b (1-D) = [2], g = [1] → μ = 1, b ← 2 − lr.
        Map<String, NDArray> params = params(Map.of("w", new float[] {3f, 4f}, "b", new float[] {2f}));
        params.put("w", reshape(params.get("w"), new Shape(1, 2)));
        Lars lars = Lars.withReferenceSettings(List.of(new ParamGroup("all", List.of("w", "b"), 0.5, 1.0)), manager);
        setGradients(params, Map.of("w", new float[] {0f, 1f}, "b", new float[] {1f}));
        lars.step(params, 0.2);
        double q = 0.001 * 5 / Math.sqrt(1.5 * 1.5 + 3 * 3);
        assertArrayEquals(new float[] {(float) (3 - 0.2 * 1.5 * q), (float) (4 - 0.2 * 3 * q)},
                params.get("w").toFloatArray(), TOLERANCE);
        assertArrayEquals(new float[] {1.8f}, params.get("b").toFloatArray(), TOLERANCE);
    }

    @Test
    void frozenParameterInAGroupIsAClearError() {
        Map<String, NDArray> params = new LinkedHashMap<>();
        params.put("pos_embed", manager.create(new float[] {1f, 2f}));
        AdamW adam = AdamW.forPretraining(List.of(new ParamGroup("decay", List.of("pos_embed"), 0.05, 1.0)), manager);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> adam.step(params, 0.1));
        assertTrue(e.getMessage().contains("'pos_embed'"), e.getMessage());
    }

    @Test
    void aBadGroupFailsTheStepBeforeAnythingChanges() {
        Map<String, NDArray> params = params(Map.of("w", new float[] {1f, 2f}));
        params.put("pos_embed", manager.create(new float[] {0f}));
        setGradients(params, Map.of("w", new float[] {1f, 1f}));
        AdamW adam = AdamW.forPretraining(List.of(new ParamGroup("a", List.of("w"), 0.05, 1.0),
                new ParamGroup("b", List.of("pos_embed"), 0.0, 1.0)), manager);
        assertThrows(IllegalStateException.class, () -> adam.step(params, 0.1));
        assertArrayEquals(new float[] {1f, 2f}, params.get("w").toFloatArray(), 0f);
        assertEquals(0, adam.stepCount());
    }

    @Test
    void unknownParameterIsAClearError() {
        Map<String, NDArray> params = params(Map.of("w", new float[] {1f}));
        AdamW adam = AdamW.forPretraining(List.of(new ParamGroup("decay", List.of("head.weight"), 0.05, 1.0)), manager);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adam.step(params, 0.1));
        assertTrue(e.getMessage().contains("'head.weight'"), e.getMessage());
    }

    @Test
    void savedStateRestoresIntoAFreshOptimizerAndContinuesIdentically() {
        JsonObject golden = GOLDEN.getAsJsonObject("adamw_pretrain");
        Map<String, NDArray> params = initialParams(List.of("w", "b"));
        AdamW first = AdamW.forPretraining(groups(golden), manager);
        runSteps(first, params, 0, 2);
        // Copy the state out (as a checkpoint would), restore it into a new optimizer, take step 3.
        Map<String, NDArray> copies = new LinkedHashMap<>();
        first.state().tensors().forEach((k, v) -> copies.put(k, v.duplicate()));
        AdamW second = AdamW.forPretraining(groups(golden), manager);
        second.loadState(new OptimizerState(AdamW.KIND, first.stepCount(), copies), params);
        copies.values().forEach(NDArray::close); // the optimizer keeps its own copies
        assertEquals(2, second.stepCount());
        runSteps(second, params, 2, 3);
        assertParamsEqual(golden.getAsJsonArray("params_after_step").get(2).getAsJsonObject(), params);
    }

    @Test
    void stateOfTheWrongShapeIsRejectedNamingTheTensor() {
        Map<String, NDArray> params = initialParams(List.of("w", "b"));
        AdamW adam = AdamW.forPretraining(groups(GOLDEN.getAsJsonObject("adamw_pretrain")), manager);
        Map<String, NDArray> bad = new LinkedHashMap<>();
        bad.put("exp_avg.w", manager.zeros(new Shape(3, 2)));
        bad.put("exp_avg_sq.w", manager.zeros(new Shape(2, 3)));
        bad.put("exp_avg.b", manager.zeros(new Shape(3)));
        bad.put("exp_avg_sq.b", manager.zeros(new Shape(3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> adam.loadState(new OptimizerState(AdamW.KIND, 5, bad), params));
        assertTrue(e.getMessage().contains("'exp_avg.w'") && e.getMessage().contains("(3, 2)"), e.getMessage());
        bad.remove("exp_avg.b");
        e = assertThrows(IllegalArgumentException.class,
                () -> adam.loadState(new OptimizerState(AdamW.KIND, 5, bad), params));
        assertTrue(e.getMessage().contains("missing [exp_avg.b]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> adam.loadState(new OptimizerState(Lars.KIND, 5, bad), params));
        assertTrue(e.getMessage().contains("'lars'"), e.getMessage());
    }

    private void checkAgainstGolden(String key, java.util.function.Function<List<ParamGroup>, StatefulOptimizer> make) {
        JsonObject golden = GOLDEN.getAsJsonObject(key);
        List<String> names = new ArrayList<>();
        golden.getAsJsonArray("params_after_step").get(0).getAsJsonObject().keySet().forEach(names::add);
        Map<String, NDArray> params = initialParams(names);
        StatefulOptimizer optimizer = make.apply(groups(golden));
        JsonArray expected = golden.getAsJsonArray("params_after_step");
        for (int step = 0; step < expected.size(); step++) {
            runSteps(optimizer, params, step, step + 1);
            assertParamsEqual(expected.get(step).getAsJsonObject(), params);
        }
        assertEquals(expected.size(), optimizer.stepCount());
        JsonObject expectedState = golden.getAsJsonObject("state");
        Map<String, NDArray> state = optimizer.state().tensors();
        assertEquals(expectedState.keySet(), state.keySet());
        for (String k : expectedState.keySet()) {
            assertArrayEquals(Golden.flat(expectedState.get(k)), state.get(k).toFloatArray(), TOLERANCE, k);
        }
    }

    private void runSteps(StatefulOptimizer optimizer, Map<String, NDArray> params, int from, int to) {
        JsonArray grads = GOLDEN.getAsJsonArray("grads");
        JsonArray lrs = GOLDEN.getAsJsonArray("lrs");
        for (int step = from; step < to; step++) {
            JsonObject g = grads.get(step).getAsJsonObject();
            Map<String, float[]> values = new LinkedHashMap<>();
            for (String name : params.keySet()) {
                values.put(name, Golden.flat(g.get(name)));
            }
            Gradients.zero(params, params.keySet());
            setGradients(params, values);
            optimizer.step(params, lrs.get(step).getAsDouble());
        }
    }

    /** Makes each gradient equal {@code values} by back-propagating Σ p·c (on top of what is there). */
    private void setGradients(Map<String, NDArray> params, Map<String, float[]> values) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = null;
            for (Map.Entry<String, float[]> e : values.entrySet()) {
                NDArray p = params.get(e.getKey());
                NDArray c = manager.create(e.getValue(), p.getShape());
                NDArray term = p.mul(c).sum();
                loss = loss == null ? term : loss.add(term);
            }
            collector.backward(loss);
        }
    }

    private Map<String, NDArray> initialParams(List<String> names) {
        JsonObject init = GOLDEN.getAsJsonObject("init");
        Map<String, NDArray> params = new LinkedHashMap<>();
        for (String name : names) {
            JsonElement value = init.get(name);
            NDArray p = manager.create(Golden.flat(value), new Shape(Golden.shape(value)));
            p.setRequiresGradient(true);
            params.put(name, p);
        }
        return params;
    }

    private Map<String, NDArray> params(Map<String, float[]> values) {
        Map<String, NDArray> params = new LinkedHashMap<>();
        values.forEach((name, v) -> {
            NDArray p = manager.create(v);
            p.setRequiresGradient(true);
            params.put(name, p);
        });
        return params;
    }

    private static NDArray reshape(NDArray p, Shape shape) {
        NDArray r = p.stopGradient().reshape(shape);
        r.setRequiresGradient(true);
        return r;
    }

    private static List<ParamGroup> groups(JsonObject golden) {
        List<ParamGroup> groups = new ArrayList<>();
        int i = 0;
        for (JsonElement e : golden.getAsJsonArray("groups")) {
            JsonObject g = e.getAsJsonObject();
            List<String> names = new ArrayList<>();
            g.getAsJsonArray("names").forEach(n -> names.add(n.getAsString()));
            groups.add(new ParamGroup("g" + i++, names, g.get("weight_decay").getAsDouble(),
                    g.get("lr_scale").getAsDouble()));
        }
        return groups;
    }

    private static void assertParamsEqual(JsonObject expected, Map<String, NDArray> params) {
        for (String name : expected.keySet()) {
            assertArrayEquals(Golden.flat(expected.get(name)), params.get(name).toFloatArray(), TOLERANCE, name);
        }
    }
}
