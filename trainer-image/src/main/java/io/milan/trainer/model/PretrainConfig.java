package io.milan.trainer.model;

/** Encoder + decoder shapes of a {@link MilanPretrainModel}. */
public record PretrainConfig(ViTConfig encoder, DecoderConfig decoder) {

    public PretrainConfig {
        if (encoder == null || decoder == null) {
            throw new IllegalArgumentException("encoder and decoder configs are required");
        }
    }

    /** A reference model, e.g. ("vit_base", true) = mae_vit_base_patch16 with --change_decoder. */
    public static PretrainConfig named(String encoder, boolean promptingDecoder) {
        return new PretrainConfig(ViTConfig.named(encoder), DecoderConfig.standard(promptingDecoder));
    }
}
