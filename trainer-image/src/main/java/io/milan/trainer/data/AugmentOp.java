package io.milan.trainer.data;

/**
 * The RandAugment operations of timm 0.3.2 ({@code timm/data/auto_augment.py}), each with its level → argument
 * mapping ({@code LEVEL_TO_ARG}) and its image function ({@code NAME_TO_OP}). Levels run from 0 to 10
 * ({@code _MAX_LEVEL}); ops marked signed negate their argument with probability ½ ({@code _randomly_negate}).
 */
public enum AugmentOp {
    AUTO_CONTRAST("AutoContrast", false),
    EQUALIZE("Equalize", false),
    INVERT("Invert", false),
    /** Degrees in [−30, 30]. */
    ROTATE("Rotate", true),
    /** Bits kept: 4 − int(level/10·4), from 4 down to 0. */
    POSTERIZE_INCREASING("PosterizeIncreasing", false),
    /** Threshold: 256 − int(level/10·256). */
    SOLARIZE_INCREASING("SolarizeIncreasing", false),
    /** Added to values below 128: int(level/10·110). */
    SOLARIZE_ADD("SolarizeAdd", false),
    /** Enhancement factor 1 ± level/10·0.9. */
    COLOR_INCREASING("ColorIncreasing", true),
    CONTRAST_INCREASING("ContrastIncreasing", true),
    BRIGHTNESS_INCREASING("BrightnessIncreasing", true),
    SHARPNESS_INCREASING("SharpnessIncreasing", true),
    /** Shear factor in [−0.3, 0.3]. */
    SHEAR_X("ShearX", true),
    SHEAR_Y("ShearY", true),
    /** Fraction of the width (height) in [−translate_pct, translate_pct]. */
    TRANSLATE_X_REL("TranslateXRel", true),
    TRANSLATE_Y_REL("TranslateYRel", true),
    // The standard ("non-increasing") set's variants, for policies without inc1.
    /** Bits kept: int(level/10·4). */
    POSTERIZE("Posterize", false),
    /** Threshold: int(level/10·256). */
    SOLARIZE("Solarize", false),
    /** Enhancement factor level/10·1.8 + 0.1. */
    COLOR("Color", false),
    CONTRAST("Contrast", false),
    BRIGHTNESS("Brightness", false),
    SHARPNESS("Sharpness", false);

    static final double MAX_LEVEL = 10.0;

    private final String timmName;
    private final boolean signed;

    AugmentOp(String timmName, boolean signed) {
        this.timmName = timmName;
        this.signed = signed;
    }

    /** The name in timm's op tables. */
    public String timmName() {
        return timmName;
    }

    /** Whether the argument is negated with probability ½. */
    public boolean signed() {
        return signed;
    }

    /** Whether the op has an argument at all (AutoContrast, Equalize and Invert do not). */
    public boolean hasArgument() {
        return this != AUTO_CONTRAST && this != EQUALIZE && this != INVERT;
    }

    /**
     * timm's level → argument at {@code level} (already clipped to [0, 10]), negated when {@code negate} and
     * the op is signed. NaN for ops without an argument.
     */
    public double argument(double level, boolean negate, RandAugment.Hparams hparams) {
        double sign = signed && negate ? -1 : 1;
        double fraction = level / MAX_LEVEL;
        switch (this) {
            case ROTATE:
                return sign * (fraction * 30.0);
            case POSTERIZE_INCREASING:
                return 4 - (int) (fraction * 4);
            case POSTERIZE:
                return (int) (fraction * 4);
            case SOLARIZE_INCREASING:
                return 256 - (int) (fraction * 256);
            case SOLARIZE:
                return (int) (fraction * 256);
            case SOLARIZE_ADD:
                return (int) (fraction * 110);
            case COLOR_INCREASING:
            case CONTRAST_INCREASING:
            case BRIGHTNESS_INCREASING:
            case SHARPNESS_INCREASING:
                return 1.0 + sign * (fraction * 0.9);
            case COLOR:
            case CONTRAST:
            case BRIGHTNESS:
            case SHARPNESS:
                return fraction * 1.8 + 0.1;
            case SHEAR_X:
            case SHEAR_Y:
                return sign * (fraction * 0.3);
            case TRANSLATE_X_REL:
            case TRANSLATE_Y_REL:
                return sign * (fraction * hparams.translatePct());
            default:
                return Double.NaN;
        }
    }

    /** Applies the op with argument {@code arg} (from {@link #argument}); fill and resampling from hparams. */
    public RgbImage apply(RgbImage image, double arg, RandAugment.Hparams hparams) {
        int[] fill = hparams.fill();
        switch (this) {
            case AUTO_CONTRAST:
                return PilImageOps.autoContrast(image);
            case EQUALIZE:
                return PilImageOps.equalize(image);
            case INVERT:
                return PilImageOps.invert(image);
            case ROTATE:
                return PilAffine.rotate(image, arg, fill);
            case POSTERIZE_INCREASING:
            case POSTERIZE:
                return PilImageOps.posterize(image, (int) arg);
            case SOLARIZE_INCREASING:
            case SOLARIZE:
                return PilImageOps.solarize(image, (int) arg);
            case SOLARIZE_ADD:
                return PilImageOps.solarizeAdd(image, (int) arg, 128);
            case COLOR_INCREASING:
            case COLOR:
                return PilImageOps.color(image, arg);
            case CONTRAST_INCREASING:
            case CONTRAST:
                return PilImageOps.contrast(image, arg);
            case BRIGHTNESS_INCREASING:
            case BRIGHTNESS:
                return PilImageOps.brightness(image, arg);
            case SHARPNESS_INCREASING:
            case SHARPNESS:
                return PilImageOps.sharpness(image, arg);
            case SHEAR_X:
                return PilAffine.affine(image, new double[] {1, arg, 0, 0, 1, 0}, fill);
            case SHEAR_Y:
                return PilAffine.affine(image, new double[] {1, 0, 0, arg, 1, 0}, fill);
            case TRANSLATE_X_REL:
                return PilAffine.affine(image, new double[] {1, 0, arg * image.width(), 0, 1, 0}, fill);
            case TRANSLATE_Y_REL:
                return PilAffine.affine(image, new double[] {1, 0, 0, 0, 1, arg * image.height()}, fill);
            default:
                throw new IllegalStateException("unhandled op " + this);
        }
    }
}
