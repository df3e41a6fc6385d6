package io.milan.trainer.data;

import java.nio.FloatBuffer;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * timm 0.3.2's {@code RandomErasing} on one normalised CHW image: with probability {@code probability}, up to
 * 10 attempts per box to draw an area fraction uniform in [minArea, maxArea] (divided by the box count) and a
 * log-uniform aspect ratio; the first box with {@code h < H} and {@code w < W} is placed uniformly
 * ({@code randint(0, H − h)}, inclusive) and overwritten.
 *
 * <p>Modes: {@code pixel} (per-pixel N(0, 1), the fine-tuning recipe), {@code rand} (one N(0, 1) colour per
 * channel), {@code const} (zeros).
 */
public record RandomErasing(double probability, double minArea, double maxArea, double minAspect, double maxAspect,
        Mode mode, int minCount, int maxCount) {

    private static final int ATTEMPTS = 10;

    /** What an erased box is filled with. */
    public enum Mode {
        CONST, RAND, PIXEL;

        public static Mode parse(String mode) {
            switch (mode.toLowerCase(Locale.ROOT)) {
                case "const":
                case "":
                    return CONST;
                case "rand":
                    return RAND;
                case "pixel":
                    return PIXEL;
                default:
                    throw new IllegalArgumentException("unknown random erasing mode '" + mode
                            + "'; expected const, rand or pixel");
            }
        }
    }

    /** An erased rectangle: rows [top, top + height), columns [left, left + width). */
    public record Box(int top, int left, int height, int width) {
    }

    public RandomErasing {
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException("random erasing probability must be in [0, 1], got " + probability);
        }
        if (!(minArea > 0 && minArea <= maxArea && maxArea <= 1)) {
            throw new IllegalArgumentException("random erasing area range must satisfy 0 < min <= max <= 1, got ("
                    + minArea + ", " + maxArea + ")");
        }
        if (!(minAspect > 0 && minAspect <= maxAspect) || Double.isInfinite(maxAspect)) {
            throw new IllegalArgumentException("random erasing aspect range must satisfy 0 < min <= max, got ("
                    + minAspect + ", " + maxAspect + ")");
        }
        if (minCount < 1 || maxCount < minCount) {
            throw new IllegalArgumentException("random erasing count range must satisfy 1 <= min <= max, got ("
                    + minCount + ", " + maxCount + ")");
        }
    }

    /**
     * timm's defaults (area 0.02–1/3, aspect 0.3–1/0.3, one box) with the given probability and mode: the
     * fine-tuning recipe is {@code standard(0.25, Mode.PIXEL)} ({@code --reprob 0.25 --remode pixel --recount 1}).
     */
    public static RandomErasing standard(double probability, Mode mode) {
        return new RandomErasing(probability, 0.02, 1 / 3.0, 0.3, 1 / 0.3, mode, 1, 1);
    }

    /**
     * Erases boxes in the {@code channels × height × width} image starting at {@code out}'s position (which is
     * left unchanged); returns the boxes erased (none when the probability draw fails or no attempt fits).
     */
    public Box[] erase(FloatBuffer out, int channels, int height, int width, RandomGenerator rng) {
        if (rng.nextDouble() > probability) {
            return new Box[0];
        }
        int count = minCount == maxCount ? minCount : minCount + rng.nextInt(maxCount - minCount + 1);
        double area = (double) height * width;
        double logMin = Math.log(minAspect);
        double logMax = Math.log(maxAspect);
        Box[] boxes = new Box[count];
        int erased = 0;
        int base = out.position();
        for (int i = 0; i < count; i++) {
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                double targetArea = uniform(rng, minArea, maxArea) * area / count;
                double aspect = Math.exp(uniform(rng, logMin, logMax));
                int h = (int) Math.rint(Math.sqrt(targetArea * aspect));
                int w = (int) Math.rint(Math.sqrt(targetArea / aspect));
                if (w < width && h < height) {
                    int top = rng.nextInt(height - h + 1);
                    int left = rng.nextInt(width - w + 1);
                    fill(out, base, channels, height, width, new Box(top, left, h, w), rng);
                    boxes[erased++] = new Box(top, left, h, w);
                    break;
                }
            }
        }
        return java.util.Arrays.copyOf(boxes, erased);
    }

    private void fill(FloatBuffer out, int base, int channels, int height, int width, Box box,
            RandomGenerator rng) {
        float[] colour = new float[channels];
        if (mode == Mode.RAND) {
            for (int c = 0; c < channels; c++) {
                colour[c] = (float) rng.nextGaussian();
            }
        }
        // torch fills a (C, h, w) tensor in that order; draw per-pixel noise in the same order.
        for (int c = 0; c < channels; c++) {
            for (int y = box.top(); y < box.top() + box.height(); y++) {
                int row = base + (c * height + y) * width;
                for (int x = box.left(); x < box.left() + box.width(); x++) {
                    out.put(row + x, mode == Mode.PIXEL ? (float) rng.nextGaussian() : colour[c]);
                }
            }
        }
    }

    private static double uniform(RandomGenerator rng, double low, double high) {
        return low + (high - low) * rng.nextDouble();
    }
}
