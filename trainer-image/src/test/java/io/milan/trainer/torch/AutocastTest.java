package io.milan.trainer.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import org.junit.jupiter.api.Test;

/**
 * libtorch's autocast switched on for the thread reaches DJL's ops: the casting rules are PyTorch's (checked against
 * torch 2.7.1, {@code torch.autocast("cpu", dtype=torch.bfloat16)}: linear and matmul → bfloat16; softmax of a
 * float32 tensor stays float32 — on the CPU softmax is not in the lower-precision list and never downcasts; the
 * float32 list is CUDA's — and an elementwise add of bfloat16 and float32 promotes to float32).
 */
class AutocastTest {

    @Test
    void underCpuBf16AutocastDjlLinearIsBf16AndSoftmaxStaysFp32() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.randomNormal(new Shape(4, 8));
            NDArray w = m.randomNormal(new Shape(6, 8));
            NDArray b = m.randomNormal(new Shape(6));
            assertFalse(Autocast.isEnabled(Device.cpu()));
            NDArray y;
            try (Autocast ignored = Autocast.enable(Device.cpu(), DataType.BFLOAT16)) {
                assertTrue(Autocast.isEnabled(Device.cpu()));
                y = Linear.linear(x, w, b).singletonOrThrow();
                assertEquals(DataType.BFLOAT16, TorchOps.dataType(y), "linear under bf16 autocast");
                assertEquals(DataType.BFLOAT16, TorchOps.dataType(x.matMul(w.transpose())), "matmul");
                assertEquals(DataType.FLOAT32, x.softmax(-1).getDataType(), "softmax of a float32 input");
                assertEquals(DataType.FLOAT32, TorchOps.dataType(TorchOps.softmax(x, -1)), "libtorch's softmax too");
                // PyTorch on the CPU: softmax follows its input (its float32 rule is CUDA's). (Through TorchOps:
                // DJL 0.36's own softmax passes the input's dtype, which it cannot name for bfloat16: the JVM aborts.)
                assertEquals(DataType.BFLOAT16, TorchOps.dataType(TorchOps.softmax(y, -1)), "softmax of bfloat16");
                assertEquals(DataType.FLOAT32, TorchOps.dataType(y.add(x.get(":, :6"))), "bf16 + fp32 promotes");
                NDArray ln = LayerNorm.layerNorm(x, new Shape(8), m.ones(new Shape(8)), m.zeros(new Shape(8)), 1e-5f)
                        .singletonOrThrow();
                assertEquals(DataType.FLOAT32, ln.getDataType(), "layer norm of a float32 input");
            }
            assertFalse(Autocast.isEnabled(Device.cpu()), "closing restores the previous state");
            assertEquals(DataType.FLOAT32, Linear.linear(x, w, b).singletonOrThrow().getDataType(),
                    "after the autocast, linear is float32 again");
            // bf16 rounding only: the autocast result is the float32 one to within bf16's 8-bit mantissa.
            NDArray exact = Linear.linear(x, w, b).singletonOrThrow();
            float[] a = y.toType(DataType.FLOAT32, false).toFloatArray();
            float[] e = exact.toFloatArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(e[i], a[i], 0.05 * (1 + Math.abs(e[i])), "element " + i);
            }
        }
    }

    @Test
    void fp16AutocastNestsAndRestoresTheOuterDtype() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.randomNormal(new Shape(2, 3));
            NDArray w = m.randomNormal(new Shape(5, 3));
            try (Autocast outer = Autocast.enable(Device.cpu(), DataType.BFLOAT16)) {
                try (Autocast inner = Autocast.enable(Device.cpu(), DataType.FLOAT16)) {
                    assertEquals(DataType.FLOAT16, TorchOps.dataType(Linear.linear(x, w).singletonOrThrow()));
                }
                assertEquals(DataType.BFLOAT16, TorchOps.dataType(Linear.linear(x, w).singletonOrThrow()));
            }
            assertEquals(DataType.FLOAT32, TorchOps.dataType(Linear.linear(x, w).singletonOrThrow()));
        }
    }

    @Test
    void castIsDifferentiableWhereDjlsToTypeDetaches() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray w = m.randomNormal(new Shape(3, 3));
            w.setRequiresGradient(true);
            try (ai.djl.training.GradientCollector c = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                NDArray half;
                try (Autocast ignored = Autocast.enable(Device.cpu(), DataType.BFLOAT16)) {
                    half = w.matMul(w);
                }
                NDArray full = TorchOps.cast(half, DataType.FLOAT32);
                assertEquals(DataType.FLOAT32, full.getDataType());
                c.backward(full.sum());
            }
            // d/dw Σ(w·w) = 1·wᵀ + wᵀ·1 (rows and columns sums), within bfloat16 rounding.
            float[] grad = w.getGradient().toFloatArray();
            float[] v = w.toFloatArray();
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    double expected = 0;
                    for (int k = 0; k < 3; k++) {
                        expected += v[j * 3 + k] + v[k * 3 + i];
                    }
                    assertEquals(expected, grad[i * 3 + j], 0.05 * (1 + Math.abs(expected)), "grad " + i + "," + j);
                }
            }
        }
    }

    @Test
    void onlyHalfTypes() {
        assertThrows(IllegalArgumentException.class, () -> Autocast.enable(Device.cpu(), DataType.FLOAT32));
    }
}
