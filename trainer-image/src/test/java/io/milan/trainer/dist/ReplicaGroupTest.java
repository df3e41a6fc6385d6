package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Several model replicas in one process (CPU stands in for the GPUs) train exactly like one device. */
class ReplicaGroupTest {

    private static final int STEPS = 5;
    private static final int GLOBAL_BATCH = 8;

    @ParameterizedTest(name = "{0} replicas")
    @ValueSource(ints = {2, 4})
    void replicasWithEqualSlicesTrainLikeOneDeviceWithTheWholeBatch(int count) {
        try (NDManager manager = NDManager.newBaseManager()) {
            List<float[]> initial = TinyMlp.values(TinyMlp.init(manager, 1));
            List<float[]> reference = TinyMlp.trainOnOneDevice(manager, STEPS, GLOBAL_BATCH);

            List<Map<String, NDArray>> replicas = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                replicas.add(TinyMlp.init(manager, i == 0 ? 1 : 50 + i)); // others start wrong on purpose
            }
            ReplicaGroup group = new ReplicaGroup(replicas);
            group.copyWeightsFromPrimary();
            assertSameValues(replicas);

            for (int step = 0; step < STEPS; step++) {
                NDArray[] batch = TinyMlp.batch(manager, step, GLOBAL_BATCH);
                TinyMlp.backward(replicas, group.split(batch[0]), group.split(batch[1]));
                group.averageGradients();
                for (int i = 1; i < count; i++) {
                    for (NDArray param : replicas.get(i).values()) {
                        assertEquals(0f, param.getGradient().abs().max().getFloat(), "replica " + i + " gradient");
                    }
                }
                TinyMlp.sgdStep(group.primary());
                group.copyWeightsFromPrimary();
            }

            List<float[]> trained = TinyMlp.values(group.primary());
            assertTrue(Weights.maxChange(initial, trained) > Weights.MINIMUM_MOVEMENT, "training moved the weights");
            Weights.assertClose(reference, trained, count + " replicas vs one device");
            assertSameValues(replicas);
        }
    }

    @ParameterizedTest(name = "{0} samples over 2 replicas")
    @ValueSource(ints = {1, 3, 7})
    void aBatchThatDoesNotDivideIsRefused(int samples) {
        try (NDManager manager = NDManager.newBaseManager()) {
            ReplicaGroup group = new ReplicaGroup(List.of(TinyMlp.init(manager, 1), TinyMlp.init(manager, 2)));
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> group.split(manager.zeros(new Shape(samples, 4))));
            assertTrue(error.getMessage().startsWith("a batch of " + samples + " samples cannot be split evenly over"
                    + " 2 devices"), error.getMessage());
        }
    }

    @ParameterizedTest(name = "replica 1 differs: {0}")
    @ValueSource(strings = {"shape", "names"})
    void replicasMustHaveTheSameParameters(String difference) {
        try (NDManager manager = NDManager.newBaseManager()) {
            LinkedHashMap<String, NDArray> other = TinyMlp.init(manager, 2);
            if (difference.equals("shape")) {
                other.put("fc2.bias", manager.zeros(new Shape(4)));
            } else {
                other.remove("fc1.bias");
            }
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> new ReplicaGroup(List.of(TinyMlp.init(manager, 1), other)));
            assertTrue(error.getMessage().contains("replica 1"), error.getMessage());
        }
    }

    private static void assertSameValues(List<Map<String, NDArray>> replicas) {
        List<float[]> primary = TinyMlp.values(replicas.get(0));
        for (int i = 1; i < replicas.size(); i++) {
            List<float[]> theirs = TinyMlp.values(replicas.get(i));
            for (int t = 0; t < primary.size(); t++) {
                assertArrayEquals(primary.get(t), theirs.get(t), "replica " + i + " tensor " + t);
            }
        }
    }
}
