package io.milan.trainer.model;

import java.util.Locale;

/** How the fine-tuning ViT turns its tokens into one feature vector (models_vit.py). */
public enum Pooling {
    /** {@code --global_pool}: mean of the patch tokens (cls excluded) → {@code fc_norm}; no final {@code norm}. */
    GLOBAL_AVERAGE,
    /** {@code --cls_token}: final {@code norm} on all tokens, then token 0. */
    CLS_TOKEN;

    /** {@code global_pool} / {@code cls_token} (the reference's flag names, without dashes), any case. */
    public static Pooling parse(String value) {
        switch (value.toLowerCase(Locale.ROOT).replace('-', '_')) {
            case "global_pool":
            case "global_average":
                return GLOBAL_AVERAGE;
            case "cls_token":
                return CLS_TOKEN;
            default:
                throw new IllegalArgumentException("unknown pooling '" + value
                        + "'; expected global_pool or cls_token");
        }
    }
}
