package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Two checkpoint files hold the same tensors bit for bit: what a resumed run must end with. */
final class SameTensors {
    private SameTensors() {
    }

    /** Fails naming the first tensor that differs, with {@code why} after its name. */
    static void assertSame(Path expected, Path actual, String why) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> a = SafeTensors.read(expected, m).tensors();
            Map<String, NDArray> b = SafeTensors.read(actual, m).tensors();
            assertEquals(a.keySet(), b.keySet(), actual + " holds other tensors than " + expected);
            for (String name : a.keySet()) {
                assertTrue(a.get(name).contentEquals(b.get(name)), name + why);
            }
        }
    }
}
