package io.milan.trainer.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.random.RandomGenerator;

/**
 * timm 0.3.2's {@code Mixup} in {@code mode='batch'} on a batch of normalised images [B, C, H, W]: one λ per
 * batch; each image is mixed with its partner in the FLIPPED batch ({@code x.flip(0)}: sample i with B−1−i).
 *
 * <ul>
 *   <li>With probability {@code prob}: CutMix with probability {@code switchProb} (λ ~ Beta(cutmixα, cutmixα)),
 *   else Mixup (λ ~ Beta(mixupα, mixupα)); otherwise λ = 1 (no mixing).</li>
 *   <li>Mixup: {@code x·λ + flip(x)·(1 − λ)}.</li>
 *   <li>CutMix: the box of {@code rand_bbox} (side {@code int(H·sqrt(1 − λ))}, centre uniform, clipped to the
 *   image) is copied from the flipped batch, and λ becomes {@code 1 − box area / image area}
 *   ({@code correct_lam}).</li>
 *   <li>Targets: smoothed one-hot ({@code off = s / C}, {@code on = 1 − s + off}) of the labels, times λ, plus
 *   those of the flipped labels times 1 − λ. Every row sums to 1.</li>
 * </ul>
 * The reference fine-tuning recipe: {@link Config#reference(int)} (mixup 0.8, cutmix 1.0, prob 1, switch 0.5,
 * smoothing 0.1). The loss to use with the targets is {@code ClassificationLoss.softTarget}.
 */
public final class Mixup {

    /**
     * @param mixupAlpha     Beta parameter of Mixup's λ; 0 disables Mixup
     * @param cutmixAlpha    Beta parameter of CutMix's λ; 0 disables CutMix
     * @param prob           probability of mixing a batch at all
     * @param switchProb     probability of CutMix when both are enabled
     * @param labelSmoothing smoothing of the one-hot targets
     * @param numClasses     width of the targets
     */
    public record Config(double mixupAlpha, double cutmixAlpha, double prob, double switchProb, double labelSmoothing,
            int numClasses) {
        public Config {
            if (!(mixupAlpha >= 0) || !(cutmixAlpha >= 0) || Double.isInfinite(mixupAlpha)
                    || Double.isInfinite(cutmixAlpha)) {
                throw new IllegalArgumentException("mixup and cutmix alphas must be finite and >= 0, got " + mixupAlpha
                        + " and " + cutmixAlpha);
            }
            if (mixupAlpha == 0 && cutmixAlpha == 0) {
                throw new IllegalArgumentException("Mixup needs mixup alpha > 0 or cutmix alpha > 0 (both are 0)");
            }
            if (!(prob >= 0 && prob <= 1) || !(switchProb >= 0 && switchProb <= 1)) {
                throw new IllegalArgumentException("mixup prob and switch prob must be in [0, 1], got " + prob
                        + " and " + switchProb);
            }
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
            }
            if (numClasses < 1) {
                throw new IllegalArgumentException("number of classes must be >= 1, got " + numClasses);
            }
        }

        /** FINETUNE.sh: --mixup 0.8 --cutmix 1.0, prob 1.0, switch 0.5, --smoothing 0.1. */
        public static Config reference(int numClasses) {
            return new Config(0.8, 1.0, 1.0, 0.5, 0.1, numClasses);
        }
    }

    /** The batch's draw: λ before the CutMix area correction, and whether it is CutMix. */
    public record Params(double lam, boolean cutmix) {
    }

    /** A CutMix box: rows [top, bottom), columns [left, right) (timm's yl, yh, xl, xh). */
    public record Box(int top, int bottom, int left, int right) {
        public int area() {
            return (bottom - top) * (right - left);
        }
    }

    /**
     * @param images  the mixed images [B, C, H, W] (a new array; the input is not modified)
     * @param targets soft targets [B, numClasses], float32
     * @param lam     the λ the targets use (area-corrected for CutMix; 1 when nothing was mixed)
     * @param box     the CutMix box, null for Mixup or no mixing
     */
    public record Result(NDArray images, NDArray targets, double lam, Box box) {
    }

    private final Config config;

    public Mixup(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    /** timm's {@code _params_per_batch}. */
    public Params sampleParams(RandomGenerator rng) {
        if (!(rng.nextDouble() < config.prob())) {
            return new Params(1.0, false);
        }
        boolean cutmix;
        if (config.mixupAlpha() > 0 && config.cutmixAlpha() > 0) {
            cutmix = rng.nextDouble() < config.switchProb();
        } else {
            cutmix = config.cutmixAlpha() > 0;
        }
        double alpha = cutmix ? config.cutmixAlpha() : config.mixupAlpha();
        return new Params(BetaSampler.beta(rng, alpha, alpha), cutmix);
    }

    /** timm's {@code rand_bbox} (no margin) for an H×W image. */
    public static Box randBox(int height, int width, double lam, RandomGenerator rng) {
        double ratio = Math.sqrt(1 - lam);
        int cutH = (int) (height * ratio);
        int cutW = (int) (width * ratio);
        int cy = rng.nextInt(height);
        int cx = rng.nextInt(width);
        return new Box(clip(cy - cutH / 2, height), clip(cy + cutH / 2, height), clip(cx - cutW / 2, width),
                clip(cx + cutW / 2, width));
    }

    /** Mixes {@code images} [B, C, H, W] with labels {@code labels} (B even), drawing from {@code rng}. */
    public Result apply(NDArray images, long[] labels, RandomGenerator rng) {
        Shape s = images.getShape();
        if (s.dimension() != 4) {
            throw new IllegalArgumentException("Mixup expects images [B, C, H, W], got " + s);
        }
        int batch = (int) s.get(0);
        if (labels.length != batch) {
            throw new IllegalArgumentException("Mixup got " + labels.length + " labels for " + batch + " images");
        }
        if (batch % 2 != 0) {
            throw new IllegalArgumentException("Mixup needs an even batch size, got " + batch);
        }
        Params params = sampleParams(rng);
        double lam = params.lam();
        Box box = null;
        NDArray mixed;
        if (lam == 1.0) {
            mixed = images.duplicate();
        } else if (params.cutmix()) {
            int height = (int) s.get(2);
            int width = (int) s.get(3);
            box = randBox(height, width, lam, rng);
            lam = 1.0 - box.area() / (double) (height * width);
            NDArray inside = boxMask(images.getManager(), height, width, box).toDevice(images.getDevice(), false);
            // x·(1 − m) + flip(x)·m with m ∈ {0, 1}: exact copies inside and outside the box
            mixed = images.mul(inside.neg().add(1f)).add(images.flip(0).mul(inside));
        } else {
            mixed = images.mul((float) lam).add(images.flip(0).mul((float) (1.0 - lam)));
        }
        NDArray targets = targets(images.getManager(), labels, config.numClasses(), lam, config.labelSmoothing())
                .toDevice(images.getDevice(), false);
        return new Result(mixed, targets, lam, box);
    }

    /**
     * timm's {@code mixup_target}: {@code onehot(y)·λ + onehot(flip(y))·(1 − λ)} with smoothed one-hots, in
     * float32 like torch: [B, numClasses] on {@code manager}.
     */
    public static NDArray targets(NDManager manager, long[] labels, int numClasses, double lam, double smoothing) {
        float off = (float) (smoothing / numClasses);
        float on = (float) (1.0 - smoothing + smoothing / numClasses);
        float a = (float) lam;
        float b = (float) (1.0 - lam);
        int batch = labels.length;
        float[] t = new float[batch * numClasses];
        for (int i = 0; i < batch; i++) {
            long mine = checkLabel(labels[i], numClasses);
            long partner = checkLabel(labels[batch - 1 - i], numClasses);
            for (int c = 0; c < numClasses; c++) {
                float y1 = c == mine ? on : off;
                float y2 = c == partner ? on : off;
                t[i * numClasses + c] = y1 * a + y2 * b;
            }
        }
        return manager.create(t, new Shape(batch, numClasses));
    }

    private static NDArray boxMask(NDManager manager, int height, int width, Box box) {
        float[] m = new float[height * width];
        for (int y = box.top(); y < box.bottom(); y++) {
            java.util.Arrays.fill(m, y * width + box.left(), y * width + box.right(), 1f);
        }
        return manager.create(m, new Shape(1, 1, height, width));
    }

    private static long checkLabel(long label, int numClasses) {
        if (label < 0 || label >= numClasses) {
            throw new IllegalArgumentException("label " + label + " is outside [0, " + numClasses + ")");
        }
        return label;
    }

    private static int clip(int v, int max) {
        return Math.max(0, Math.min(v, max));
    }
}
