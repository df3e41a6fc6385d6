package io.milan.trainer.cli;

import static io.milan.trainer.cli.CommonOptions.require;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Flags of {@code pretrain}: the reference main_pretrain.py's, with its defaults. */
public class PretrainOptions {
    @Mixin
    public CommonOptions common = new CommonOptions();

    @Option(names = "--model", description = "Encoder: vit_micro|tiny|small|base|large|huge or the reference's"
            + " mae_vit_<size>_patch<p> (default: ${DEFAULT-VALUE}).")
    public String model = "mae_vit_large_patch16";

    @Option(names = "--batch_size", description = "Images per device per micro-batch (default: ${DEFAULT-VALUE}).")
    public int batchSize = 64;

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    public int epochs = 400;

    @Option(names = "--warmup_epochs", description = "Warmup epochs (default: ${DEFAULT-VALUE}).")
    public int warmupEpochs = 40;

    @Option(names = "--blr", description = "Base lr: lr = blr x effective batch / 256 (default: ${DEFAULT-VALUE}).")
    public double blr = 1e-3;

    @Option(names = "--min_lr", description = "Lower bound of the cosine schedule (default: ${DEFAULT-VALUE}).")
    public double minLr = 0.0;

    @Option(names = "--mask_ratio", description = "Fraction of patches masked (default: ${DEFAULT-VALUE}).")
    public double maskRatio = 0.75;

    @Option(names = "--use_clip", description = "Reconstruct the teacher's features (always on: pixel targets"
            + " are not implemented).")
    public boolean useClip;

    @Option(names = "--teacher", description = "clip (CLIP ViT-B/16, Hugging Face safetensors) or encoder (a ViT"
            + " encoder checkpoint of this project) (default: ${DEFAULT-VALUE}).")
    public String teacher = "clip";

    @Option(names = "--teacher_path", description = "Teacher weights: a .safetensors file or a directory holding"
            + " model.safetensors; or s3://bucket/key (the object, or a prefix holding model.safetensors), downloaded"
            + " once with the MILAN_S3_TEACHER_* variables (default: ${DEFAULT-VALUE}).")
    public String teacherPath = "./clip-vit-base-patch16";

    @Option(names = "--teacher_model", description = "For --teacher encoder: its size (default: --model).")
    public String teacherModel;

    @Option(names = "--change_decoder", description = "MILAN's prompting decoder (else the MAE decoder).")
    public boolean changeDecoder;

    @Option(names = "--attn_mask", description = "Semantic-aware masking from the teacher's cls attention.")
    public boolean attnMask;

    @Option(names = "--norm_pix_loss", description = "Accepted for compatibility; inert with feature targets,"
            + " as in the reference.")
    public boolean normPixLoss;

    @Option(names = "--decoder_embed_dim", description = "Decoder width (default: ${DEFAULT-VALUE}).")
    public int decoderDim = 512;

    @Option(names = "--decoder_depth", description = "Decoder blocks (default: ${DEFAULT-VALUE}).")
    public int decoderDepth = 8;

    @Option(names = "--decoder_num_heads", description = "Decoder heads (default: ${DEFAULT-VALUE}).")
    public int decoderHeads = 16;

    @Option(names = "--checkpoint_interval", description = "Checkpoint every N epochs and after the last"
            + " (default: ${DEFAULT-VALUE}, as the reference).")
    public int checkpointInterval = 20;

    public void validate() {
        common.validate(batchSize, epochs, warmupEpochs, blr);
        ModelName.parse(model);
        if (teacherModel != null) {
            ModelName.parse(teacherModel);
        }
        require(maskRatio >= 0 && maskRatio < 1, "--mask_ratio must be in [0, 1), got " + maskRatio);
        require(minLr >= 0, "--min_lr must be >= 0, got " + minLr);
        require(teacher.equals("clip") || teacher.equals("encoder"),
                "--teacher must be clip or encoder, got '" + teacher + "'");
        require(decoderDim > 0 && decoderDepth > 0 && decoderHeads > 0 && decoderDim % decoderHeads == 0,
                "--decoder_embed_dim must be a positive multiple of --decoder_num_heads");
        require(checkpointInterval >= 1, "--checkpoint_interval must be >= 1, got " + checkpointInterval);
    }
}
