package io.milan.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GradientsTest {

    private NDManager manager;
    private Map<String, NDArray> params;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
        params = new LinkedHashMap<>();
        params.put("a", trainable(new float[] {1f, 1f}));
        params.put("b", trainable(new float[] {1f}));
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void clipScalesByMaxNormOverTotalNorm() {
        backward(new float[] {3f, 4f}, new float[] {12f});      // ‖g‖ = sqrt(9 + 16 + 144) = 13
        double norm = Gradients.clipGlobalNorm(params, List.of("a", "b"), 6.5);
        assertEquals(13.0, norm, 1e-6);
        double coef = 6.5 / (13.0 + 1e-6);
        assertArrayEquals(new float[] {(float) (3 * coef), (float) (4 * coef)}, grad("a"), 1e-6f);
        assertArrayEquals(new float[] {(float) (12 * coef)}, grad("b"), 1e-6f);
        assertEquals(6.5, Gradients.globalNorm(params, List.of("a", "b")), 1e-5);
    }

    @Test
    void clipLeavesSmallGradientsAlone() {
        backward(new float[] {3f, 4f}, new float[] {12f});
        assertEquals(13.0, Gradients.clipGlobalNorm(params, List.of("a", "b"), 20.0), 1e-6);
        assertArrayEquals(new float[] {3f, 4f}, grad("a"), 0f);
        assertArrayEquals(new float[] {12f}, grad("b"), 0f);
    }

    @Test
    void gradientsAccumulateUntilZeroed() {
        backward(new float[] {3f, 4f}, new float[] {12f});
        backward(new float[] {1f, 1f}, new float[] {1f});
        assertArrayEquals(new float[] {4f, 5f}, grad("a"), 0f);
        Gradients.zero(params, List.of("a", "b"));
        assertArrayEquals(new float[] {0f, 0f}, grad("a"), 0f);
        assertArrayEquals(new float[] {0f}, grad("b"), 0f);
        backward(new float[] {2f, 0f}, new float[] {5f});
        assertArrayEquals(new float[] {2f, 0f}, grad("a"), 0f);
    }

    @Test
    void nonFiniteNormIsReturnedAndLeavesGradientsUntouched() {
        backward(new float[] {Float.NaN, 1f}, new float[] {1f});
        double norm = Gradients.clipGlobalNorm(params, List.of("a", "b"), 1.0);
        assertTrue(Double.isNaN(norm));
        assertArrayEquals(new float[] {1f}, grad("b"), 0f);
        NonFiniteCheck.NonFiniteException e = assertThrows(NonFiniteCheck.NonFiniteException.class,
                () -> NonFiniteCheck.requireFiniteGradNorm(norm, 2, 40));
        assertTrue(e.getMessage().contains("Gradient norm is NaN at epoch 2, iteration 40"), e.getMessage());
    }

    @Test
    void nonFiniteLossMessageSaysWhereAndWhatHappens() {
        assertEquals(0.25, NonFiniteCheck.requireFiniteLoss(0.25, 0, 0, 1e-3), 0.0);
        NonFiniteCheck.NonFiniteException e = assertThrows(NonFiniteCheck.NonFiniteException.class,
                () -> NonFiniteCheck.requireFiniteLoss(Double.POSITIVE_INFINITY, 3, 17, 2.4e-3));
        assertEquals("Loss is Infinity at epoch 3, iteration 17 (lr 0.00240000); stopping training. No checkpoint"
                + " is written for this epoch; the last saved checkpoint is kept.", e.getMessage());
    }

    private NDArray trainable(float[] values) {
        NDArray p = manager.create(values);
        p.setRequiresGradient(true);
        return p;
    }

    /** Back-propagates Σ a·ca + Σ b·cb, adding ca and cb to the gradients. */
    private void backward(float[] ca, float[] cb) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = params.get("a").mul(manager.create(ca)).sum()
                    .add(params.get("b").mul(manager.create(cb)).sum());
            collector.backward(loss);
        }
    }

    private float[] grad(String name) {
        try (NDArray g = params.get(name).getGradient()) {
            return g.toFloatArray();
        }
    }
}
