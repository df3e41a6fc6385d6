package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** timm 0.3.2's Mixup/CutMix in batch mode, and the Beta sampler behind it. */
class MixupTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void targetsEqualTimmsMixupTarget() {
        for (JsonElement e : FinetuneGolden.GOLDEN.getAsJsonArray("mixup_targets")) {
            JsonObject c = e.getAsJsonObject();
            long[] labels = FinetuneGolden.longs(c.getAsJsonArray("labels"));
            int classes = c.get("classes").getAsInt();
            NDArray t = Mixup.targets(manager, labels, classes, c.get("lam").getAsDouble(),
                    c.get("smoothing").getAsDouble());
            assertEquals(new Shape(labels.length, classes), t.getShape());
            assertArrayEquals(FinetuneGolden.floats(c.getAsJsonArray("targets")), t.toFloatArray(), 0f, c.toString()
                    .substring(0, 60));
        }
    }

    @Test
    void smoothedTargetsByHand() {
        // 2 samples, 4 classes, smoothing 0.1, λ = 0.75: off = 0.025, on = 0.925; sample 0 (label 1) is mixed
        // with sample 1 (label 3): row 0 = 0.75·onehot(1) + 0.25·onehot(3) smoothed.
        NDArray t = Mixup.targets(manager, new long[] {1, 3}, 4, 0.75, 0.1);
        float[] v = t.toFloatArray();
        assertEquals(0.025f, v[0], 1e-7);
        assertEquals(0.925f * 0.75f + 0.025f * 0.25f, v[1], 1e-7);
        assertEquals(0.025f, v[2], 1e-7);
        assertEquals(0.025f * 0.75f + 0.925f * 0.25f, v[3], 1e-7);
        assertEquals(0.025f * 0.75f + 0.925f * 0.25f, v[4 + 1], 1e-7);
        assertEquals(0.925f * 0.75f + 0.025f * 0.25f, v[4 + 3], 1e-7);
    }

    @Test
    void everyTargetRowSumsToOneAndCutmixLambdaIsTheBoxArea() {
        Mixup mixup = new Mixup(Mixup.Config.reference(10));
        int h = 16;
        int w = 12;
        NDArray images = randomImages(8, h, w, 3);
        long[] labels = {0, 1, 2, 3, 4, 5, 9, 9};
        SplittableRandom rng = new SplittableRandom(21);
        int cutmix = 0;
        int mixed = 0;
        for (int n = 0; n < 200; n++) {
            Mixup.Result r = mixup.apply(images, labels, rng);
            float[] t = r.targets().toFloatArray();
            for (int i = 0; i < 8; i++) {
                double sum = 0;
                for (int c = 0; c < 10; c++) {
                    assertTrue(t[i * 10 + c] >= 0);
                    sum += t[i * 10 + c];
                }
                assertEquals(1.0, sum, 1e-6, "row " + i);
                // the label's own mass is λ·on + (1−λ)·off (labels differ from their partner's here, except 9/9)
                if (labels[i] != labels[7 - i]) {
                    assertEquals(r.lam() * 0.91 + (1 - r.lam()) * 0.01, t[i * 10 + (int) labels[i]], 1e-6);
                }
            }
            if (r.box() != null) {
                cutmix++;
                assertEquals(1.0 - r.box().area() / (double) (h * w), r.lam(), 1e-12);
                checkCutmixPixels(images, r, h, w);
            } else {
                mixed++;
                float lam = (float) r.lam();
                NDArray expected = images.mul(lam).add(images.flip(0).mul((float) (1 - r.lam())));
                assertArrayEquals(expected.toFloatArray(), r.images().toFloatArray(), 0f);
            }
            r.images().close();
            r.targets().close();
        }
        // switch prob 0.5 between the two
        assertTrue(cutmix > 70 && mixed > 70, "cutmix " + cutmix + ", mixup " + mixed);
    }

    /** Inside the box every pixel comes from the flipped batch, outside from the batch itself. */
    private static void checkCutmixPixels(NDArray images, Mixup.Result r, int h, int w) {
        float[] x = images.toFloatArray();
        float[] out = r.images().toFloatArray();
        int b = (int) images.getShape().get(0);
        int c = (int) images.getShape().get(1);
        Mixup.Box box = r.box();
        for (int i = 0; i < b; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        boolean inside = y >= box.top() && y < box.bottom() && xx >= box.left() && xx < box.right();
                        int src = inside ? b - 1 - i : i;
                        assertEquals(x[((src * c + ch) * h + y) * w + xx], out[((i * c + ch) * h + y) * w + xx]);
                    }
                }
            }
        }
    }

    @Test
    void randBoxByHand() {
        // λ = 0.75 → ratio sqrt(0.25) = 0.5: cut 8×6 in 16×12; centre (cy, cx) = (1, 10) →
        // rows clip(1 − 4, 0) = 0 .. 1 + 4 = 5, columns 10 − 3 = 7 .. clip(13, 12) = 12:
        // area 5·5 = 25, corrected λ = 1 − 25/192.
        java.util.random.RandomGenerator scripted = new java.util.random.RandomGenerator() {
            private final int[] ints = {1, 10};
            private int next;

            @Override
            public long nextLong() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int nextInt(int bound) {
                return ints[next++];
            }
        };
        Mixup.Box box = Mixup.randBox(16, 12, 0.75, scripted);
        assertEquals(new Mixup.Box(0, 5, 7, 12), box);
        assertEquals(25, box.area());
    }

    @Test
    void noMixingWhenTheBatchDrawFailsTheProbability() {
        Mixup never = new Mixup(new Mixup.Config(0.8, 1.0, 0.0, 0.5, 0.1, 5));
        NDArray images = randomImages(4, 4, 4, 3);
        Mixup.Result r = never.apply(images, new long[] {0, 1, 2, 3}, new SplittableRandom(1));
        assertEquals(1.0, r.lam());
        assertNull(r.box());
        assertArrayEquals(images.toFloatArray(), r.images().toFloatArray(), 0f);
        float[] t = r.targets().toFloatArray();
        assertEquals(0.92f, t[0], 1e-7); // on = 1 − 0.1 + 0.1/5
        assertEquals(0.02f, t[1], 1e-7);
    }

    @Test
    void onlyCutmixOrOnlyMixupWhenTheOtherAlphaIsZero() {
        SplittableRandom rng = new SplittableRandom(3);
        NDArray images = randomImages(2, 8, 8, 1);
        Mixup cutmixOnly = new Mixup(new Mixup.Config(0, 1.0, 1.0, 0.5, 0.1, 3));
        Mixup mixupOnly = new Mixup(new Mixup.Config(0.8, 0, 1.0, 0.5, 0.1, 3));
        for (int i = 0; i < 20; i++) {
            assertNotNull(cutmixOnly.apply(images, new long[] {0, 1}, rng).box());
            assertNull(mixupOnly.apply(images, new long[] {0, 1}, rng).box());
        }
    }

    @Test
    void rejectsOddBatchesAndBadLabels() {
        Mixup mixup = new Mixup(Mixup.Config.reference(3));
        NDArray odd = randomImages(3, 4, 4, 1);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> mixup.apply(odd, new long[] {0, 1, 2}, new SplittableRandom(1))).getMessage().contains("even"));
        NDArray even = randomImages(2, 4, 4, 1);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> mixup.apply(even, new long[] {0, 3}, new SplittableRandom(1))).getMessage().contains("label 3"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Mixup.Config(0, 0, 1, 0.5, 0.1, 3))
                .getMessage().contains("alpha"));
    }

    @Test
    void betaSamplerHasTheBetaMoments() {
        // Beta(a, a): mean ½, variance 1 / (4(2a + 1)); Beta(0.8, 0.8) → 0.0961538, Beta(1, 1) → 1/12.
        // Also P(X < 0.1): for Beta(0.8, 0.8) I_0.1(0.8, 0.8) = 0.13181 (series below; checked by quadrature),
        // for Beta(1, 1) 0.1.
        assertEquals(0.131806, incompleteBeta(0.1, 0.8, 0.8), 1e-5);
        checkBeta(0.8, 1 / (4 * (2 * 0.8 + 1)), incompleteBeta(0.1, 0.8, 0.8));
        checkBeta(1.0, 1 / 12.0, 0.1);
        checkBeta(2.5, 1 / (4 * (2 * 2.5 + 1)), incompleteBeta(0.1, 2.5, 2.5));
    }

    private static void checkBeta(double a, double variance, double below01) {
        SplittableRandom rng = new SplittableRandom(17);
        int n = 200_000;
        double sum = 0;
        double sq = 0;
        int below = 0;
        for (int i = 0; i < n; i++) {
            double x = BetaSampler.beta(rng, a, a);
            assertTrue(x >= 0 && x <= 1);
            sum += x;
            sq += x * x;
            below += x < 0.1 ? 1 : 0;
        }
        double mean = sum / n;
        assertEquals(0.5, mean, 5 * Math.sqrt(variance / n), "mean of Beta(" + a + ")");
        assertEquals(variance, sq / n - mean * mean, 0.02 * variance, "variance of Beta(" + a + ")");
        assertEquals(below01, below / (double) n, 5 * Math.sqrt(below01 * (1 - below01) / n),
                "P(X<0.1) Beta(" + a + ")");
    }

    /**
     * I_x(a, b) = x^a / B(a, b) · Σ_n (1 − b)_n x^n / (n! (a + n)), with B(a, a) = Γ(a)² / Γ(2a) from the
     * Lanczos approximation; converges fast for x = 0.1.
     */
    private static double incompleteBeta(double x, double a, double b) {
        double term = 1;
        double sum = 0;
        for (int n = 0; n < 200; n++) {
            sum += term / (a + n);
            term *= (n + 1 - b) * x / (n + 1);
        }
        double beta = Math.exp(logGamma(a) + logGamma(b) - logGamma(a + b));
        return Math.pow(x, a) * sum / beta;
    }

    private static double logGamma(double z) {
        double[] g = {676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
                12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
        if (z < 0.5) {
            return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
        }
        z -= 1;
        double s = 0.99999999999980993;
        for (int i = 0; i < g.length; i++) {
            s += g[i] / (z + i + 1);
        }
        double t = z + g.length - 0.5;
        return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
    }

    @Test
    void batchGeneratorsDifferPerRankAndBatchAndRepeat() {
        assertEquals(SampleRandom.forBatch(1, 2, 3, 0).nextLong(), SampleRandom.forBatch(1, 2, 3, 0).nextLong());
        long a = SampleRandom.forBatch(1, 2, 3, 0).nextLong();
        assertTrue(a != SampleRandom.forBatch(1, 2, 3, 1).nextLong());
        assertTrue(a != SampleRandom.forBatch(1, 2, 4, 0).nextLong());
        assertTrue(a != SampleRandom.forSample(1, 2, 3, 0).nextLong());
    }

    private NDArray randomImages(int b, int h, int w, int c) {
        SplittableRandom r = new SplittableRandom(b * 1000L + h);
        float[] v = new float[b * c * h * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return manager.create(v, new Shape(b, c, h, w));
    }
}
