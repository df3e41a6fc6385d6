package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * MAE's decoder, the ablation switch (--change_decoder absent): standard blocks with full self-attention over all
 * 1+L tokens, so visible tokens are updated too. Unlike the reference's models_mae.py with CLIP targets, the head
 * predicts the teacher's width (outDim), not a fixed 768.
 */
final class MaeDecoder extends Decoder {

    private final List<TransformerBlock> blocks = new ArrayList<>();

    MaeDecoder(DecoderConfig config, NamedParameters params) {
        super(config, params);
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(new TransformerBlock(params, "decoder_blocks." + i, config.heads(), 0));
        }
    }

    @Override
    public NDArray forward(NDArray latent, Masking masking) {
        NDArray x = embedFullSequence(latent, masking);
        for (TransformerBlock block : blocks) {
            x = block.forward(x, null);
        }
        return head(x);
    }
}
