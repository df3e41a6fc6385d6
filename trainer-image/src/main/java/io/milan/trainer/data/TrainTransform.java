package io.milan.trainer.data;

import java.nio.FloatBuffer;
import java.util.random.RandomGenerator;

/**
 * The reference training augmentation: {@code RandomResizedCrop(size, scale, bicubic)} →
 * {@code RandomHorizontalFlip(0.5)} → {@code ToTensor} → {@code Normalize(ImageNet)}. Randomness is drawn
 * in that order: crop attempts, crop position, then the flip. (Fine-tuning's RandAugment and random
 * erasing are not part of this transform.)
 */
public record TrainTransform(int size, CropSampler crop, Normalization normalization) implements SampleTransform {

    public TrainTransform {
        if (size < 1) {
            throw new IllegalArgumentException("input size must be >= 1, got " + size);
        }
    }

    /** Pretraining: scale (0.2, 1). */
    public static TrainTransform pretraining(int size) {
        return new TrainTransform(size, RandomResizedCrop.PRETRAIN, Normalization.IMAGENET);
    }

    /** Fine-tuning crop: torchvision's RandomResizedCrop with scale (0.08, 1). */
    public static TrainTransform finetuning(int size) {
        return new TrainTransform(size, RandomResizedCrop.FINETUNE, Normalization.IMAGENET);
    }

    /** Linear probing: MoCo v3's single-draw, clamped RandomResizedCrop, scale (0.08, 1). */
    public static TrainTransform linearProbing(int size) {
        return new TrainTransform(size, ClampedResizedCrop.LINEAR_PROBING, Normalization.IMAGENET);
    }

    @Override
    public void apply(RgbImage image, RandomGenerator rng, FloatBuffer out) {
        CropBox box = crop.sample(image.width(), image.height(), rng);
        boolean flip = rng.nextDouble() < 0.5;
        // Resample, flip and normalise in one go: the crop's rows go straight into the batch buffer.
        PilResample.resizeRegionNormalized(image, box.left(), box.top(), box.width(), box.height(), size, size,
                PilResample.Filter.BICUBIC, normalization, flip, out);
    }
}
