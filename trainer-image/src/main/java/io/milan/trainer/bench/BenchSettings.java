package io.milan.trainer.bench;

import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.ViTConfig;

/**
 * What {@link StepBench} times.
 *
 * @param modelName   the --model value, for the report
 * @param encoder     student encoder shape (input size, patch)
 * @param batch       images per step
 * @param steps       measured steps
 * @param warmup      untimed steps first (allocator, thread pools, JIT)
 * @param clipTeacher true = CLIP ViT-B/16-shaped tower, false = an encoder of the student's shape
 * @param maskRatio   fraction of patches masked
 * @param semantic    semantic-aware masking (--attn_mask) else random
 * @param prompting   MILAN's prompting decoder (--change_decoder) else MAE's
 * @param encoderOnly time the ViT encoder forward+backward on all tokens instead (timm's VisionTransformer)
 * @param seed        weights, input and masking
 * @param amp         --amp: off, fp16 or bf16 autocast around the forwards and the loss (auto: fp16 on a GPU)
 */
public record BenchSettings(String modelName, ViTConfig encoder, int batch, int steps, int warmup,
        boolean clipTeacher, double maskRatio, boolean semantic, boolean prompting, boolean encoderOnly, long seed,
        String amp) {

    public BenchSettings {
        require(batch >= 1, "--batch_size must be >= 1, got " + batch);
        require(steps >= 1, "--steps must be >= 1, got " + steps);
        require(warmup >= 0, "--warmup must be >= 0, got " + warmup);
        require(maskRatio >= 0 && maskRatio < 1, "--mask_ratio must be in [0, 1), got " + maskRatio);
    }

    /** The reference decoder (512 wide, 8 blocks, 16 heads) predicting {@code targetDim}-wide features. */
    public DecoderConfig decoder(int targetDim) {
        DecoderConfig standard = DecoderConfig.standard(prompting);
        return new DecoderConfig(standard.dim(), standard.depth(), standard.heads(), standard.mlpRatio(), targetDim,
                prompting);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
