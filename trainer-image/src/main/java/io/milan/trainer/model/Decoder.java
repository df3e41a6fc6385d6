package io.milan.trainer.model;

import static io.milan.trainer.model.Layers.concatTokens;
import static io.milan.trainer.model.Layers.expand;
import static io.milan.trainer.model.Layers.gatherTokens;
import static io.milan.trainer.model.Layers.layerNorm;
import static io.milan.trainer.model.Layers.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * What both pretraining decoders share (milan-reference.md §1.3): decoder_embed (Linear D→Dd), the full sequence
 * [cls, unshuffle(cat(visible, mask_token × (L−K)))] + decoder_pos_embed, and the head decoder_norm → decoder_pred
 * (Linear Dd→outDim) applied to ALL 1+L positions, cls included.
 *
 * <p>Parameters: mask_token [1,1,Dd], decoder_pos_embed [1,1+L,Dd] (frozen), decoder_embed.*, decoder_blocks.{i}.*,
 * decoder_norm.*, decoder_pred.*.
 */
public abstract class Decoder {

    protected final DecoderConfig config;
    protected final NamedParameters p;

    protected Decoder(DecoderConfig config, NamedParameters params) {
        this.config = config;
        this.p = params;
    }

    /** The decoder {@code config} asks for, reading its parameters from {@code params}. */
    public static Decoder of(DecoderConfig config, NamedParameters params) {
        return config.prompting() ? new PromptingDecoder(config, params) : new MaeDecoder(config, params);
    }

    /** Adds the decoder's parameters with the reference init (mask_token N(0, 0.02²); Linear xavier / zero bias). */
    static void addParameters(NamedParameters.Builder b, DecoderConfig c, ViTConfig encoder, Random r) {
        int dd = c.dim();
        b.add("mask_token", new Shape(1, 1, dd), Init.normal(r, 0.02, dd), true);
        b.add("decoder_pos_embed", new Shape(1, 1 + encoder.numPatches(), dd),
                PositionEmbedding.sinCos2d(dd, encoder.gridSize(), true), false);
        TransformerBlock.addLinear(b, "decoder_embed", encoder.dim(), dd, r);
        for (int i = 0; i < c.depth(); i++) {
            String prefix = "decoder_blocks." + i;
            if (c.prompting()) {
                PromptingBlock.addParameters(b, prefix, dd, c.mlpHidden(), r);
            } else {
                TransformerBlock.addParameters(b, prefix, dd, c.mlpHidden(), r);
            }
        }
        TransformerBlock.addLayerNorm(b, "decoder_norm", dd);
        TransformerBlock.addLinear(b, "decoder_pred", dd, c.outDim(), r);
    }

    public DecoderConfig config() {
        return config;
    }

    /** latent [N, 1+K, D] (encoder output) → predictions [N, 1+L, outDim] for every position, cls first. */
    public abstract NDArray forward(NDArray latent, Masking masking);

    /** decoder_embed, mask tokens, unshuffle, cls, + decoder_pos_embed: [N, 1+L, Dd]. */
    protected NDArray embedFullSequence(NDArray latent, Masking masking) {
        NDArray e = linear(latent, p, "decoder_embed");
        long n = e.getShape().get(0);
        int masked = masking.numPatches() - masking.keepCount();
        NDArray maskTokens = expand(p.get("mask_token"), new Shape(n, masked, config.dim()), e);
        NDArray patches = unshuffle(e.get(":, 1:"), maskTokens, masking);
        NDArray full = concatTokens(e.get(":, :1"), patches);
        return full.add(p.get("decoder_pos_embed"));
    }

    /** decoder_norm then decoder_pred. */
    protected NDArray head(NDArray tokens) {
        return linear(layerNorm(tokens, p, "decoder_norm", TransformerBlock.EPS), p, "decoder_pred");
    }

    /** Original patch order from the shuffled halves: gather(cat(kept [N,K,·], masked [N,L−K,·]), ids_restore). */
    static NDArray unshuffle(NDArray kept, NDArray masked, Masking masking) {
        return gatherTokens(concatTokens(kept, masked), masking.idsRestore());
    }
}
