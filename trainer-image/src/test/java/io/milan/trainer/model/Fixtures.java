package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** Shared test helpers: the PyTorch-made fixtures (tools/make_model_golden.py) and float comparisons. */
final class Fixtures {

    /** Shapes of the fixtures' tiny models (must match make_model_golden.py). */
    static final ViTConfig TINY_ENCODER = new ViTConfig(16, 4, 3, 16, 2, 2, 4, 0);

    static DecoderConfig tinyDecoder(boolean prompting) {
        return new DecoderConfig(12, 2, 3, 4, 8, prompting);
    }

    private Fixtures() {
    }

    static Path resource(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/model/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource model/" + name + " is missing", e);
        }
    }

    static Map<String, NDArray> load(String name, NDManager manager) throws IOException {
        return SafeTensors.read(resource(name), manager).tensors();
    }

    /**
     * Every element within {@code tol · max(1, |expected|)}. The golden values are float64 results on
     * float32-exact inputs, so a float32 forward of these tiny models lands within ~1e-6 of them.
     */
    static void assertClose(NDArray expected, NDArray actual, double tol, String what) {
        assertArrayEquals(expected.getShape().getShape(), actual.getShape().getShape(), what + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs(e[i] - a[i]) / Math.max(1, Math.abs(e[i]));
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        assertTrue(worst <= tol, what + ": worst scaled error " + worst + " at element " + worstAt + " (expected "
                + (worstAt >= 0 ? e[worstAt] : 0) + ", got " + (worstAt >= 0 ? a[worstAt] : 0) + ")");
    }

    /** Standard normal values from a seeded Java Random (reproducible test inputs). */
    static NDArray randn(NDManager manager, Random random, long... shape) {
        Shape s = new Shape(shape);
        float[] v = new float[(int) s.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return manager.create(v, s);
    }

    static double maxAbsDiff(NDArray x, NDArray y) {
        float[] a = x.toFloatArray();
        float[] b = y.toFloatArray();
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}
