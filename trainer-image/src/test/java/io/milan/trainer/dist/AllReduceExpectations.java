package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Test data and the check of an all-reduce mean.
 *
 * <p>Tolerance: the ring adds the N ranks' values in a different order than a serial loop would, so the result
 * matches the exact mean (computed here in double precision) only up to float rounding. For N float terms the
 * rounding error is at most about (N-1)·2⁻²⁴·Σ|x| for the sum plus 2⁻²⁴·|mean| for the division, i.e. below
 * 13·2⁻²⁴ ≈ 7.7e-7 of Σ|x|/N for N ≤ 4. We allow 1e-6 relative to the mean magnitude Σ|x|/N.
 */
final class AllReduceExpectations {

    static final double RELATIVE_TOLERANCE = 1e-6;

    private AllReduceExpectations() {
    }

    /** Rank {@code rank}'s input: uniform in [-1, 1) with a few larger values, reproducible from the seed. */
    static float[] input(int rank, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + rank);
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (random.nextDouble(-1, 1) * (i % 97 == 0 ? 1000 : 1));
        }
        return values;
    }

    /** Checks every rank got the mean of all inputs, and that all ranks got exactly the same bits. */
    static void assertMean(List<float[]> inputs, List<float[]> results) {
        int n = inputs.size();
        int length = inputs.get(0).length;
        for (int rank = 0; rank < n; rank++) {
            assertEquals(length, results.get(rank).length, "rank " + rank + " result length");
            assertArrayEquals(results.get(0), results.get(rank), "rank " + rank + " differs from rank 0 (bitwise)");
        }
        float[] result = results.get(0);
        for (int i = 0; i < length; i++) {
            double sum = 0;
            double magnitude = 0;
            for (float[] input : inputs) {
                sum += input[i];
                magnitude += Math.abs(input[i]);
            }
            double exact = sum / n;
            double allowed = RELATIVE_TOLERANCE * magnitude / n;
            if (Math.abs(result[i] - exact) > allowed) {
                throw new AssertionError("element " + i + " of " + length + ": got " + result[i] + ", exact mean "
                        + exact + " (allowed error " + allowed + ", world size " + n + ")");
            }
        }
    }
}
