package io.milan.trainer.model;

import static io.milan.trainer.model.ViTConfig.require;

/**
 * Shape of the pretraining decoder.
 *
 * @param dim       decoder width Dd (reference 512)
 * @param depth     blocks (8)
 * @param heads     heads (16)
 * @param mlpRatio  MLP hidden width / Dd (4)
 * @param outDim    width of decoder_pred = the teacher's feature width (512 for CLIP ViT-B/16)
 * @param prompting MILAN's prompting decoder ({@code --change_decoder}); false = MAE's decoder (ablation)
 */
public record DecoderConfig(int dim, int depth, int heads, double mlpRatio, int outDim, boolean prompting) {

    public DecoderConfig {
        require(dim > 0 && dim % 4 == 0, "decoder dim must be a positive multiple of 4, got " + dim);
        require(depth > 0, "decoder depth must be positive, got " + depth);
        require(heads > 0 && dim % heads == 0, "decoder heads (" + heads + ") must divide decoder dim (" + dim + ")");
        require(mlpRatio > 0, "decoder mlpRatio must be positive, got " + mlpRatio);
        require(outDim > 0, "decoder outDim must be positive, got " + outDim);
    }

    /** The reference decoder: 512 wide, 8 blocks, 16 heads, predicting 512-d CLIP features. */
    public static DecoderConfig standard(boolean prompting) {
        return new DecoderConfig(512, 8, 16, 4, 512, prompting);
    }

    public int headDim() {
        return dim / heads;
    }

    public int mlpHidden() {
        return (int) (dim * mlpRatio);
    }
}
