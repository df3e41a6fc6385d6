package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** RandAugment against timm 0.3.2 running on Pillow 9.4 (golden values from tools/make_finetune_golden.py). */
class RandAugmentTest {

    private static final JsonObject RA = FinetuneGolden.GOLDEN.getAsJsonObject("randaugment");
    private static final RandAugment.Hparams HPARAMS = RandAugment.Hparams.forImageNet();

    @Test
    void referencePolicyParsesToTimmsIncreasingSet() {
        RandAugment ra = RandAugment.parse(RandAugment.REFERENCE_POLICY, HPARAMS);
        assertEquals(2, ra.numLayers());
        assertEquals(9.0, ra.magnitude());
        assertEquals(0.5, ra.magnitudeStd());
        assertEquals(timmNames(RA.getAsJsonArray("increasing")), ra.ops().stream().map(AugmentOp::timmName).toList());
        assertEquals(15, ra.ops().size());
        assertEquals(timmNames(RA.getAsJsonArray("standard")),
                RandAugment.parse("rand-m9-mstd0.5", HPARAMS).ops().stream().map(AugmentOp::timmName).toList());
    }

    @Test
    void fillColourIsTimmsImageNetMean() {
        int[] expected = RA.getAsJsonArray("fill").asList().stream().mapToInt(JsonElement::getAsInt).toArray();
        assertArrayEquals(expected, HPARAMS.fill());
        assertArrayEquals(new int[] {124, 116, 104}, HPARAMS.fill());
        assertEquals(0.45, HPARAMS.translatePct());
    }

    @Test
    void policyParserDefaultsAndOrder() {
        RandAugment ra = RandAugment.parse("rand-inc1-n3-m7", HPARAMS);
        assertEquals(3, ra.numLayers());
        assertEquals(7.0, ra.magnitude());
        assertEquals(0.0, ra.magnitudeStd());
        assertEquals(RandAugment.INCREASING_OPS, ra.ops());
        RandAugment defaults = RandAugment.parse("rand", HPARAMS);
        assertEquals(2, defaults.numLayers());
        assertEquals(10.0, defaults.magnitude());
        assertEquals(RandAugment.STANDARD_OPS, defaults.ops());
    }

    @Test
    void policyParserNamesTheBadSection() {
        assertMessage("must start with 'rand'", () -> RandAugment.parse("augmix-m9", HPARAMS));
        assertMessage("unknown section 'x3'", () -> RandAugment.parse("rand-m9-x3", HPARAMS));
        assertMessage("section 'mstd' has no value", () -> RandAugment.parse("rand-m9-mstd", HPARAMS));
        assertMessage("'m1x' needs an integer", () -> RandAugment.parse("rand-m9-m1x", HPARAMS));
        assertMessage("'inc0' is not supported", () -> RandAugment.parse("rand-m9-inc0", HPARAMS));
        assertMessage("unknown section 'w0'", () -> RandAugment.parse("rand-m9-w0", HPARAMS));
        assertMessage("magnitude 11.0 is outside 0..10", () -> RandAugment.parse("rand-m11", HPARAMS));
        assertMessage("section '' has no value", () -> RandAugment.parse("rand-m9-", HPARAMS));
    }

    @Test
    void levelToArgumentMatchesTimmForEveryOp() {
        Map<String, AugmentOp> byName = byTimmName();
        int checked = 0;
        for (JsonElement e : RA.getAsJsonArray("arguments")) {
            JsonObject c = e.getAsJsonObject();
            AugmentOp op = byName.get(c.get("op").getAsString());
            double level = c.get("level").getAsDouble();
            boolean negate = c.get("negate").getAsBoolean();
            double actual = op.argument(level, negate, HPARAMS);
            String what = op + " level " + level + (negate ? " negated" : "");
            if (c.get("argument").isJsonNull()) {
                assertFalse(op.hasArgument(), what);
                assertTrue(Double.isNaN(actual), what);
            } else {
                assertEquals(c.get("argument").getAsDouble(), actual, 0.0, what);
            }
            checked++;
        }
        assertEquals(21 * 6 * 2, checked);
    }

    @Test
    void magnitudeNineArgumentsByHand() {
        // timm's formulas at level 9: rotate 27°, posterize 4 - int(3.6) = 1 bit, solarize 256 - int(230.4),
        // solarize-add int(99.0), enhance 1 ± 0.81, shear ±0.27, translate ±0.405 of the side.
        assertEquals(27.0, AugmentOp.ROTATE.argument(9, false, HPARAMS), 1e-12);
        assertEquals(-27.0, AugmentOp.ROTATE.argument(9, true, HPARAMS), 1e-12);
        assertEquals(1.0, AugmentOp.POSTERIZE_INCREASING.argument(9, false, HPARAMS));
        assertEquals(26.0, AugmentOp.SOLARIZE_INCREASING.argument(9, true, HPARAMS)); // unsigned: no negation
        assertEquals(99.0, AugmentOp.SOLARIZE_ADD.argument(9, false, HPARAMS));
        assertEquals(1.81, AugmentOp.COLOR_INCREASING.argument(9, false, HPARAMS), 1e-12);
        assertEquals(0.19, AugmentOp.SHARPNESS_INCREASING.argument(9, true, HPARAMS), 1e-12);
        assertEquals(-0.27, AugmentOp.SHEAR_Y.argument(9, true, HPARAMS), 1e-12);
        assertEquals(0.405, AugmentOp.TRANSLATE_X_REL.argument(9, false, HPARAMS), 1e-12);
    }

    @Test
    void everyOpMatchesPillowPixelForPixel() {
        Map<String, AugmentOp> byName = byTimmName();
        Map<String, RgbImage> images = new HashMap<>();
        RA.getAsJsonObject("images").entrySet()
                .forEach(e -> images.put(e.getKey(), FinetuneGolden.image(e.getValue().getAsJsonObject())));
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (JsonElement e : RA.getAsJsonArray("pixels")) {
            JsonObject c = e.getAsJsonObject();
            AugmentOp op = byName.get(c.get("op").getAsString());
            double level = c.get("level").getAsDouble();
            boolean negate = c.get("negate").getAsBoolean();
            RgbImage source = images.get(c.get("image").getAsString());
            RgbImage out = op.apply(source, op.argument(level, negate, HPARAMS), HPARAMS);
            byte[] expected = FinetuneGolden.bytes(c.get("pixels").getAsString());
            int differing = 0;
            int worst = 0;
            for (int i = 0; i < expected.length; i++) {
                int d = Math.abs((expected[i] & 0xff) - (out.pixels()[i] & 0xff));
                if (d != 0) {
                    differing++;
                    worst = Math.max(worst, d);
                }
            }
            if (differing > 0) {
                failures.add(c.get("image").getAsString() + " " + op + " level " + level + (negate ? " negated" : "")
                        + ": " + differing + " bytes differ, worst by " + worst);
            }
            checked++;
        }
        assertEquals(List.of(), failures);
        assertEquals(2 * 21 * 3 * 2 + 5 * 2 * 2, checked);
    }

    @Test
    void opsAtLevelZeroThatAreTheIdentity() {
        // rotate 0°, shear/translate 0 (bicubic at pixel centres is exact), enhance factor 1, solarize
        // threshold 256, solarize-add 0: the image comes back unchanged.
        RgbImage image = TestImages.pattern(9, 7);
        for (AugmentOp op : List.of(AugmentOp.ROTATE, AugmentOp.SHEAR_X, AugmentOp.SHEAR_Y, AugmentOp.TRANSLATE_X_REL,
                AugmentOp.TRANSLATE_Y_REL, AugmentOp.COLOR_INCREASING, AugmentOp.CONTRAST_INCREASING,
                AugmentOp.BRIGHTNESS_INCREASING, AugmentOp.SHARPNESS_INCREASING, AugmentOp.SOLARIZE_INCREASING,
                AugmentOp.SOLARIZE_ADD)) {
            RgbImage out = op.apply(image, op.argument(0, false, HPARAMS), HPARAMS);
            assertArrayEquals(image.pixels(), out.pixels(), op.toString());
        }
        // ...while posterize at level 0 of the increasing set keeps 4 bits: not the identity
        RgbImage posterized = AugmentOp.POSTERIZE_INCREASING.apply(image,
                AugmentOp.POSTERIZE_INCREASING.argument(0, false, HPARAMS), HPARAMS);
        for (byte b : posterized.pixels()) {
            assertEquals(0, b & 0x0f);
        }
    }

    @Test
    void samplingDrawsOpsUniformlyWithHalfProbabilityAndClippedMagnitudes() {
        RandAugment ra = RandAugment.parse(RandAugment.REFERENCE_POLICY, HPARAMS);
        SplittableRandom rng = new SplittableRandom(5);
        Map<AugmentOp, Integer> chosen = new EnumMap<>(AugmentOp.class);
        int applied = 0;
        int steps = 0;
        int negatedRotations = 0;
        int rotations = 0;
        double levelSum = 0;
        int atTen = 0;
        int images = 30_000;
        for (int i = 0; i < images; i++) {
            List<RandAugment.Step> plan = ra.sample(rng);
            assertEquals(2, plan.size());
            for (RandAugment.Step s : plan) {
                steps++;
                chosen.merge(s.op(), 1, Integer::sum);
                if (!s.applied()) {
                    continue;
                }
                applied++;
                assertTrue(s.level() >= 0 && s.level() <= 10, "level " + s.level());
                levelSum += s.level();
                atTen += s.level() == 10 ? 1 : 0;
                if (s.op() == AugmentOp.ROTATE) {
                    rotations++;
                    negatedRotations += s.argument() < 0 ? 1 : 0;
                    assertEquals(Math.abs(s.argument()), s.level() * 3, 1e-9);
                }
            }
        }
        assertEquals(15, chosen.size());
        double expectedPerOp = steps / 15.0; // 4000; binomial sd ≈ 61
        chosen.forEach((op, n) -> assertEquals(expectedPerOp, n, 5 * 61, op.toString()));
        assertEquals(0.5, applied / (double) steps, 0.01);
        // N(9, 0.5²) clipped at 10: P(level = 10) = P(Z > 2) = 0.02275;
        // E[min(X, 10)] = 9 − 0.5·(φ(2) − 2·(1 − Φ(2)))
        double expectedMean = 9 - 0.5 * (0.05399097 - 2 * 0.02275013);
        assertEquals(expectedMean, levelSum / applied, 0.01);
        assertEquals(0.02275, atTen / (double) applied, 0.004);
        assertEquals(0.5, negatedRotations / (double) rotations, 0.05);
    }

    private static Map<String, AugmentOp> byTimmName() {
        Map<String, AugmentOp> byName = new HashMap<>();
        for (AugmentOp op : AugmentOp.values()) {
            byName.put(op.timmName(), op);
        }
        return byName;
    }

    private static List<String> timmNames(com.google.gson.JsonArray a) {
        return a.asList().stream().map(JsonElement::getAsString).toList();
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
    }
}
