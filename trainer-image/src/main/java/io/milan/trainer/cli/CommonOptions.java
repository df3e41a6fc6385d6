package io.milan.trainer.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Flags shared by every training subcommand; names and defaults as in the reference's argparse (MAE's
 * main_pretrain/main_finetune, which MILAN keeps). Subcommands override the defaults that differ.
 */
public class CommonOptions {
    @Option(names = "--input_size", description = "Image size in pixels (default: ${DEFAULT-VALUE}).")
    public int inputSize = 224;

    @Option(names = "--patch_size", description = "Patch size; default from --model (16, or 14 for vit_huge).")
    public Integer patchSize;

    @Option(names = "--accum_iter", description = "Gradient accumulation steps (default: ${DEFAULT-VALUE}).")
    public int accumIter = 1;

    @Option(names = "--lr", description = "Absolute learning rate; default blr x effective batch / 256.")
    public Double lr;

    @Option(names = "--weight_decay", description = "Weight decay (default: ${DEFAULT-VALUE}).")
    public double weightDecay = 0.05;

    @Option(names = "--clip_grad", description = "Global gradient-norm clipping; unset = none.")
    public Double clipGrad;

    @Option(names = "--data_path", description = "Directory holding train/ (and val/), each an ImageFolder or the"
            + " shards of `milan-trainer shard` (recognised by their shards.json); or s3://bucket/prefix holding"
            + " train/ and val/ as shards, streamed with the MILAN_S3_DATASET_* variables (docs/storage.md).")
    public String dataPath = "/datasets01/imagenet_full_size/061417/";

    @Option(names = "--output_dir", description = "Checkpoints and log.txt (default: ${DEFAULT-VALUE}).")
    public Path outputDir = Path.of("./output_dir");

    @Option(names = "--checkpoint_uri", description = "Also keep checkpoints in object storage, s3://bucket/prefix:"
            + " each one uploaded when saved, with a manifest; --resume auto restores the newest intact one from there"
            + " into --output_dir, the local working copy. Endpoint, region, path style and credentials come from"
            + " MILAN_S3_* variables, else the default AWS chain (docs/storage.md).")
    public String checkpointUri;

    @Option(names = "--log_dir", description = "TensorBoard event files (rank 0); default: --output_dir."
            + " log.txt goes to --output_dir.")
    public Path logDir;

    @Option(names = "--seed", description = "Random seed; rank r uses seed + r (default: ${DEFAULT-VALUE}).")
    public int seed = 0;

    @Option(names = "--num_workers", description = "Data-loading threads (default: ${DEFAULT-VALUE}).")
    public int numWorkers = 10;

    @Option(names = "--resume", description = "'' = start fresh, 'auto' = newest valid checkpoint in --output_dir"
            + " (fresh when none), or a checkpoint file.")
    public String resume = "";

    @Option(names = "--start_epoch", description = "Accepted for compatibility; resuming sets the epoch.")
    public int startEpoch = 0;

    @Option(names = "--keep_checkpoints", description = "Keep the newest N checkpoints; 0 keeps all"
            + " (default: ${DEFAULT-VALUE}).")
    public int keepCheckpoints = 0;

    @Option(names = "--save_every_minutes", description = "Also save a mid-epoch checkpoint once this many minutes"
            + " have passed since the last checkpoint, so a lost pod costs at most about that much training; 0 saves"
            + " at epoch ends only (default: ${DEFAULT-VALUE}).")
    public double saveEveryMinutes = 30;

    @Option(names = "--save_every_steps", description = "Also save a mid-epoch checkpoint after every N-th optimizer"
            + " step; 0 = off (default: ${DEFAULT-VALUE}).")
    public long saveEverySteps = 0;

    /** Test hook: every rank stops after this global step as on SIGTERM (mid-epoch checkpoint, exit code 75). */
    @Option(names = "--stop_after_steps", hidden = true)
    public long stopAfterSteps = 0;

    @Option(names = "--device", description = "cpu, cuda or auto (default: ${DEFAULT-VALUE}): the GPU of this"
            + " process's LOCAL_RANK (one process per GPU, see launch); auto falls back to the CPU when libtorch sees"
            + " no GPU, cuda fails instead.")
    public String device = "auto";

    @Option(names = "--pin_mem", description = "On a GPU, stage each batch in page-locked host memory and copy it"
            + " asynchronously (the default, as in the reference). No effect on the CPU.")
    boolean pinMemFlag;

    @Option(names = "--no_pin_mem", description = "On a GPU, plain synchronous copies of each batch instead.")
    boolean noPinMem;

    /** Whether batches go to the GPU through pinned memory, asynchronously (--pin_mem, on unless --no_pin_mem). */
    public boolean pinMem() {
        return !noPinMem;
    }

    @Option(names = "--tf32", description = "On a GPU, let fp32 matmuls use TF32 tensor cores (Ampere and newer), as"
            + " torch.backends.cuda.matmul.allow_tf32 = True does; off by default, PyTorch's default since 1.12."
            + " cuDNN convolutions may use TF32 either way (torch.backends.cudnn.allow_tf32, default True). No"
            + " effect on the CPU.")
    public boolean tf32;

    @Option(names = "--amp", description = "Mixed precision: auto (default: fp16 on a GPU, as the reference's"
            + " torch.cuda.amp; off on the CPU), fp16 (float16 autocast with dynamic loss scaling, as"
            + " torch.cuda.amp.GradScaler), bf16 (bfloat16 autocast, no loss scaling; for A100/H100, or a CPU with"
            + " bfloat16 support) or off (float32). Autocast covers the forward and the loss, the frozen teacher"
            + " included; weights, gradients and the optimizer stay float32.")
    public String amp = "auto";

    @Option(names = "--amp_growth_interval", hidden = true, description = "fp16 loss scaling: good steps in a row"
            + " before the scale doubles (default: ${DEFAULT-VALUE}, GradScaler's).")
    public int ampGrowthInterval = 2000;

    @Option(names = "--dist_timeout", description = "Seconds a rank waits for a peer before failing"
            + " (default: MILAN_DIST_TIMEOUT, else 300).")
    public Integer distTimeoutSeconds;

    @Option(names = "--max_bad_images", description = "Fraction of unreadable images tolerated per epoch"
            + " (default: ${DEFAULT-VALUE}).")
    public double maxBadImageFraction = 0.01;

    @Option(names = "--shuffle_buffer", description = "Samples in the shuffle buffer when --data_path holds shards"
            + " (default: ${DEFAULT-VALUE}; 0 = the shards' own order).")
    public int shuffleBuffer = io.milan.trainer.data.BatchLoader.Options.DEFAULT_SHUFFLE_BUFFER;

    /** Checks the shared flags; subcommands add their own checks. */
    void validate(int batchSize, int epochs, int warmupEpochs, double blr) {
        require(batchSize >= 1, "--batch_size must be >= 1, got " + batchSize);
        require(accumIter >= 1, "--accum_iter must be >= 1, got " + accumIter);
        require(epochs >= 1, "--epochs must be >= 1, got " + epochs);
        require(warmupEpochs >= 0 && warmupEpochs < epochs,
                "--warmup_epochs must be in [0, --epochs), got " + warmupEpochs + " with --epochs " + epochs);
        require(blr > 0, "--blr must be > 0, got " + blr);
        require(lr == null || lr > 0, "--lr must be > 0, got " + lr);
        require(weightDecay >= 0, "--weight_decay must be >= 0, got " + weightDecay);
        require(clipGrad == null || clipGrad > 0, "--clip_grad must be > 0, got " + clipGrad);
        require(inputSize >= 8, "--input_size must be >= 8, got " + inputSize);
        require(patchSize == null || (patchSize >= 1 && inputSize % patchSize == 0),
                "--patch_size must divide --input_size " + inputSize + ", got " + patchSize);
        require(numWorkers >= 0, "--num_workers must be >= 0, got " + numWorkers);
        if (checkpointUri != null) {
            io.milan.trainer.storage.S3Location.parse("--checkpoint_uri", checkpointUri);
        }
        if (io.milan.trainer.storage.S3Location.isS3(dataPath)) {
            io.milan.trainer.storage.S3Location.parse("--data_path", dataPath);
        }
        require(saveEveryMinutes >= 0 && Double.isFinite(saveEveryMinutes),
                "--save_every_minutes must be >= 0 (0 = epoch ends only), got " + saveEveryMinutes);
        require(saveEverySteps >= 0, "--save_every_steps must be >= 0 (0 = off), got " + saveEverySteps);
        require(stopAfterSteps >= 0, "--stop_after_steps must be >= 0, got " + stopAfterSteps);
        require(keepCheckpoints >= 0, "--keep_checkpoints must be >= 0, got " + keepCheckpoints);
        require(distTimeoutSeconds == null || distTimeoutSeconds >= 1, "--dist_timeout must be >= 1 second, got " + distTimeoutSeconds);
        require(maxBadImageFraction >= 0 && maxBadImageFraction <= 1,
                "--max_bad_images must be in [0, 1], got " + maxBadImageFraction);
        require(shuffleBuffer >= 0, "--shuffle_buffer must be >= 0, got " + shuffleBuffer);
        require(amp.equals("auto") || amp.equals("fp16") || amp.equals("bf16") || amp.equals("off"),
                "--amp must be auto, fp16, bf16 or off, got '" + amp + "'");
        require(ampGrowthInterval >= 1, "--amp_growth_interval must be >= 1, got " + ampGrowthInterval);
        require(device.equals("cpu") || device.equals("cuda") || device.equals("auto"),
                "--device must be cpu, cuda or auto, got '" + device + "'");
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
