package io.milan.trainer.model;

/**
 * Which encoder tensors exist, whether they train, and how they start.
 *
 * @param trainable         every encoder tensor requires gradients (false: a frozen encoder, linear probing)
 * @param learnablePosEmbed pos_embed trains (fine-tuning) instead of staying the fixed sin-cos table
 * @param finalNorm         the encoder has its final {@code norm} (deleted by global-pool fine-tuning)
 * @param timmInit          timm's ViT init (fine-tuning/probing models) instead of MAE's (pretraining)
 */
record EncoderVariant(boolean trainable, boolean learnablePosEmbed, boolean finalNorm, boolean timmInit) {

    /** MAE/MILAN pretraining encoder: fixed sin-cos table, final norm, MAE's init. */
    static final EncoderVariant PRETRAINING = new EncoderVariant(true, false, true, false);

    /** models_vit.py: everything trains including pos_embed; {@code norm} only for cls-token pooling. */
    static EncoderVariant fineTuning(boolean finalNorm) {
        return new EncoderVariant(true, true, finalNorm, true);
    }

    /** models_probe.py under main_linprobe: the whole encoder frozen, final norm kept (cls-token pooling). */
    static final EncoderVariant LINEAR_PROBE = new EncoderVariant(false, false, true, true);
}
