package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Comparing trained weights. Splitting a batch changes the order in which per-sample gradients are summed, so
 * weights after a few steps agree with the one-device reference up to float rounding, not bit for bit: we allow
 * 1e-5 absolute + 1e-5 relative, and require training to have moved the weights far more than that.
 */
final class Weights {

    static final double ABSOLUTE = 1e-5;
    static final double RELATIVE = 1e-5;
    /** Training must move some weight by at least this much, or the comparison proves nothing. */
    static final double MINIMUM_MOVEMENT = 0.01;

    private Weights() {
    }

    static void assertClose(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": number of tensors");
        for (int t = 0; t < expected.size(); t++) {
            float[] e = expected.get(t);
            float[] a = actual.get(t);
            assertEquals(e.length, a.length, what + ": size of tensor " + t);
            for (int i = 0; i < e.length; i++) {
                double allowed = ABSOLUTE + RELATIVE * Math.abs(e[i]);
                if (Math.abs(a[i] - e[i]) > allowed) {
                    throw new AssertionError(what + ": tensor " + t + " element " + i + " is " + a[i] + ", expected "
                            + e[i] + " within " + allowed);
                }
            }
        }
    }

    /** The largest change of any weight between two snapshots. */
    static double maxChange(List<float[]> before, List<float[]> after) {
        double max = 0;
        for (int t = 0; t < before.size(); t++) {
            for (int i = 0; i < before.get(t).length; i++) {
                max = Math.max(max, Math.abs(before.get(t)[i] - after.get(t)[i]));
            }
        }
        return max;
    }

    static void write(Path file, List<float[]> tensors) throws IOException {
        int floats = tensors.stream().mapToInt(t -> t.length).sum();
        ByteBuffer bytes = ByteBuffer.allocate(4 + 4 * tensors.size() + 4 * floats).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putInt(tensors.size());
        for (float[] tensor : tensors) {
            bytes.putInt(tensor.length);
            for (float v : tensor) {
                bytes.putFloat(v);
            }
        }
        Files.write(file, bytes.array());
    }

    static List<float[]> read(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<float[]> tensors = new ArrayList<>();
        int count = bytes.getInt();
        for (int t = 0; t < count; t++) {
            float[] tensor = new float[bytes.getInt()];
            for (int i = 0; i < tensor.length; i++) {
                tensor[i] = bytes.getFloat();
            }
            tensors.add(tensor);
        }
        return tensors;
    }
}
