package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Gradients of named DJL arrays, averaged across ranks (threads on loopback) in buckets, in place. */
class GradientBucketerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int WORLD = 3;

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void bucketsKeepOrderAndSizeAndLargeTensorsGoAlone() {
        Map<String, NDArray> params = parameters(0);
        try (GradientBucketer bucketer = new GradientBucketer(params, 64 * Float.BYTES)) {
            assertEquals(List.of(List.of("a", "b"), List.of("big"), List.of("c", "scalar", "empty", "d")),
                    bucketer.layout(), "frozen 'frozen' is left out; 'big' (100 floats) is alone");
        }
    }

    @Test
    void everyRanksGradientsBecomeTheirMeanInPlace() {
        List<Map<String, NDArray>> perRank = new ArrayList<>();
        for (int rank = 0; rank < WORLD; rank++) {
            perRank.add(parameters(rank));
            giveGradients(perRank.get(rank), rank);
        }
        List<Map<String, float[]>> before = new ArrayList<>();
        perRank.forEach(params -> before.add(gradients(params)));

        ThreadRanks.run(WORLD, 256, TIMEOUT, group -> {
            try (GradientBucketer bucketer = new GradientBucketer(perRank.get(group.rank()), 64 * Float.BYTES)) {
                assertEquals(3, bucketer.layout().size(), "several buckets, so they pipeline");
                bucketer.allReduceMean(group);
            }
            return null;
        });

        for (String name : before.get(0).keySet()) {
            List<float[]> inputs = new ArrayList<>();
            List<float[]> results = new ArrayList<>();
            for (int rank = 0; rank < WORLD; rank++) {
                inputs.add(before.get(rank).get(name));
                results.add(gradients(perRank.get(rank)).get(name)); // read back through getGradient()
            }
            AllReduceExpectations.assertMean(inputs, results);
        }
        for (int rank = 0; rank < WORLD; rank++) {
            assertFalse(perRank.get(rank).get("frozen").hasGradient(), "the frozen parameter stays frozen");
            assertArrayEquals(new float[] {rank, rank}, perRank.get(rank).get("frozen").toFloatArray(),
                    "the frozen parameter is untouched");
        }
    }

    @Test
    void onlyFloat32GradientsAreAccepted() {
        Map<String, NDArray> params = new LinkedHashMap<>();
        NDArray half = manager.ones(new Shape(3), DataType.FLOAT64);
        half.setRequiresGradient(true);
        params.put("double", half);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new GradientBucketer(params));
        assertTrue(error.getMessage().startsWith("parameter 'double' is float64"), error.getMessage());
    }

    /** Parameters of several shapes (a scalar, an empty one, one bigger than a bucket) and a frozen one. */
    private Map<String, NDArray> parameters(int rank) {
        Map<String, NDArray> params = new LinkedHashMap<>();
        params.put("a", manager.zeros(new Shape(5, 6)));
        params.put("b", manager.zeros(new Shape(7)));
        params.put("big", manager.zeros(new Shape(10, 10)));
        params.put("frozen", manager.full(new Shape(2), (float) rank));
        params.put("c", manager.zeros(new Shape(3, 4)));
        params.put("scalar", manager.zeros(new Shape()));
        params.put("empty", manager.zeros(new Shape(0, 3)));
        params.put("d", manager.zeros(new Shape(9)));
        params.forEach((name, p) -> {
            if (!name.equals("frozen")) {
                p.setRequiresGradient(true);
            }
        });
        return params;
    }

    /** Sets each gradient to a rank-specific random tensor via a real backward: d/dp sum(p * coefficients). */
    private void giveGradients(Map<String, NDArray> params, int rank) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray total = manager.zeros(new Shape());
            int k = 0;
            for (Map.Entry<String, NDArray> entry : params.entrySet()) {
                NDArray p = entry.getValue();
                if (!p.hasGradient()) {
                    continue;
                }
                float[] coefficients = AllReduceExpectations.input(rank, (int) p.size(), ++k);
                total = total.add(p.mul(manager.create(coefficients, p.getShape())).sum());
            }
            collector.backward(total);
        }
    }

    private static Map<String, float[]> gradients(Map<String, NDArray> params) {
        Map<String, float[]> values = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            if (p.hasGradient()) {
                try (NDArray gradient = p.getGradient()) {
                    values.put(name, gradient.toFloatArray());
                }
            }
        });
        return values;
    }
}
