package io.milan.trainer.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * This machine's single-precision matmul peak as DJL's libtorch reaches it: the best of {@code reps} products of two
 * n×n float32 matrices (2·n³ FLOPs each) after one warm-up. The denominator of MFU.
 */
public final class GemmPeak {

    private GemmPeak() {
    }

    /** GFLOP/s of the fastest of {@code reps} n×n·n×n products. */
    public static double measure(NDManager manager, int n, int reps) {
        try (NDManager m = manager.newSubManager()) {
            NDArray a = m.randomUniform(-1, 1, new Shape(n, n), DataType.FLOAT32);
            NDArray b = m.randomUniform(-1, 1, new Shape(n, n), DataType.FLOAT32);
            Phases.materialise(a.matMul(b)); // warm-up: thread pool, page faults of the output
            double best = Double.MAX_VALUE;
            for (int i = 0; i < reps; i++) {
                long start = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    Phases.materialise(c);
                }
                best = Math.min(best, (System.nanoTime() - start) / 1e9);
            }
            return 2.0 * n * n * n / best / 1e9;
        }
    }
}
