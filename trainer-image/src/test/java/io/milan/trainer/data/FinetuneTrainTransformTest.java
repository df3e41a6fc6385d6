package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The composed fine-tuning transform: crop → flip → RandAugment → normalise → erasing, from one generator. */
class FinetuneTrainTransformTest {

    @Test
    void referenceRecipeComponents() {
        FinetuneTrainTransform t = FinetuneTrainTransform.reference(224);
        assertEquals(224, t.size());
        assertEquals(RandomResizedCrop.FINETUNE, t.crop());
        assertEquals(RandAugment.INCREASING_OPS, t.randAugment().ops());
        assertEquals(9.0, t.randAugment().magnitude());
        assertEquals(RandomErasing.standard(0.25, RandomErasing.Mode.PIXEL), t.erasing());
        FinetuneTrainTransform plain = FinetuneTrainTransform.reference(224, "", 0, "pixel", 1);
        assertNull(plain.randAugment());
        assertNull(plain.erasing());
        RandomErasing three = FinetuneTrainTransform.reference(224, "rand-m9", 0.5, "rand", 3).erasing();
        assertEquals(3, three.maxCount());
        assertEquals(1, three.minCount());
        assertEquals(RandomErasing.Mode.RAND, three.mode());
    }

    @Test
    void equalsTheStepsAppliedByHandWithTheSameDraws() {
        RgbImage image = TestImages.pattern(50, 40);
        FinetuneTrainTransform t = FinetuneTrainTransform.reference(24);
        for (long seed = 0; seed < 40; seed++) {
            float[] actual = new float[3 * 24 * 24];
            t.apply(image, new SplittableRandom(seed), FloatBuffer.wrap(actual));

            SplittableRandom rng = new SplittableRandom(seed);
            CropBox box = RandomResizedCrop.FINETUNE.sample(50, 40, rng);
            RgbImage x = PilResample.resizeRegion(image, box.left(), box.top(), box.width(), box.height(), 24, 24,
                    PilResample.Filter.BICUBIC);
            if (rng.nextDouble() < 0.5) {
                x = FinetuneTrainTransform.mirror(x);
            }
            List<RandAugment.Step> steps = t.randAugment().sample(rng);
            x = t.randAugment().apply(x, steps);
            float[] expected = new float[3 * 24 * 24];
            Normalization.IMAGENET.write(x, false, FloatBuffer.wrap(expected));
            t.erasing().erase(FloatBuffer.wrap(expected), 3, 24, 24, rng);
            assertArrayEquals(expected, actual, "seed " + seed);
        }
    }

    @Test
    void writesAtTheSlotPositionAndAdvancesPastIt() {
        FinetuneTrainTransform t = FinetuneTrainTransform.reference(16);
        float[] batch = new float[2 * 3 * 16 * 16];
        Arrays.fill(batch, Float.NaN);
        FloatBuffer out = FloatBuffer.wrap(batch);
        out.position(3 * 16 * 16);
        t.apply(TestImages.pattern(30, 30), new SplittableRandom(1), out);
        assertEquals(batch.length, out.position());
        assertTrue(Float.isNaN(batch[3 * 16 * 16 - 1]), "the previous slot is untouched");
        for (int i = 3 * 16 * 16; i < batch.length; i++) {
            assertFalse(Float.isNaN(batch[i]), "value " + i);
        }
    }

    @Test
    void mirrorReversesEveryRow() {
        RgbImage image = TestImages.pattern(5, 3);
        RgbImage m = FinetuneTrainTransform.mirror(image);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 5; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(image.get(x, y, c), m.get(4 - x, y, c));
                }
            }
        }
    }
}
