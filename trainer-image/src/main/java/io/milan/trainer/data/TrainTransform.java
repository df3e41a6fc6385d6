package io.milan.trainer.data;

import java.nio.FloatBuffer;
import java.nio.file.Path;
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
        resize(image, 0, 0, box, flip, out);
    }

    /**
     * Draws the crop from the JPEG header's size, then decodes only the crop: Pillow resamples the cropped
     * image on its own (the crop's border is the filter's edge), so no pixel outside it is read. Same draws in
     * the same order as {@link #apply}, same floats.
     */
    @Override
    public void decodeAndApply(Path file, byte[] encoded, RandomGenerator rng, FloatBuffer out)
            throws ImageDecoder.UnreadableImageException {
        int[] imageSize = ImageDecoder.regionDecodableSize(encoded);
        if (imageSize == null) {
            apply(ImageDecoder.decode(file, encoded), rng, out);
            return;
        }
        CropBox box = crop.sample(imageSize[0], imageSize[1], rng);
        boolean flip = rng.nextDouble() < 0.5;
        ImageDecoder.ImageRegion region = ImageDecoder.decodeRegion(file, encoded, imageSize, box);
        resize(region.pixels(), region.left(), region.top(), box, flip, out);
    }

    /** {@code box} of an image whose pixel (0, 0) is the image's ({@code left}, {@code top}). */
    private void resize(RgbImage pixels, int left, int top, CropBox box, boolean flip, FloatBuffer out) {
        // Resample, flip and normalise in one go: the crop's rows go straight into the batch buffer.
        PilResample.resizeRegionNormalized(pixels, box.left() - left, box.top() - top, box.width(), box.height(),
                size, size, PilResample.Filter.BICUBIC, normalization, flip, out);
    }
}
