package io.milan.trainer.data;

import java.util.random.RandomGenerator;

/**
 * torchvision's {@code RandomResizedCrop.get_params}: up to 10 attempts to draw an area fraction uniformly
 * from {@code scale} and an aspect ratio log-uniformly from {@code ratio}; the first crop that fits is
 * placed uniformly at random. When none fits, a centred crop clamped to the ratio range is used.
 * Python's {@code round} (half to even) is reproduced with {@link Math#rint}.
 */
public record RandomResizedCrop(double minScale, double maxScale, double minRatio, double maxRatio)
        implements CropSampler {

    /** MILAN pretraining: scale (0.2, 1), ratio (3/4, 4/3). */
    public static final RandomResizedCrop PRETRAIN = new RandomResizedCrop(0.2, 1.0, 3.0 / 4.0, 4.0 / 3.0);
    /** Fine-tuning and linear probing (torchvision's default): scale (0.08, 1), ratio (3/4, 4/3). */
    public static final RandomResizedCrop FINETUNE = new RandomResizedCrop(0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0);

    private static final int ATTEMPTS = 10;

    public RandomResizedCrop {
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1)) {
            throw new IllegalArgumentException("crop scale range must satisfy 0 < min <= max <= 1, got (" + minScale
                    + ", " + maxScale + ")");
        }
        if (!(minRatio > 0 && minRatio <= maxRatio) || Double.isInfinite(maxRatio)) {
            throw new IllegalArgumentException("crop ratio range must satisfy 0 < min <= max, got (" + minRatio + ", "
                    + maxRatio + ")");
        }
    }

    /** The crop for an image of {@code width × height}, drawn from {@code rng}. */
    @Override
    public CropBox sample(int width, int height, RandomGenerator rng) {
        double area = (double) height * width;
        double logMin = Math.log(minRatio);
        double logMax = Math.log(maxRatio);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double targetArea = area * uniform(rng, minScale, maxScale);
            double aspectRatio = Math.exp(uniform(rng, logMin, logMax));
            int w = (int) Math.rint(Math.sqrt(targetArea * aspectRatio));
            int h = (int) Math.rint(Math.sqrt(targetArea / aspectRatio));
            if (0 < w && w <= width && 0 < h && h <= height) {
                int top = rng.nextInt(height - h + 1);
                int left = rng.nextInt(width - w + 1);
                return new CropBox(top, left, h, w);
            }
        }
        return fallback(width, height);
    }

    /** torchvision's fallback: the whole image, cut to the nearest allowed aspect ratio, centred. */
    public CropBox fallback(int width, int height) {
        double inRatio = (double) width / height;
        int w;
        int h;
        if (inRatio < minRatio) {
            w = width;
            h = (int) Math.rint(w / minRatio);
        } else if (inRatio > maxRatio) {
            h = height;
            w = (int) Math.rint(h * maxRatio);
        } else {
            w = width;
            h = height;
        }
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }

    private static double uniform(RandomGenerator rng, double low, double high) {
        return low + (high - low) * rng.nextDouble();
    }
}
