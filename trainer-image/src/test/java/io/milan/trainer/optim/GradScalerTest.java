package io.milan.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * GradScaler on constructed gradients: the arithmetic of torch.amp.GradScaler (unscale by 1/scale; skip and halve
 * on inf/NaN; double after growth_interval good steps in a row) and the skipped step leaving parameters and AdamW's
 * state alone.
 */
class GradScalerTest {

    private static final List<String> NAMES = List.of("a", "b");

    private NDManager manager;
    private Map<String, NDArray> params;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager(Device.cpu());
        params = new LinkedHashMap<>();
        params.put("a", trainable(new float[] {1f, -2f}));
        params.put("b", trainable(new float[] {0.5f}));
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void unscaleDividesTheGradientsByTheScale() {
        try (GradScaler scaler = new GradScaler(manager, Device.cpu())) {
            assertEquals(65536.0, scaler.scaleValue());
            backward(scaler, new float[] {3f, 4f}, new float[] {-1f});
            assertArrayEquals(new float[] {3f * 65536, 4f * 65536}, grad("a"), 0f, "scaled loss, scaled gradients");
            assertFalse(scaler.unscale(params, NAMES));
            assertArrayEquals(new float[] {3f, 4f}, grad("a"), 0f);
            assertArrayEquals(new float[] {-1f}, grad("b"), 0f);
            scaler.update();
            assertEquals(65536.0, scaler.scaleValue());
            assertEquals(1, scaler.growthTracker());
            assertEquals(0, scaler.skippedSteps());
        }
    }

    @Test
    void anInfGradientSkipsTheStepLeavesParametersAndStateAloneAndHalvesTheScale() {
        AdamW adam = AdamW.forPretraining(List.of(new ParamGroup("all", NAMES, 0.05, 1.0)), manager);
        try (GradScaler scaler = new GradScaler(manager, Device.cpu())) {
            // A good step first, so AdamW has state to leave alone.
            backward(scaler, new float[] {1f, 1f}, new float[] {1f});
            assertTrue(OptimizerStep.apply(adam, scaler, params, NAMES, 1.0, 1e-2, 0, 0).applied());
            Gradients.zero(params, NAMES);
            float[] aBefore = params.get("a").toFloatArray();
            float[] bBefore = params.get("b").toFloatArray();
            float[] mBefore = adam.state().tensors().get("exp_avg.a").toFloatArray();
            assertEquals(1, adam.stepCount());

            backward(scaler, new float[] {Float.POSITIVE_INFINITY, 1f}, new float[] {1f});
            OptimizerStep.Outcome outcome = OptimizerStep.apply(adam, scaler, params, NAMES, 1.0, 1e-2, 0, 1);
            assertFalse(outcome.applied(), "an inf gradient skips the step (and is not a clipping failure)");
            assertArrayEquals(aBefore, params.get("a").toFloatArray(), 0f);
            assertArrayEquals(bBefore, params.get("b").toFloatArray(), 0f);
            assertArrayEquals(mBefore, adam.state().tensors().get("exp_avg.a").toFloatArray(), 0f);
            assertEquals(1, adam.stepCount(), "a skipped step is not counted by the optimizer");
            assertEquals(32768.0, scaler.scaleValue(), "backoff 0.5");
            assertEquals(0, scaler.growthTracker());
            assertEquals(1, scaler.skippedSteps());
            Gradients.zero(params, NAMES);

            // NaN too; and the next good step applies.
            backward(scaler, new float[] {Float.NaN, 0f}, new float[] {0f});
            assertFalse(OptimizerStep.apply(adam, scaler, params, NAMES, null, 1e-2, 0, 2).applied());
            assertEquals(16384.0, scaler.scaleValue());
            Gradients.zero(params, NAMES);
            backward(scaler, new float[] {1f, 1f}, new float[] {1f});
            assertTrue(OptimizerStep.apply(adam, scaler, params, NAMES, null, 1e-2, 0, 3).applied());
            assertEquals(2, adam.stepCount());
            assertNotEquals(aBefore[0], params.get("a").toFloatArray()[0]);
            assertEquals(2, scaler.skippedSteps());
        }
    }

    @Test
    void theScaleGrowsAfterGrowthIntervalGoodStepsInARow() {
        try (GradScaler scaler = new GradScaler(manager, Device.cpu(), 8.0, 2.0, 0.5, 3)) {
            double[] expected = {8, 8, 16, 16, 16, 32, 16, 16, 16, 32};
            boolean[] inf = {false, false, false, false, false, false, true, false, false, false};
            for (int step = 0; step < expected.length; step++) {
                backward(scaler, new float[] {inf[step] ? Float.POSITIVE_INFINITY : 1f, 1f}, new float[] {1f});
                assertEquals(inf[step], scaler.unscale(params, NAMES), "step " + step);
                scaler.update();
                Gradients.zero(params, NAMES);
                assertEquals(expected[step], scaler.scaleValue(), "scale after step " + step);
            }
            assertEquals(0, scaler.growthTracker(), "reset by the last growth");
        }
    }

    @Test
    void stateRoundTripsWithPyTorchsKeys() {
        try (GradScaler scaler = new GradScaler(manager, Device.cpu(), 1024.0, 2.0, 0.5, 5);
                GradScaler fresh = new GradScaler(manager, Device.cpu())) {
            for (int step = 0; step < 3; step++) {
                backward(scaler, new float[] {1f, 1f}, new float[] {1f});
                scaler.unscale(params, NAMES);
                scaler.update();
                Gradients.zero(params, NAMES);
            }
            JsonObject state = JsonParser.parseString(scaler.stateJson()).getAsJsonObject();
            assertEquals(1024.0, state.get("scale").getAsDouble());
            assertEquals(3, state.get("_growth_tracker").getAsInt());
            assertEquals(5, state.get("growth_interval").getAsInt());
            assertEquals(2.0, state.get("growth_factor").getAsDouble());
            assertEquals(0.5, state.get("backoff_factor").getAsDouble());
            fresh.loadStateJson(scaler.stateJson());
            assertEquals(scaler.stateJson(), fresh.stateJson());
            assertThrows(IllegalArgumentException.class, () -> fresh.loadStateJson("{\"scale\": 2.0}"));
        }
    }

    @Test
    void updateWithoutUnscaleIsAMisuse() {
        try (GradScaler scaler = new GradScaler(manager, Device.cpu())) {
            assertThrows(IllegalStateException.class, scaler::update);
        }
    }

    private NDArray trainable(float[] values) {
        NDArray p = manager.create(values);
        p.setRequiresGradient(true);
        return p;
    }

    /** Back-propagates scale(Σ a·ca + Σ b·cb). */
    private void backward(GradScaler scaler, float[] ca, float[] cb) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = params.get("a").mul(manager.create(ca)).sum()
                    .add(params.get("b").mul(manager.create(cb)).sum());
            collector.backward(scaler.scale(loss));
        }
    }

    private float[] grad(String name) {
        try (NDArray g = params.get(name).getGradient()) {
            return g.toFloatArray();
        }
    }
}
