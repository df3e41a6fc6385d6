package io.milan.trainer.data;

import java.util.random.RandomGenerator;

/**
 * The "no for-loop" RandomResizedCrop of MoCo v3 / BYOL that MAE's linear probing uses
 * ({@code util/crop.py}): one draw of area fraction (uniform in {@code scale}) and aspect ratio
 * (log-uniform in {@code ratio}); the crop is clamped to the image instead of retried. Default
 * scale (0.08, 1), ratio (3/4, 4/3).
 */
public record ClampedResizedCrop(double minScale, double maxScale, double minRatio, double maxRatio)
        implements CropSampler {

    public static final ClampedResizedCrop LINEAR_PROBING = new ClampedResizedCrop(0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0);

    public ClampedResizedCrop {
        // Same ranges as torchvision's variant; reuse its checks.
        new RandomResizedCrop(minScale, maxScale, minRatio, maxRatio);
    }

    @Override
    public CropBox sample(int width, int height, RandomGenerator rng) {
        double area = (double) height * width;
        double targetArea = area * (minScale + (maxScale - minScale) * rng.nextDouble());
        double logMin = Math.log(minRatio);
        double aspectRatio = Math.exp(logMin + (Math.log(maxRatio) - logMin) * rng.nextDouble());
        // Python round() is half-to-even; a 0-pixel side (only for images of a few pixels) becomes 1.
        int w = Math.max(1, Math.min((int) Math.rint(Math.sqrt(targetArea * aspectRatio)), width));
        int h = Math.max(1, Math.min((int) Math.rint(Math.sqrt(targetArea / aspectRatio)), height));
        int top = rng.nextInt(height - h + 1);
        int left = rng.nextInt(width - w + 1);
        return new CropBox(top, left, h, w);
    }
}
