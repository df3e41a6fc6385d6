package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.torch.TorchOps;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * libtorch's scaled_dot_product_attention (through libmilantorch, {@link Layers#attention}) against the explicit
 * path it replaced ({@code attentionWeights(q, k).matMul(v)}), forward and backward, in float32 on the CPU.
 * Tolerance {@value #TOL}: attention outputs, q/k/v gradients, a block's output and input gradient element-wise
 * within TOL · max(1, |explicit|); a block's parameter gradients within TOL · max(1, max |explicit| of the tensor).
 * Both paths are float32 computations of the same formula that differ only in summation order and where the scale
 * is applied (observed worst errors are printed; docs/model.md quotes them).
 */
class FusedAttentionTest {

    /** Scaled error bound, forward and gradients (see the class comment for the scaling). */
    static final double TOL = 1e-5;

    /** q, k, v shapes: self-attention, the prompting decoder's cross-attention (Tq < Tk), ViT-B's, hd not 2^k. */
    private static final long[][][] CASES = {
        {{2, 3, 7, 8}, {2, 3, 7, 8}, {2, 3, 7, 8}},
        {{2, 4, 5, 16}, {2, 4, 13, 16}, {2, 4, 13, 16}},
        {{2, 12, 197, 64}, {2, 12, 197, 64}, {2, 12, 197, 64}},
        {{3, 2, 9, 12}, {3, 2, 11, 12}, {3, 2, 11, 12}},
    };

    /** Worst scaled error seen by each kind of comparison, printed for docs/model.md. */
    private static final Map<String, Double> WORST = new TreeMap<>();

    private NDManager m;

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    @AfterAll
    static void printWorst() {
        WORST.forEach((what, err) -> System.out.printf("FusedAttentionTest worst scaled error, %s: %.2e%n", what, err));
    }

    /**
     * Every element within {@code tol · max(1, |expected|)} (Fixtures.assertClose), or with {@code perTensor}
     * within {@code tol · max(1, max |expected|)}: parameter gradients are sums over all tokens and samples, and an
     * element that such a sum brings near zero keeps the rounding of its large terms. The worst error is
     * remembered under the test's kind.
     */
    private static void assertClose(NDArray expected, NDArray actual, double tol, String what, boolean perTensor) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, what + ": size");
        double tensorScale = perTensor ? Math.max(1, expected.abs().max().getFloat()) : 1;
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs(e[i] - a[i]) / Math.max(tensorScale, Math.abs(e[i]));
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        String kind = perTensor ? "block parameter gradients (per tensor)" : what.equals("d loss / d x")
                ? "block input gradient" : what.startsWith("d loss") ? "q, k, v gradients"
                : what.startsWith("block") ? "block output" : "attention output";
        WORST.merge(kind, worst, Math::max);
        assertTrue(worst <= tol, what + ": worst scaled error " + worst + " at element " + worstAt + " (expected "
                + (worstAt >= 0 ? e[worstAt] : 0) + ", got " + (worstAt >= 0 ? a[worstAt] : 0) + ")");
    }

    private static void assertClose(NDArray expected, NDArray actual, double tol, String what) {
        assertClose(expected, actual, tol, what, false);
    }

    private static NDArray explicit(NDArray q, NDArray k, NDArray v) {
        return Layers.attentionWeights(q, k).matMul(v);
    }

    @Test
    void forwardEqualsTheExplicitPath() {
        Random r = new Random(1);
        for (long[][] c : CASES) {
            NDArray q = Fixtures.randn(m, r, c[0]);
            NDArray k = Fixtures.randn(m, r, c[1]);
            NDArray v = Fixtures.randn(m, r, c[2]);
            NDArray fused = Layers.attention(q, k, v);
            assertSame(q.getManager(), fused.getManager(), "the result belongs to the query's manager");
            assertClose(explicit(q, k, v), fused, TOL, "sdpa " + q.getShape() + " x " + k.getShape());
        }
        // An explicit scale replaces hd^-0.5.
        NDArray q = Fixtures.randn(m, r, 2, 3, 6, 8);
        NDArray k = Fixtures.randn(m, r, 2, 3, 6, 8);
        NDArray v = Fixtures.randn(m, r, 2, 3, 6, 8);
        NDArray expected = Layers.scale(q, 0.3).matMul(k.transpose(0, 1, 3, 2)).softmax(-1).matMul(v);
        assertClose(expected, TorchOps.scaledDotProductAttention(q, k, v, 0.3), TOL, "sdpa with scale 0.3");
    }

    @Test
    void gradientsOfQueryKeyAndValueEqualTheExplicitPath() {
        long seed = 2;
        for (long[][] c : CASES) {
            seed++;
            Map<String, NDArray> fused = attentionGradients(c, seed, true);
            Map<String, NDArray> expected = attentionGradients(c, seed, false);
            for (String name : expected.keySet()) {
                assertTrue(fused.get(name).abs().max().getFloat() > 0, "no gradient reached " + name);
                assertClose(expected.get(name), fused.get(name), TOL,
                        "d loss / d " + name + " " + Arrays.toString(c[0]) + " x " + Arrays.toString(c[1]));
            }
        }
    }

    /** d(Σ out ⊙ w)/d{q, k, v} for q, k, v, w drawn from {@code seed}, through the fused or the explicit path. */
    private Map<String, NDArray> attentionGradients(long[][] c, long seed, boolean fusedPath) {
        Random r = new Random(seed);
        NDArray q = Fixtures.randn(m, r, c[0]);
        NDArray k = Fixtures.randn(m, r, c[1]);
        NDArray v = Fixtures.randn(m, r, c[2]);
        long[] outShape = c[0].clone();
        outShape[3] = c[2][3];
        NDArray w = Fixtures.randn(m, r, outShape);
        for (NDArray a : new NDArray[] {q, k, v}) {
            a.setRequiresGradient(true);
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray out = fusedPath ? Layers.attention(q, k, v) : explicit(q, k, v);
            gc.backward(out.mul(w).sum());
        }
        return new TreeMap<>(Map.of("q", q.getGradient(), "k", k.getGradient(), "v", v.getGradient()));
    }

    /**
     * One encoder block (TransformerBlock: the fused path in forward, the explicit one in forwardWithClsAttention,
     * otherwise the same code): equal outputs, input gradient and gradients of every parameter.
     */
    @Test
    void encoderBlockOutputAndParameterGradientsEqualTheExplicitPath() {
        Result fused = blockStep(true);
        Result explicit = blockStep(false);
        assertClose(explicit.out, fused.out, TOL, "block output");
        assertClose(explicit.inputGrad, fused.inputGrad, TOL, "d loss / d x");
        assertEquals(explicit.paramGrads.keySet(), fused.paramGrads.keySet());
        assertEquals(12, fused.paramGrads.size());
        for (String name : explicit.paramGrads.keySet()) {
            NDArray g = fused.paramGrads.get(name);
            assertTrue(g.abs().sum().getFloat() > 0, name + " got no gradient");
            assertClose(explicit.paramGrads.get(name), g, TOL, "d loss / d " + name, true);
        }
    }

    private record Result(NDArray out, NDArray inputGrad, Map<String, NDArray> paramGrads) {
    }

    /** A ViT-S-like block (dim 64, 4 heads of 16, MLP 256) on x [2, 50, 64] (cls + 49 visible tokens). */
    private Result blockStep(boolean fusedPath) {
        NamedParameters.Builder b = NamedParameters.builder(m);
        TransformerBlock.addParameters(b, "blocks.0", 64, 256, new Random(3));
        NamedParameters p = b.build();
        // Non-zero biases and LayerNorm affine, so every parameter's gradient goes through the attention.
        Random r = new Random(4);
        for (Map.Entry<String, NDArray> e : p.asMap().entrySet()) {
            if (!e.getKey().endsWith("qkv.weight") && !e.getKey().endsWith("fc1.weight")
                    && !e.getKey().endsWith("fc2.weight") && !e.getKey().endsWith("proj.weight")) {
                try (GradMode ignored = GradMode.disabled()) {
                    e.getValue().addi(Fixtures.randn(m, r, e.getValue().getShape().getShape()).mul(0.1f));
                }
            }
        }
        TransformerBlock block = new TransformerBlock(p, "blocks.0", 4, 0);
        NDArray x = Fixtures.randn(m, new Random(5), 2, 50, 64);
        NDArray w = Fixtures.randn(m, new Random(6), 2, 50, 64);
        x.setRequiresGradient(true);
        NDArray out;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            out = fusedPath ? block.forward(x, null) : block.forwardWithClsAttention(x).tokens();
            gc.backward(out.mul(w).sum());
        }
        Map<String, NDArray> grads = new TreeMap<>();
        p.trainable().forEach((name, a) -> grads.put(name, a.getGradient()));
        return new Result(out, x.getGradient(), grads);
    }

    @Test
    void refusedShapesFailNamingTheOpAndTheShapes() {
        NDArray q = m.zeros(new Shape(2, 3, 5, 8));
        NDArray k = m.zeros(new Shape(2, 3, 6, 8));
        NDArray v = m.zeros(new Shape(2, 3, 7, 8));
        EngineException e = assertThrows(EngineException.class, () -> TorchOps.scaledDotProductAttention(q, k, v));
        String message = e.getMessage();
        assertTrue(message.startsWith("scaled_dot_product_attention(query [2, 3, 5, 8] Float on cpu, key [2, 3, 6,"
                + " 8] Float on cpu, value [2, 3, 7, 8] Float on cpu) failed: "), message);
        assertFalse(message.contains("Exception raised from"), "no C++ backtrace: " + message);
        assertTrue(message.contains("key and value must have the same length"), message);
        assertThrows(IllegalArgumentException.class, () -> TorchOps.scaledDotProductAttention(q, q, q, -1));
        NDArray wrongWidth = m.zeros(new Shape(2, 3, 6, 4));
        assertTrue(assertThrows(EngineException.class, () -> TorchOps.scaledDotProductAttention(q, wrongWidth,
                wrongWidth)).getMessage().contains("same feature size"));
    }
}
