package io.milan.trainer.model;

import static io.milan.trainer.model.Layers.concatTokens;
import static io.milan.trainer.model.Layers.gatherTokens;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * MILAN's prompting decoder (--change_decoder, milan-reference.md §1.3b). The cls token and the visible tokens
 * (decoder_embed(encoder output) + pos) are FROZEN prompts: they never go through a decoder block. Only the mask
 * tokens are queries and get updated; in every block they attend to [cls, visible, all mask tokens] in original
 * patch order. The output re-assembles [cls, visible, updated mask tokens] before the shared head.
 */
final class PromptingDecoder extends Decoder {

    private final List<PromptingBlock> blocks = new ArrayList<>();

    PromptingDecoder(DecoderConfig config, NamedParameters params) {
        super(config, params);
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(new PromptingBlock(params, "decoder_blocks." + i, config.heads()));
        }
    }

    @Override
    public NDArray forward(NDArray latent, Masking masking) {
        NDArray full = embedFullSequence(latent, masking);
        NDArray patches = full.get(":, 1:");
        Prompts prompts = new Prompts(full.get(":, :1"), gatherTokens(patches, masking.idsKeep()), masking);
        NDArray x = gatherTokens(patches, masking.idsDump());
        for (PromptingBlock block : blocks) {
            NDArray in = x;
            x = Layers.scoped(() -> block.forward(in, prompts), in, prompts.cls(), prompts.visible(),
                    masking.idsRestore());
            in.close(); // autograd keeps it if backward needs it
        }
        return head(prompts.assemble(x));
    }

    /** The frozen part of the sequence: cls [N,1,Dd] and the visible tokens [N,K,Dd] in ids_keep order. */
    record Prompts(NDArray cls, NDArray visible, Masking masking) {

        /** [cls, unshuffle(cat(visible, maskTokens))]: the full sequence [N, 1+L, Dd] in original order. */
        NDArray assemble(NDArray maskTokens) {
            return concatTokens(cls, Decoder.unshuffle(visible, maskTokens, masking));
        }
    }
}
