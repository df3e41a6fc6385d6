package io.milan.trainer.data;

import java.nio.FloatBuffer;
import java.util.random.RandomGenerator;

/**
 * The reference evaluation transform (MAE's {@code util/datasets.py build_transform}):
 * {@code Resize(int(size / crop_pct), bicubic)} on the shorter side with crop_pct = 224/256 up to 224 px and 1.0
 * above, {@code CenterCrop(size)}, {@code ToTensor}, {@code Normalize(ImageNet)}. Deterministic.
 */
public record EvalTransform(int size, Normalization normalization) implements SampleTransform {

    /** The reference's crop_pct up to 224 px: 224 / 256 (above, 1.0: the crop is the whole shorter side). */
    public static final double CROP_FRACTION = 0.875;

    public EvalTransform {
        if (size < 1) {
            throw new IllegalArgumentException("input size must be >= 1, got " + size);
        }
    }

    public static EvalTransform imagenet(int size) {
        return new EvalTransform(size, Normalization.IMAGENET);
    }

    /** The shorter side after the resize: {@code int(size / 0.875)} up to 224 px (256 for 224), else size. */
    public int resizeTo() {
        return size <= 224 ? (int) (size / CROP_FRACTION) : size;
    }

    @Override
    public void apply(RgbImage image, RandomGenerator rng, FloatBuffer out) {
        normalization.write(resizeAndCenterCrop(image), false, out);
    }

    /** torchvision {@code Resize(shorter side)} then {@code CenterCrop}, on 8-bit pixels. */
    public RgbImage resizeAndCenterCrop(RgbImage image) {
        int[] resizedSize = resizedSize(image.width(), image.height());
        RgbImage resized = (resizedSize[0] == image.width() && resizedSize[1] == image.height()) ? image
                : PilResample.resize(image, resizedSize[0], resizedSize[1], PilResample.Filter.BICUBIC);
        CropBox box = centerCrop(resized.width(), resized.height());
        return PilResample.crop(resized, box.left(), box.top(), box.width(), box.height());
    }

    /**
     * {@code [width, height]} after torchvision's {@code Resize(int)}: the shorter side becomes
     * {@link #resizeTo()}, the longer {@code int(resizeTo × long / short)}.
     */
    public int[] resizedSize(int width, int height) {
        int shortSide = Math.min(width, height);
        int longSide = Math.max(width, height);
        int newShort = resizeTo();
        int newLong = (int) ((double) newShort * longSide / shortSide);
        return width <= height ? new int[] {newShort, newLong} : new int[] {newLong, newShort};
    }

    /** torchvision's {@code CenterCrop(size)} origin: {@code int(round((dim − size) / 2))}, half to even. */
    public CropBox centerCrop(int width, int height) {
        if (size > width || size > height) {
            throw new IllegalArgumentException("centre crop " + size + " exceeds the resized " + width + "x" + height
                    + " image");
        }
        int top = (int) Math.rint((height - size) / 2.0);
        int left = (int) Math.rint((width - size) / 2.0);
        return new CropBox(top, left, size, size);
    }
}
