package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** timm 0.3.2's RandomErasing geometry (random_erasing.py) and fill modes. */
class RandomErasingTest {

    private static final RandomErasing RECIPE = RandomErasing.standard(0.25, RandomErasing.Mode.PIXEL);

    /** Replays given doubles and ints, so a box can be worked out by hand; Gaussians are 0.5. */
    private static final class Scripted implements RandomGenerator {
        private final double[] doubles;
        private final int[] ints;
        private int d;
        private int i;

        Scripted(double[] doubles, int[] ints) {
            this.doubles = doubles;
            this.ints = ints;
        }

        @Override
        public long nextLong() {
            throw new UnsupportedOperationException();
        }

        @Override
        public double nextDouble() {
            return doubles[d++];
        }

        @Override
        public int nextInt(int bound) {
            int v = ints[i++];
            assertTrue(v < bound, "scripted int " + v + " not below bound " + bound);
            return v;
        }

        @Override
        public double nextGaussian() {
            return 0.5;
        }
    }

    @Test
    void boxFollowsTimmsFormulasByHand() {
        // 224×224, u_area = 0.5 → target = (0.02 + 0.5·(1/3 − 0.02))·50176 = 8864.426…;
        // u_aspect = 0.75 → log aspect = ln 0.3 + 0.75·(ln(1/0.3) − ln 0.3) = 0.60198…, aspect 1.82574…;
        // h = round(sqrt(8864.43·1.82574)) = round(127.21) = 127,
        // w = round(sqrt(8864.43/1.82574)) = round(69.68) = 70;
        // top = randint(0, 224 − 127) → scripted 40, left = randint(0, 224 − 70) → scripted 100.
        Scripted rng = new Scripted(new double[] {0.1, 0.5, 0.75}, new int[] {40, 100});
        FloatBuffer image = FloatBuffer.allocate(3 * 224 * 224);
        RandomErasing.Box[] boxes = RECIPE.erase(image, 3, 224, 224, rng);
        assertEquals(1, boxes.length);
        assertEquals(new RandomErasing.Box(40, 100, 127, 70), boxes[0]);
        // the box is filled with the (scripted) normal draws, everything else untouched
        float[] a = image.array();
        int filled = 0;
        for (float v : a) {
            filled += v == 0.5f ? 1 : 0;
        }
        assertEquals(3 * 127 * 70, filled);
        assertEquals(0.5f, a[(2 * 224 + 40) * 224 + 100]);
        assertEquals(0.5f, a[(0 * 224 + 40 + 126) * 224 + 100 + 69]);
        assertEquals(0f, a[(0 * 224 + 40 + 127) * 224 + 100]);
        assertEquals(0f, a[(1 * 224 + 39) * 224 + 100]);
    }

    @Test
    void probabilityDrawAboveTheRateErasesNothing() {
        // timm: `if random.random() > probability: return`
        Scripted rng = new Scripted(new double[] {0.2500001}, new int[0]);
        FloatBuffer image = FloatBuffer.allocate(3 * 8 * 8);
        assertEquals(0, RECIPE.erase(image, 3, 8, 8, rng).length);
        Scripted atRate = new Scripted(new double[] {0.25, 0.0, 0.5}, new int[] {0, 0});
        assertEquals(1, RECIPE.erase(FloatBuffer.allocate(3 * 8 * 8), 3, 8, 8, atRate).length);
    }

    @Test
    void attemptsThatDoNotFitAreRetriedUpToTen() {
        // On a 4×4 image the largest boxes (h or w = 4) do not fit (timm requires h < H and w < W).
        // area u = 1 → 1/3·16 = 5.33; aspect u = 1 → 3.33: h = round(4.22) = 4 → rejected;
        // ten such attempts → none.
        double[] draws = new double[1 + 20];
        Arrays.fill(draws, 1.0);
        draws[0] = 0.0;
        Scripted rng = new Scripted(draws, new int[0]);
        assertEquals(0, RECIPE.erase(FloatBuffer.allocate(48), 3, 4, 4, rng).length);
    }

    @Test
    void boxesStayInsideAndWithinAreaAndAspectBounds() {
        RandomErasing always = RandomErasing.standard(1.0, RandomErasing.Mode.PIXEL);
        SplittableRandom rng = new SplittableRandom(11);
        int[][] sizes = {{224, 224}, {32, 48}, {17, 9}};
        int erased = 0;
        for (int[] s : sizes) {
            int h = s[0];
            int w = s[1];
            for (int n = 0; n < 2000; n++) {
                for (RandomErasing.Box b : always.erase(FloatBuffer.allocate(3 * h * w), 3, h, w, rng)) {
                    erased++;
                    assertTrue(b.top() >= 0 && b.left() >= 0 && b.top() + b.height() <= h
                            && b.left() + b.width() <= w, b.toString());
                    assertTrue(b.height() < h && b.width() < w, b.toString());
                    double area = (double) h * w;
                    // h, w are rounded from sqrt(A·r), sqrt(A/r): ±0.5 each
                    assertTrue((b.height() - 0.5) * (b.width() - 0.5) <= area / 3 + 1e-9, b.toString());
                    assertTrue((b.height() + 0.5) * (b.width() + 0.5) >= 0.02 * area - 1e-9, b.toString());
                    assertTrue((b.height() - 0.5) / (b.width() + 0.5) <= 1 / 0.3 + 1e-9, b.toString());
                    assertTrue((b.height() + 0.5) / (b.width() - 0.5) >= 0.3 - 1e-9, b.toString());
                }
            }
        }
        assertTrue(erased > 5000, "boxes erased: " + erased);
    }

    @Test
    void pixelModeFillsWithStandardNormalNoiseAndLeavesTheRest() {
        RandomErasing always = RandomErasing.standard(1.0, RandomErasing.Mode.PIXEL);
        int h = 224;
        int w = 224;
        float[] data = new float[3 * h * w];
        Arrays.fill(data, 7f);
        FloatBuffer buffer = FloatBuffer.wrap(data);
        RandomErasing.Box b = always.erase(buffer, 3, h, w, new SplittableRandom(2))[0];
        assertEquals(0, buffer.position(), "the buffer position is left alone");
        double sum = 0;
        double sq = 0;
        int n = 0;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float v = data[(c * h + y) * w + x];
                    boolean inside = y >= b.top() && y < b.top() + b.height() && x >= b.left()
                            && x < b.left() + b.width();
                    if (inside) {
                        sum += v;
                        sq += v * v;
                        n++;
                    } else {
                        assertEquals(7f, v);
                    }
                }
            }
        }
        double mean = sum / n;
        double sd = Math.sqrt(sq / n - mean * mean);
        assertTrue(n >= 3 * 1003, "erased " + n);
        assertEquals(0, mean, 5 / Math.sqrt(n));
        assertEquals(1, sd, 0.05);
    }

    @Test
    void randModeUsesOneColourPerChannelAndConstUsesZero() {
        int h = 20;
        int w = 20;
        float[] rand = new float[3 * h * w];
        RandomErasing.Box b = RandomErasing.standard(1.0, RandomErasing.Mode.RAND)
                .erase(FloatBuffer.wrap(rand), 3, h, w, new SplittableRandom(4))[0];
        for (int c = 0; c < 3; c++) {
            float first = rand[(c * h + b.top()) * w + b.left()];
            assertTrue(first != 0f);
            for (int y = b.top(); y < b.top() + b.height(); y++) {
                for (int x = b.left(); x < b.left() + b.width(); x++) {
                    assertEquals(first, rand[(c * h + y) * w + x]);
                }
            }
        }
        float[] constant = new float[3 * h * w];
        Arrays.fill(constant, 3f);
        RandomErasing.Box z = RandomErasing.standard(1.0, RandomErasing.Mode.CONST)
                .erase(FloatBuffer.wrap(constant), 3, h, w, new SplittableRandom(4))[0];
        assertEquals(0f, constant[(2 * h + z.top()) * w + z.left()]);
        assertEquals(3f * 3 * h * w - 3f * 3 * z.height() * z.width(), sum(constant), 1e-3);
    }

    @Test
    void erasesAtTheBufferPositionOfABatchSlot() {
        RandomErasing always = RandomErasing.standard(1.0, RandomErasing.Mode.CONST);
        float[] batch = new float[2 * 3 * 8 * 8];
        Arrays.fill(batch, 1f);
        FloatBuffer slot = FloatBuffer.wrap(batch);
        slot.position(3 * 8 * 8);
        always.erase(slot, 3, 8, 8, new SplittableRandom(9));
        float[] first = Arrays.copyOf(batch, 3 * 64);
        float[] ones = new float[3 * 64];
        Arrays.fill(ones, 1f);
        assertArrayEquals(ones, first, "the first image is untouched");
        assertTrue(sum(batch) < batch.length);
    }

    @Test
    void invalidSettingsAreRejectedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RandomErasing.standard(1.5,
                RandomErasing.Mode.PIXEL)).getMessage().contains("probability"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RandomErasing.Mode.parse("noise"))
                .getMessage().contains("'noise'"));
        assertEquals(RandomErasing.Mode.PIXEL, RandomErasing.Mode.parse("Pixel"));
    }

    private static double sum(float[] a) {
        double s = 0;
        for (float v : a) {
            s += v;
        }
        return s;
    }
}
