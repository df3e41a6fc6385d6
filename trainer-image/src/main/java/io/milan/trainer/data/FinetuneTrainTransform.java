package io.milan.trainer.data;

import java.nio.FloatBuffer;
import java.util.random.RandomGenerator;

/**
 * The fine-tuning training augmentation, timm 0.3.2's {@code create_transform(is_training=True, ...)} as the
 * reference recipe configures it: {@code RandomResizedCrop(size, scale (0.08, 1), bicubic)} →
 * {@code RandomHorizontalFlip(0.5)} → RandAugment ({@code rand-m9-mstd0.5-inc1}) → {@code ToTensor} →
 * {@code Normalize(ImageNet)} → {@code RandomErasing(0.25, 'pixel', count 1)}.
 *
 * <p>All randomness comes from the per-sample generator, drawn in that order (crop, flip, RandAugment,
 * erasing), so a sample's augmentation does not depend on the worker that loads it.
 */
public record FinetuneTrainTransform(int size, CropSampler crop, RandAugment randAugment, Normalization normalization,
        RandomErasing erasing) implements SampleTransform {

    public FinetuneTrainTransform {
        if (size < 1) {
            throw new IllegalArgumentException("input size must be >= 1, got " + size);
        }
    }

    /**
     * The recipe at {@code size} with the reference's flags: {@code policy} is {@code --aa}
     * ({@link RandAugment#REFERENCE_POLICY}; null or empty for none), {@code reprob} / {@code remode} /
     * {@code recount} are {@code --reprob 0.25 --remode pixel --recount 1} (erasing off when reprob is 0).
     */
    public static FinetuneTrainTransform reference(int size, String policy, double reprob, String remode,
            int recount) {
        RandAugment aa = policy == null || policy.isEmpty() ? null
                : RandAugment.parse(policy, RandAugment.Hparams.forImageNet());
        RandomErasing re = reprob > 0 ? new RandomErasing(reprob, 0.02, 1 / 3.0, 0.3, 1 / 0.3,
                RandomErasing.Mode.parse(remode), 1, recount) : null;
        return new FinetuneTrainTransform(size, RandomResizedCrop.FINETUNE, aa, Normalization.IMAGENET, re);
    }

    /** The reference recipe exactly: rand-m9-mstd0.5-inc1, erasing 0.25 in pixel mode, one box. */
    public static FinetuneTrainTransform reference(int size) {
        return reference(size, RandAugment.REFERENCE_POLICY, 0.25, "pixel", 1);
    }

    @Override
    public void apply(RgbImage image, RandomGenerator rng, FloatBuffer out) {
        CropBox box = crop.sample(image.width(), image.height(), rng);
        RgbImage x = PilResample.resizeRegion(image, box.left(), box.top(), box.width(), box.height(), size, size,
                PilResample.Filter.BICUBIC);
        if (rng.nextDouble() < 0.5) {
            x = mirror(x);
        }
        if (randAugment != null) {
            x = randAugment.apply(x, rng);
        }
        int start = out.position();
        normalization.write(x, false, out);
        if (erasing != null) {
            FloatBuffer view = out.duplicate();
            view.position(start);
            erasing.erase(view, 3, size, size, rng);
        }
    }

    /** Left-right mirror image (RandomHorizontalFlip). */
    static RgbImage mirror(RgbImage image) {
        int w = image.width();
        byte[] px = image.pixels();
        byte[] out = new byte[px.length];
        for (int y = 0; y < image.height(); y++) {
            for (int x = 0; x < w; x++) {
                System.arraycopy(px, (y * w + x) * 3, out, (y * w + w - 1 - x) * 3, 3);
            }
        }
        return new RgbImage(w, image.height(), out);
    }
}
