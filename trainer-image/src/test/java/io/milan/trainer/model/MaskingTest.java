package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MaskingTest {

    private NDManager m;

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    @Test
    void keepCountTruncatesLikeTheReference() {
        assertEquals(49, Masking.keepCount(196, 0.75));
        assertEquals(64, Masking.keepCount(256, 0.75));
        assertEquals(9, Masking.keepCount(16, 0.4)); // int(16 * 0.6) = int(9.6)
        assertThrows(IllegalArgumentException.class, () -> Masking.keepCount(196, 1.0));
        assertThrows(IllegalArgumentException.class, () -> Masking.keepCount(4, 0.9));
    }

    @Test
    void randomMaskingShapesAndIndexIdentities() {
        int n = 3;
        int l = 196;
        Masking mk = Masking.random(m, n, l, 0.75, new Random(7));
        assertArrayEquals(new long[] {n, 49}, mk.idsKeep().getShape().getShape());
        assertArrayEquals(new long[] {n, 147}, mk.idsDump().getShape().getShape());
        assertArrayEquals(new long[] {n, l}, mk.idsRestore().getShape().getShape());
        assertArrayEquals(new long[] {n, l}, mk.mask().getShape().getShape());
        assertEquals(DataType.INT64, mk.idsKeep().getDataType());
        checkIdentities(mk, n, l);
    }

    /** ids_restore inverts ids_shuffle; gather/unshuffle round-trips; mask marks exactly ids_dump. */
    private void checkIdentities(Masking mk, int n, int l) {
        long[] shuffle = mk.idsShuffle().toLongArray();
        long[] restore = mk.idsRestore().toLongArray();
        long[] keep = mk.idsKeep().toLongArray();
        long[] dump = mk.idsDump().toLongArray();
        float[] mask = mk.mask().toFloatArray();
        int k = mk.keepCount();
        for (int s = 0; s < n; s++) {
            long[] row = Arrays.copyOfRange(shuffle, s * l, (s + 1) * l);
            long[] sorted = row.clone();
            Arrays.sort(sorted);
            for (int j = 0; j < l; j++) {
                assertEquals(j, sorted[j], "ids_shuffle is a permutation");
                assertEquals(j, row[(int) restore[s * l + j]], "ids_shuffle[ids_restore[j]] == j");
                assertEquals(j, restore[s * l + (int) row[j]], "ids_restore[ids_shuffle[j]] == j");
            }
            assertArrayEquals(Arrays.copyOfRange(row, 0, k), Arrays.copyOfRange(keep, s * k, (s + 1) * k));
            assertArrayEquals(Arrays.copyOfRange(row, k, l), Arrays.copyOfRange(dump, s * (l - k), (s + 1) * (l - k)));
            float ones = 0;
            for (int j = 0; j < l; j++) {
                ones += mask[s * l + j];
            }
            assertEquals(l - k, ones, "mask has exactly L - len_keep ones");
            for (int j = k; j < l; j++) {
                assertEquals(1f, mask[s * l + (int) row[j]], "dumped patches are masked");
            }
            for (int j = 0; j < k; j++) {
                assertEquals(0f, mask[s * l + (int) row[j]], "kept patches are visible");
            }
        }
        // gather by ids_shuffle, then unshuffle, gives back the tokens exactly
        NDArray x = Fixtures.randn(m, new Random(n), n, l, 5);
        NDArray shuffled = Layers.gatherTokens(x, mk.idsShuffle());
        NDArray kept = shuffled.get(":, :" + k);
        assertEquals(0.0, Fixtures.maxAbsDiff(kept, Layers.gatherTokens(x, mk.idsKeep())));
        NDArray back = Decoder.unshuffle(kept, shuffled.get(":, " + k + ":"), mk);
        assertEquals(0.0, Fixtures.maxAbsDiff(x, back));
    }

    @Test
    void randomMaskingIsReproducibleAndUniform() {
        Masking a = Masking.random(m, 2, 16, 0.75, new Random(42));
        Masking b = Masking.random(m, 2, 16, 0.75, new Random(42));
        Masking c = Masking.random(m, 2, 16, 0.75, new Random(43));
        assertArrayEquals(a.idsShuffle().toLongArray(), b.idsShuffle().toLongArray());
        assertFalse(Arrays.equals(a.idsShuffle().toLongArray(), c.idsShuffle().toLongArray()));

        // Every patch is visible with probability K/L = 1/4. 20000 rows: sd = sqrt(.25*.75/20000) = 0.0031;
        // 4 sd = 0.0122 (a fixed seed makes the outcome deterministic; the bound says it is not luck).
        int rows = 20000;
        float[] visible = Masking.random(m, rows, 16, 0.75, new Random(1)).mask().mul(-1).add(1)
                .mean(new int[] {0}).toFloatArray();
        for (float f : visible) {
            assertEquals(0.25, f, 0.0122);
        }
    }

    @Test
    void semanticMaskingKeepsItemsWithThePlackettLuceProbabilities() {
        double[] w = {10, 1, 1, 1, 1, 1, 1, 1};
        int keep = 2; // int(8 * (1 - 0.75))
        int rows = 20000;
        float[] weights = new float[rows * w.length];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) w[i % w.length];
        }
        Masking mk = Masking.semantic(m.create(weights, new Shape(rows, w.length)), 0.75, new Random(3));
        assertEquals(keep, mk.keepCount());
        checkIdentities(mk, rows, w.length);
        float[] kept = mk.mask().mul(-1).add(1).mean(new int[] {0}).toFloatArray();
        for (int item = 0; item < w.length; item++) {
            double exact = keptProbability(w, item);
            // binomial standard error over the rows; 4 SE leaves ~6e-5 chance per item of a false alarm
            double se = Math.sqrt(exact * (1 - exact) / rows);
            assertEquals(exact, kept[item], 4 * se, "item " + item);
        }
        assertEquals(0.8456, keptProbability(w, 0), 1e-4); // 10/17 + 7 * (1/17)(10/16)
    }

    /** P(item among the first 2 draws without replacement, each draw proportional to the remaining weights). */
    private static double keptProbability(double[] w, int item) {
        double total = Arrays.stream(w).sum();
        double p = w[item] / total;
        for (int first = 0; first < w.length; first++) {
            if (first != item) {
                p += w[first] / total * w[item] / (total - w[first]);
            }
        }
        return p;
    }

    @Test
    void zeroWeightsComeLastAndAllZeroRowsStillWork() {
        float[] w = {0, 3, 0, 1, 2, 0, 5, 4, // 5 positive weights, keep 4 -> zeros never kept
            0, 0, 0, 0, 0, 0, 0, 0};        // all zero -> still a permutation
        for (int seed = 0; seed < 50; seed++) {
            Masking mk = Masking.semantic(m.create(w, new Shape(2, 8)), 0.5, new Random(seed));
            checkIdentities(mk, 2, 8);
            long[] keep = mk.idsKeep().toLongArray();
            for (int j = 0; j < 4; j++) {
                assertTrue(w[(int) keep[j]] > 0, "a zero-weight patch was kept before a positive one");
            }
        }
    }

    @Test
    void semanticMaskingIsReproducibleFromTheSeed() {
        NDArray w = Fixtures.randn(m, new Random(6), 4, 196).abs();
        long[] a = Masking.semantic(w, 0.75, new Random(5)).idsShuffle().toLongArray();
        long[] b = Masking.semantic(w, 0.75, new Random(5)).idsShuffle().toLongArray();
        assertArrayEquals(a, b);
    }

    @Test
    void badImportanceIsRejected() {
        NDArray negative = m.create(new float[] {1, -1, 1, 1}, new Shape(1, 4));
        NDArray nan = m.create(new float[] {1, Float.NaN, 1, 1}, new Shape(1, 4));
        assertEquals("importance: weights must be finite and >= 0", assertThrows(IllegalArgumentException.class,
                () -> Masking.semantic(negative, 0.5, new Random(0))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Masking.semantic(nan, 0.5, new Random(0)));
        assertThrows(IllegalArgumentException.class,
                () -> Masking.semantic(m.ones(new Shape(4)), 0.5, new Random(0)));
    }
}
