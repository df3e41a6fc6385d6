package io.milan.trainer.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a --model value. Accepts our short names ({@code vit_base}) and the reference's
 * ({@code mae_vit_base_patch16}, {@code mae_vit_base_patch16_dec512d8b}, {@code vit_base_patch16}), so the seed's
 * command lines work unchanged.
 */
public final class ModelName {
    private static final Pattern NAME =
            Pattern.compile("^(?:mae_)?vit_(micro|tiny|small|base|large|huge)(?:_patch(\\d+))?(?:_dec512d8b)?$");

    /** Size name such as {@code base}. */
    public final String size;
    /** Patch size from the name, or -1 when the name does not say. */
    public final int patchSize;

    private ModelName(String size, int patchSize) {
        this.size = size;
        this.patchSize = patchSize;
    }

    public static ModelName parse(String value) {
        Matcher m = NAME.matcher(value.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("--model: unknown model '" + value + "'; expected one of vit_micro, vit_tiny,"
                    + " vit_small, vit_base, vit_large, vit_huge (or the reference's mae_vit_<size>_patch<p>)");
        }
        return new ModelName(m.group(1), m.group(2) == null ? -1 : Integer.parseInt(m.group(2)));
    }

    /** Short name, e.g. {@code vit_base}. */
    public String shortName() {
        return "vit_" + size;
    }

    /** Patch size: from the name, else the reference default (14 for huge, 16 otherwise). */
    public int defaultPatchSize() {
        return patchSize > 0 ? patchSize : size.equals("huge") ? 14 : 16;
    }
}
