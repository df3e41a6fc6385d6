package io.milan.trainer.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The TF32 switches (--tf32) and argument checks of libmilantorch's plain ops; attention: FusedAttentionTest. */
class TorchOpsTest {

    private TorchOps.Tf32 before;

    @BeforeEach
    void remember() {
        before = TorchOps.tf32();
    }

    @AfterEach
    void restore() {
        TorchOps.setTf32(before.matmul(), before.cudnn());
    }

    @Test
    void libtorchStartsWithPyTorchsDefaultsAndTheSwitchesAreSet() {
        // PyTorch's defaults (matmul TF32 off since 1.12, cuDNN on) unless TORCH_ALLOW_TF32_CUBLAS_OVERRIDE is set.
        if (System.getenv("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE") == null) {
            assertEquals(new TorchOps.Tf32(false, true), before);
        }
        for (boolean matmul : new boolean[] {true, false}) {
            for (boolean cudnn : new boolean[] {true, false}) {
                TorchOps.setTf32(matmul, cudnn);
                assertEquals(new TorchOps.Tf32(matmul, cudnn), TorchOps.tf32());
            }
        }
    }

    @Test
    void onTheCpuTheFlagChangesNothing() {
        TorchOps.setTf32(false, true);
        assertNull(TorchOps.configureTf32(Device.cpu(), true));
        assertEquals(new TorchOps.Tf32(false, true), TorchOps.tf32());
        // And CPU matmuls ignore the switch anyway: bit-identical results with matmul TF32 allowed.
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Random r = new Random(1);
            float[] a = new float[257 * 129];
            float[] b = new float[129 * 65];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) r.nextGaussian();
            }
            NDArray x = m.create(a, new Shape(257, 129));
            NDArray y = m.create(b, new Shape(129, 65));
            float[] full = x.matMul(y).toFloatArray();
            TorchOps.setTf32(true, true);
            assertArrayEquals(full, x.matMul(y).toFloatArray());
        }
    }

    @Test
    void attentionRefusesArraysOfAnotherEngineAndBadScales() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray q = m.zeros(new Shape(1, 1, 2, 4));
            assertThrows(IllegalArgumentException.class, () -> TorchOps.scaledDotProductAttention(null, q, q));
            assertThrows(IllegalArgumentException.class,
                    () -> TorchOps.scaledDotProductAttention(q, q, q, Double.NaN));
            assertThrows(IllegalArgumentException.class,
                    () -> TorchOps.scaledDotProductAttention(q, q, q, Double.POSITIVE_INFINITY));
        }
    }
}
