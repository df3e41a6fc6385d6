package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Resizing and transforms against Pillow 9.4 / torchvision 0.14 output (resources/data/make_golden.py). */
class TransformsTest {

    private static final JsonObject GOLDEN = TestImages.golden();

    @Test
    void resizeMatchesPillowExactly() {
        RgbImage source = TestImages.pattern(37, 29);
        JsonArray cases = GOLDEN.getAsJsonArray("resize");
        for (JsonElement e : cases) {
            JsonObject c = e.getAsJsonObject();
            int w = c.get("width").getAsInt();
            int h = c.get("height").getAsInt();
            PilResample.Filter filter = PilResample.Filter.valueOf(c.get("filter").getAsString().toUpperCase());
            RgbImage out;
            if (c.get("box").isJsonNull()) {
                out = PilResample.resize(source, w, h, filter);
            } else {
                JsonArray box = c.getAsJsonArray("box"); // left, top, width, height
                out = PilResample.resizeRegion(source, box.get(0).getAsInt(), box.get(1).getAsInt(),
                        box.get(2).getAsInt(), box.get(3).getAsInt(), w, h, filter);
            }
            assertEquals(w, out.width());
            assertEquals(h, out.height());
            byte[] expected = bytes(c.getAsJsonArray("pixels"));
            assertArrayEquals(expected, out.pixels(), "resize to " + w + "x" + h + " " + filter + " box " + c.get("box"));
        }
    }

    @Test
    void evalTransformMatchesTorchvision() {
        JsonObject eval = GOLDEN.getAsJsonObject("eval");
        EvalTransform transform = EvalTransform.imagenet(eval.get("size").getAsInt());
        float[] out = run(transform, TestImages.pattern(37, 29), null);
        float[] expected = floats(eval.getAsJsonArray("values"));
        assertEquals(expected.length, out.length);
        assertArrayEquals(expected, out, 0f); // bit-identical float32
    }

    /** Above 224 px the reference crops the whole shorter side (crop_pct 1.0), not 7/8 of it (issue 23). */
    @Test
    void evalTransformAbove224MatchesTheReference() {
        JsonObject g = GOLDEN.getAsJsonObject("eval_large");
        EvalTransform transform = EvalTransform.imagenet(g.get("size").getAsInt());
        assertEquals(g.get("size").getAsInt(), transform.resizeTo());
        float[] out = run(transform, TestImages.pattern(g.get("width").getAsInt(), g.get("height").getAsInt()), null);
        int stride = g.get("stride").getAsInt();
        float[] expected = floats(g.getAsJsonArray("values"));
        float[] sampled = new float[expected.length];
        double sum = 0;
        for (int i = 0; i < out.length; i++) {
            sum += out[i];
            if (i % stride == 0) {
                sampled[i / stride] = out[i];
            }
        }
        assertArrayEquals(expected, sampled, 0f); // bit-identical float32, every 101st value
        assertEquals(g.get("sum").getAsDouble(), sum, 1e-3, "sum of all " + out.length + " values");
    }

    @Test
    void flipAndNormalizeMatchTorchvision() {
        JsonObject g = GOLDEN.getAsJsonObject("flip_normalize");
        RgbImage image = TestImages.pattern(g.get("width").getAsInt(), g.get("height").getAsInt());
        FloatBuffer out = FloatBuffer.allocate(3 * image.width() * image.height());
        Normalization.IMAGENET.write(image, true, out);
        assertArrayEquals(floats(g.getAsJsonArray("values")), out.array(), 0f);
    }

    @Test
    void normalizationValuesByHand() {
        // One pixel (0, 128, 255): (v / 255 − mean) / std per channel.
        RgbImage pixel = new RgbImage(1, 1, new byte[] {0, (byte) 128, (byte) 255});
        FloatBuffer out = FloatBuffer.allocate(3);
        Normalization.IMAGENET.write(pixel, false, out);
        assertArrayEquals(new float[] {(0f - 0.485f) / 0.229f, (128f / 255f - 0.456f) / 0.224f,
                (1f - 0.406f) / 0.225f}, out.array(), 0f);
        assertEquals(-2.1179, out.get(0), 1e-4);
        assertEquals(2.64, out.get(2), 1e-4);
    }

    @Test
    void flipMirrorsEachRow() {
        // 3x1 image with red values 10, 20, 30: flipped, the red plane reads 30, 20, 10.
        RgbImage row = new RgbImage(3, 1, new byte[] {10, 0, 0, 20, 0, 0, 30, 0, 0});
        Normalization identity = new Normalization(new float[] {0, 0, 0}, new float[] {1, 1, 1});
        FloatBuffer plain = FloatBuffer.allocate(9);
        FloatBuffer flipped = FloatBuffer.allocate(9);
        identity.write(row, false, plain);
        identity.write(row, true, flipped);
        assertArrayEquals(new float[] {10 / 255f, 20 / 255f, 30 / 255f}, java.util.Arrays.copyOf(plain.array(), 3), 0f);
        assertArrayEquals(new float[] {30 / 255f, 20 / 255f, 10 / 255f}, java.util.Arrays.copyOf(flipped.array(), 3),
                0f);
    }

    @Test
    void fusedResizeAndNormalizeEqualsTheTwoSteps() {
        // The training path resamples straight into the float planes; it must equal resizeRegion (golden-tested
        // above) followed by Normalization.write, for every pass combination: both passes, horizontal only,
        // vertical only, none (same size), up- and downscaling, both flips, on a heap and a direct buffer.
        RgbImage image = TestImages.pattern(61, 47);
        int[][] cases = { // left, top, width, height, out width, out height
            {3, 5, 50, 40, 24, 24}, {0, 0, 61, 47, 24, 47}, {2, 1, 30, 40, 30, 17}, {4, 4, 20, 20, 20, 20},
            {10, 7, 9, 11, 32, 28}, {0, 0, 61, 47, 61, 90}, {60, 46, 1, 1, 3, 2}};
        for (int[] c : cases) {
            for (boolean flip : new boolean[] {false, true}) {
                int n = 3 * c[4] * c[5];
                FloatBuffer expected = FloatBuffer.allocate(n);
                Normalization.IMAGENET.write(PilResample.resizeRegion(image, c[0], c[1], c[2], c[3], c[4], c[5],
                        PilResample.Filter.BICUBIC), flip, expected);
                FloatBuffer heap = FloatBuffer.allocate(n + 5);
                FloatBuffer direct = java.nio.ByteBuffer.allocateDirect((n + 5) * Float.BYTES)
                        .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
                for (FloatBuffer out : new FloatBuffer[] {heap, direct}) {
                    out.position(5); // writes at the position, as BatchLoader's slots
                    PilResample.resizeRegionNormalized(image, c[0], c[1], c[2], c[3], c[4], c[5],
                            PilResample.Filter.BICUBIC, Normalization.IMAGENET, flip, out);
                    assertEquals(n + 5, out.position());
                    float[] got = new float[n];
                    out.get(5, got);
                    assertArrayEquals(expected.array(), got, 0f, java.util.Arrays.toString(c) + " flip " + flip);
                }
            }
        }
    }

    @Test
    void trainTransformFlipsAboutHalfTheSamples() {
        // A crop covering the whole image: with scale and ratio fixed to the image's, only the flip varies.
        RgbImage image = TestImages.pattern(8, 8);
        TrainTransform t = new TrainTransform(8, new RandomResizedCrop(1.0, 1.0, 1.0, 1.0), Normalization.IMAGENET);
        float[] plain = new float[3 * 64];
        Normalization.IMAGENET.write(image, false, FloatBuffer.wrap(plain));
        int flips = 0;
        for (int seed = 0; seed < 1000; seed++) {
            float[] out = run(t, image, new SplittableRandom(seed));
            if (!java.util.Arrays.equals(out, plain)) {
                flips++;
                float[] mirrored = new float[3 * 64];
                Normalization.IMAGENET.write(image, true, FloatBuffer.wrap(mirrored));
                assertArrayEquals(mirrored, out, 0f);
            }
        }
        assertTrue(flips > 450 && flips < 550, "flips: " + flips);
    }

    @Test
    void randomResizedCropStaysWithinScaleAndRatioBounds() {
        SplittableRandom rng = new SplittableRandom(42);
        int[][] sizes = {{500, 375}, {375, 500}, {224, 224}, {1000, 120}, {32, 32}, {3, 2}};
        for (RandomResizedCrop rrc : new RandomResizedCrop[] {RandomResizedCrop.PRETRAIN, RandomResizedCrop.FINETUNE}) {
            for (int[] s : sizes) {
                int width = s[0];
                int height = s[1];
                CropBox fallback = rrc.fallback(width, height);
                for (int i = 0; i < 2000; i++) {
                    CropBox b = rrc.sample(width, height, rng);
                    assertTrue(b.top() >= 0 && b.left() >= 0 && b.width() > 0 && b.height() > 0, b.toString());
                    assertTrue(b.left() + b.width() <= width && b.top() + b.height() <= height, b.toString());
                    if (b.equals(fallback)) {
                        continue;
                    }
                    // w and h are rounded from sqrt(A·r), sqrt(A/r): allow ±0.5 on each.
                    double area = (double) width * height;
                    assertTrue((b.width() - 0.5) * (b.height() - 0.5) <= rrc.maxScale() * area + 1e-9, b.toString());
                    assertTrue((b.width() + 0.5) * (b.height() + 0.5) >= rrc.minScale() * area - 1e-9, b.toString());
                    assertTrue((b.width() - 0.5) / (b.height() + 0.5) <= rrc.maxRatio(), b.toString());
                    assertTrue((b.width() + 0.5) / (b.height() - 0.5) >= rrc.minRatio(), b.toString());
                }
            }
        }
    }

    @Test
    void clampedCropOfLinearProbingUsesOneDrawAndStaysInside() {
        SplittableRandom rng = new SplittableRandom(3);
        ClampedResizedCrop crop = ClampedResizedCrop.LINEAR_PROBING;
        boolean clamped = false;
        for (int i = 0; i < 5000; i++) {
            CropBox b = crop.sample(1000, 120, rng);
            assertTrue(b.top() >= 0 && b.left() >= 0 && b.top() + b.height() <= 120 && b.left() + b.width() <= 1000,
                    b.toString());
            clamped |= b.height() == 120;
            assertTrue(b.width() + 0.5 >= Math.sqrt(0.08 * 1000 * 120 * 0.75), b.toString());
        }
        assertTrue(clamped, "a 1000x120 strip must sometimes be clamped to its full height");
        // With a fixed generator the draws are: area fraction, log-ratio, top, left.
        SplittableRandom a = new SplittableRandom(9);
        SplittableRandom b = new SplittableRandom(9);
        double area = 500.0 * 375 * (0.08 + 0.92 * b.nextDouble());
        double ratio = Math.exp(Math.log(0.75) + (Math.log(4.0 / 3) - Math.log(0.75)) * b.nextDouble());
        int w = Math.min((int) Math.rint(Math.sqrt(area * ratio)), 500);
        int h = Math.min((int) Math.rint(Math.sqrt(area / ratio)), 375);
        int top = b.nextInt(375 - h + 1);
        int left = b.nextInt(500 - w + 1);
        assertEquals(new CropBox(top, left, h, w), crop.sample(500, 375, a));
    }

    @Test
    void randomResizedCropIsDeterministicPerGenerator() {
        CropBox a = RandomResizedCrop.PRETRAIN.sample(500, 375, SampleRandom.forSample(0, 3, 17, 0));
        CropBox b = RandomResizedCrop.PRETRAIN.sample(500, 375, SampleRandom.forSample(0, 3, 17, 0));
        CropBox c = RandomResizedCrop.PRETRAIN.sample(500, 375, SampleRandom.forSample(0, 4, 17, 0));
        assertEquals(a, b);
        assertNotEquals(a, c);
    }

    @Test
    void fallbackMatchesTorchvision() {
        RandomResizedCrop rrc = RandomResizedCrop.FINETUNE;
        // Too wide (ratio 10 > 4/3): full height, width round(100 · 4/3) = 133, centred.
        assertEquals(new CropBox(0, 433, 100, 133), rrc.fallback(1000, 100));
        // Too tall: full width, height round(100 / (3/4)) = 133.
        assertEquals(new CropBox(433, 0, 133, 100), rrc.fallback(100, 1000));
        // Within the range: the whole image.
        assertEquals(new CropBox(0, 0, 375, 500), rrc.fallback(500, 375));
        // Python's round is half-to-even: round(5 · 2.5) = round(12.5) = 12.
        assertEquals(new CropBox(0, 44, 5, 12), new RandomResizedCrop(0.08, 1, 0.5, 2.5).fallback(100, 5));
        // A 1000x10 strip never fits in 10 attempts (h ≥ sqrt(0.08·10⁴·3/4) > 10): always the fallback.
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < 100; i++) {
            assertEquals(new CropBox(0, 493, 10, 13), rrc.sample(1000, 10, rng));
        }
    }

    @Test
    void evalGeometryMatchesTorchvision() {
        EvalTransform t = EvalTransform.imagenet(224);
        assertEquals(256, t.resizeTo());
        assertArrayEquals(new int[] {341, 256}, t.resizedSize(500, 375)); // int(256 · 500 / 375) = 341
        assertArrayEquals(new int[] {256, 341}, t.resizedSize(375, 500));
        assertArrayEquals(new int[] {256, 256}, t.resizedSize(300, 300));
        // round((341 − 224) / 2) = round(58.5) = 58 (half to even); round((256 − 224) / 2) = 16.
        assertEquals(new CropBox(16, 58, 224, 224), t.centerCrop(341, 256));
        assertEquals(36, EvalTransform.imagenet(32).resizeTo()); // int(32 / 0.875) = int(36.57)
        RgbImage cropped = t.resizeAndCenterCrop(TestImages.pattern(500, 375));
        assertEquals(224, cropped.width());
        assertEquals(224, cropped.height());
    }

    private static float[] run(SampleTransform t, RgbImage image, SplittableRandom rng) {
        FloatBuffer out = FloatBuffer.allocate(3 * t.size() * t.size());
        t.apply(image, rng == null ? new SplittableRandom(0) : rng, out);
        assertEquals(out.capacity(), out.position(), "transform must fill its output");
        return out.array();
    }

    private static byte[] bytes(JsonArray a) {
        byte[] out = new byte[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) a.get(i).getAsInt();
        }
        return out;
    }

    private static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }
}
