package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FeatureLossTest {

    private NDManager m;

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    private float loss(float[] pred, float[] target, Shape shape) {
        return FeatureLoss.cosine(m.create(pred, shape), m.create(target, shape)).getFloat();
    }

    @Test
    void knownVectors() {
        Shape one = new Shape(1, 1, 3);
        assertEquals(0f, loss(new float[] {1, 2, 3}, new float[] {1, 2, 3}, one), 1e-6f, "identical");
        assertEquals(4f, loss(new float[] {1, 2, 3}, new float[] {-1, -2, -3}, one), 1e-6f, "opposite");
        assertEquals(2f, loss(new float[] {1, 0, 0}, new float[] {0, 5, 0}, one), 1e-6f, "orthogonal");
        // 60 degrees apart: 2 - 2 cos = 1
        assertEquals(1f, loss(new float[] {1, 0, 0}, new float[] {0.5f, (float) Math.sqrt(0.75), 0}, one), 1e-6f);
    }

    @Test
    void eachTokenIsNormalisedSoScaleDoesNotMatter() {
        Shape one = new Shape(1, 1, 3);
        float base = loss(new float[] {1, 2, 3}, new float[] {3, -1, 2}, one);
        assertEquals(base, loss(new float[] {10, 20, 30}, new float[] {0.3f, -0.1f, 0.2f}, one), 1e-6f);
        assertEquals(2 - 2 * (3 - 2 + 6) / 14f, base, 1e-6f);
    }

    @Test
    void meanOverAllTokensOfAllSamples() {
        // 2 samples x 2 tokens: losses 0 (same), 4 (opposite), 2 (orthogonal), 0 (scaled) -> mean 1.5
        float[] pred = {1, 0, 1, 0, 1, 0, 2, 2};
        float[] target = {2, 0, -1, 0, 0, 3, 1, 1};
        assertEquals(1.5f, loss(pred, target, new Shape(2, 2, 2)), 1e-6f);
    }

    @Test
    void zeroVectorGivesAFiniteLossInsteadOfNaN() {
        float l = loss(new float[] {0, 0, 0}, new float[] {1, 2, 3}, new Shape(1, 1, 3));
        assertTrue(Float.isFinite(l));
        assertEquals(2f, l, 1e-6f);
    }

    @Test
    void shapesMustAgree() {
        NDArray a = m.zeros(new Shape(1, 5, 8));
        NDArray b = m.zeros(new Shape(1, 5, 16));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureLoss.cosine(a, b));
        assertEquals("loss: prediction (1, 5, 8) and teacher target (1, 5, 16) must have the same shape",
                e.getMessage());
    }
}
