package io.milan.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The ViT encoders of the reference ({@code mae_vit_<size>_patch<p>}), plus our additions for small runs:
 * {@code vit_tiny} (DeiT-Ti widths) and {@code vit_micro} (6 blocks of 128, for CPU runs such as the
 * Fashion-MNIST quickstart).
 */
public enum VitModel {
    @JsonProperty("vit_micro") VIT_MICRO("vit_micro", 128, 6, 4, 16),
    @JsonProperty("vit_tiny") VIT_TINY("vit_tiny", 192, 12, 3, 16),
    @JsonProperty("vit_small") VIT_SMALL("vit_small", 384, 12, 6, 16),
    @JsonProperty("vit_base") VIT_BASE("vit_base", 768, 12, 12, 16),
    @JsonProperty("vit_large") VIT_LARGE("vit_large", 1024, 24, 16, 16),
    @JsonProperty("vit_huge") VIT_HUGE("vit_huge", 1280, 32, 16, 14);

    public final String cliName;
    public final int width;
    public final int depth;
    public final int heads;
    public final int patchSize;

    VitModel(String cliName, int width, int depth, int heads, int patchSize) {
        this.cliName = cliName;
        this.width = width;
        this.depth = depth;
        this.heads = heads;
        this.patchSize = patchSize;
    }
}
