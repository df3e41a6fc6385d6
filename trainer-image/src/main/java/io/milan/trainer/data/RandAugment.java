package io.milan.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * timm 0.3.2's RandAugment ({@code rand_augment_transform}): per image, {@code numLayers} ops drawn uniformly
 * WITH replacement from the op set; each is applied with probability {@code prob} (0.5) at a magnitude drawn
 * from N(magnitude, magnitudeStd²) clipped to [0, 10], its argument negated with probability ½ for signed ops.
 *
 * <p>The fine-tuning recipe's {@code rand-m9-mstd0.5-inc1} is {@link #parse parse("rand-m9-mstd0.5-inc1",
 * Hparams.forImageNet())}: 2 ops, magnitude 9, std 0.5, the "increasing" op set; affine ops resample
 * bicubically (the recipe's interpolation) and fill with the ImageNet mean colour (124, 116, 104).
 */
public final class RandAugment {

    /** timm's {@code _RAND_TRANSFORMS} (policy without {@code inc1}). */
    public static final List<AugmentOp> STANDARD_OPS = List.of(AugmentOp.AUTO_CONTRAST, AugmentOp.EQUALIZE,
            AugmentOp.INVERT, AugmentOp.ROTATE, AugmentOp.POSTERIZE, AugmentOp.SOLARIZE, AugmentOp.SOLARIZE_ADD,
            AugmentOp.COLOR, AugmentOp.CONTRAST, AugmentOp.BRIGHTNESS, AugmentOp.SHARPNESS, AugmentOp.SHEAR_X,
            AugmentOp.SHEAR_Y, AugmentOp.TRANSLATE_X_REL, AugmentOp.TRANSLATE_Y_REL);

    /** timm's {@code _RAND_INCREASING_TRANSFORMS} ({@code inc1}). */
    public static final List<AugmentOp> INCREASING_OPS = List.of(AugmentOp.AUTO_CONTRAST, AugmentOp.EQUALIZE,
            AugmentOp.INVERT, AugmentOp.ROTATE, AugmentOp.POSTERIZE_INCREASING, AugmentOp.SOLARIZE_INCREASING,
            AugmentOp.SOLARIZE_ADD, AugmentOp.COLOR_INCREASING, AugmentOp.CONTRAST_INCREASING,
            AugmentOp.BRIGHTNESS_INCREASING, AugmentOp.SHARPNESS_INCREASING, AugmentOp.SHEAR_X, AugmentOp.SHEAR_Y,
            AugmentOp.TRANSLATE_X_REL, AugmentOp.TRANSLATE_Y_REL);

    /** The reference fine-tuning policy (FINETUNE.sh's {@code --aa}). */
    public static final String REFERENCE_POLICY = "rand-m9-mstd0.5-inc1";

    /** Probability that a chosen op is applied (timm's rand_augment_ops). */
    public static final double OP_PROB = 0.5;

    private static final Pattern SECTION = Pattern.compile("([^0-9]*)([0-9].*)?");

    /**
     * The parameters timm's create_transform passes to RandAugment.
     *
     * @param fill         RGB fill colour of the affine ops: {@code round(255·mean)} (timm's img_mean)
     * @param translatePct largest translation as a fraction of the side (0.45, timm's default)
     */
    public record Hparams(int[] fill, double translatePct) {
        public Hparams {
            if (fill.length != 3) {
                throw new IllegalArgumentException("fill colour needs 3 values (R, G, B), got " + fill.length);
            }
            for (int v : fill) {
                if (v < 0 || v > 255) {
                    throw new IllegalArgumentException("fill colour values must be in 0..255, got " + v);
                }
            }
            fill = fill.clone();
        }

        @Override
        public int[] fill() {
            return fill.clone();
        }

        /** timm's values for ImageNet normalisation: fill (124, 116, 104), translate_pct 0.45. */
        public static Hparams forImageNet() {
            return forMean(Normalization.IMAGENET.mean());
        }

        /** {@code img_mean = tuple(min(255, round(255 · m)) for m in mean)}; Python rounds half to even. */
        public static Hparams forMean(float[] mean) {
            int[] fill = new int[3];
            for (int c = 0; c < 3; c++) {
                fill[c] = (int) Math.min(255, Math.rint(255 * (double) mean[c]));
            }
            return new Hparams(fill, 0.45);
        }
    }

    /** One chosen op of one image: whether it fires, and at which level and argument. */
    public record Step(AugmentOp op, boolean applied, double level, double argument) {
    }

    private final List<AugmentOp> ops;
    private final int numLayers;
    private final double magnitude;
    private final double magnitudeStd;
    private final Hparams hparams;

    public RandAugment(List<AugmentOp> ops, int numLayers, double magnitude, double magnitudeStd, Hparams hparams) {
        if (ops.isEmpty()) {
            throw new IllegalArgumentException("RandAugment needs at least one op");
        }
        if (numLayers < 0) {
            throw new IllegalArgumentException("RandAugment num_layers must be >= 0, got " + numLayers);
        }
        if (!(magnitudeStd >= 0)) {
            throw new IllegalArgumentException("RandAugment magnitude std must be >= 0, got " + magnitudeStd);
        }
        this.ops = List.copyOf(ops);
        this.numLayers = numLayers;
        this.magnitude = magnitude;
        this.magnitudeStd = magnitudeStd;
        this.hparams = hparams;
    }

    /**
     * Parses a timm policy string {@code rand[-m<int>][-n<int>][-mstd<float>][-inc1]} (sections in any order):
     * defaults magnitude 10, 2 layers, std 0, the standard op set. {@code inc0} and the choice-weight section
     * {@code w} are rejected (timm reads any {@code inc} value as on, and its weights are experimental).
     */
    public static RandAugment parse(String policy, Hparams hparams) {
        String[] sections = policy.split("-", -1);
        if (!sections[0].equals("rand")) {
            throw new IllegalArgumentException("RandAugment policy '" + policy + "' must start with 'rand'");
        }
        double magnitude = AugmentOp.MAX_LEVEL;
        int numLayers = 2;
        double std = 0;
        List<AugmentOp> ops = STANDARD_OPS;
        for (int i = 1; i < sections.length; i++) {
            String section = sections[i];
            Matcher m = SECTION.matcher(section);
            if (!m.matches() || m.group(2) == null) {
                throw new IllegalArgumentException("RandAugment policy '" + policy + "': section '" + section
                        + "' has no value (expected m<int>, n<int>, mstd<float> or inc1)");
            }
            String key = m.group(1);
            String value = m.group(2);
            switch (key) {
                case "m":
                    magnitude = parseInt(policy, section, value);
                    break;
                case "n":
                    numLayers = parseInt(policy, section, value);
                    break;
                case "mstd":
                    std = parseDouble(policy, section, value);
                    break;
                case "inc":
                    if (!value.equals("1")) {
                        throw new IllegalArgumentException("RandAugment policy '" + policy + "': '" + section
                                + "' is not supported; use inc1 for the increasing op set or leave it out"
                                + " (timm would treat any inc value as on)");
                    }
                    ops = INCREASING_OPS;
                    break;
                default:
                    throw new IllegalArgumentException("RandAugment policy '" + policy + "': unknown section '"
                            + section + "' (expected m<int>, n<int>, mstd<float> or inc1)");
            }
        }
        if (magnitude < 0 || magnitude > AugmentOp.MAX_LEVEL) {
            throw new IllegalArgumentException("RandAugment policy '" + policy + "': magnitude " + magnitude
                    + " is outside 0..10");
        }
        return new RandAugment(ops, numLayers, magnitude, std, hparams);
    }

    /** The chosen ops of one image, drawn from {@code rng} in timm's order. */
    public List<Step> sample(RandomGenerator rng) {
        List<AugmentOp> chosen = new ArrayList<>(numLayers);
        for (int i = 0; i < numLayers; i++) {
            chosen.add(ops.get(rng.nextInt(ops.size())));
        }
        List<Step> steps = new ArrayList<>(numLayers);
        for (AugmentOp op : chosen) {
            // timm: `if random.random() > prob: skip`, so the op fires when the draw is <= prob
            if (rng.nextDouble() > OP_PROB) {
                steps.add(new Step(op, false, Double.NaN, Double.NaN));
                continue;
            }
            double level = magnitude;
            if (magnitudeStd > 0) {
                level = magnitude + magnitudeStd * rng.nextGaussian();
            }
            level = Math.min(AugmentOp.MAX_LEVEL, Math.max(0, level));
            // timm's _randomly_negate: `-v if random.random() > 0.5 else v`, drawn only by signed ops
            boolean negate = op.signed() && rng.nextDouble() > 0.5;
            steps.add(new Step(op, true, level, op.argument(level, negate, hparams)));
        }
        return steps;
    }

    /** Applies the steps that fire, in order. */
    public RgbImage apply(RgbImage image, List<Step> steps) {
        RgbImage out = image;
        for (Step step : steps) {
            if (step.applied()) {
                out = step.op().apply(out, step.argument(), hparams);
            }
        }
        return out;
    }

    /** {@link #sample} then {@link #apply}. */
    public RgbImage apply(RgbImage image, RandomGenerator rng) {
        return apply(image, sample(rng));
    }

    public List<AugmentOp> ops() {
        return ops;
    }

    public int numLayers() {
        return numLayers;
    }

    public double magnitude() {
        return magnitude;
    }

    public double magnitudeStd() {
        return magnitudeStd;
    }

    public Hparams hparams() {
        return hparams;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "RandAugment(n=%d, m=%s, mstd=%s, ops=%s)", numLayers, magnitude,
                magnitudeStd, ops.size() == INCREASING_OPS.size() && ops.equals(INCREASING_OPS) ? "increasing"
                        : ops);
    }

    private static int parseInt(String policy, String section, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("RandAugment policy '" + policy + "': '" + section
                    + "' needs an integer value", e);
        }
    }

    private static double parseDouble(String policy, String section, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("RandAugment policy '" + policy + "': '" + section
                    + "' needs a number", e);
        }
    }
}
