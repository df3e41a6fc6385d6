package io.milan.trainer.cli;

import static io.milan.trainer.cli.CommonOptions.require;

import io.milan.trainer.model.Pooling;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Flags shared by {@code finetune}, {@code linprobe} and {@code eval} (main_finetune.py / main_linprobe.py).
 * The subclasses set the defaults in which the two reference scripts differ.
 */
public abstract class ClassifierOptions {
    @Mixin
    public CommonOptions common = new CommonOptions();

    @Option(names = "--model", description = "Encoder: vit_micro|tiny|small|base|large|huge or the reference's"
            + " vit_<size>_patch<p> (default: ${DEFAULT-VALUE}).")
    public String model = "vit_large_patch16";

    @Option(names = "--batch_size", description = "Images per device per micro-batch (default: ${DEFAULT-VALUE}).")
    public int batchSize;

    @Option(names = "--eval_batch_size", description = "Images per evaluation batch (default: --batch_size).")
    public Integer evalBatchSize;

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    public int epochs;

    @Option(names = "--warmup_epochs", description = "Warmup epochs (default: ${DEFAULT-VALUE}).")
    public int warmupEpochs;

    @Option(names = "--blr", description = "Base lr: lr = blr x effective batch / 256 (default: ${DEFAULT-VALUE}).")
    public double blr;

    @Option(names = "--min_lr", description = "Lower bound of the cosine schedule (default: ${DEFAULT-VALUE}).")
    public double minLr;

    @Option(names = "--finetune", description = "Start from this pretraining checkpoint or encoder file"
            + " (.safetensors, or a PyTorch .pth such as the authors' checkpoint-399.pth; encoder tensors only,"
            + " decoder keys ignored), or an s3://bucket/key object downloaded once with the MILAN_S3_PRETRAINED_*"
            + " variables; '' = random init.")
    public String finetune = "";

    @Option(names = "--nb_classes", description = "Number of classes (default: ${DEFAULT-VALUE}).")
    public int nbClasses = 1000;

    @Option(names = "--dist_eval", description = "Split evaluation over the ranks (else every rank evaluates all).")
    public boolean distEval;

    @Option(names = "--checkpoint_interval", description = "Checkpoint every N epochs and after the last"
            + " (default: ${DEFAULT-VALUE}: every epoch, as the reference).")
    public int checkpointInterval = 1;

    @Option(names = "--eval", description = "Only evaluate the checkpoint given by --resume (a file, or auto ="
            + " the newest in --output_dir), then exit.")
    public boolean evalOnly;

    @Option(names = "--predictions", description = "Evaluation writes each val image's top-5 classes with their"
            + " logits to this CSV file.")
    public Path predictions;

    /** Feature pooling; the reference's default is the cls token (MILAN does not set global_pool=True). */
    public Pooling pooling = Pooling.CLS_TOKEN;

    @Option(names = "--global_pool", description = "Mean of the patch tokens + fc_norm (the recipe's setting).")
    void globalPool(boolean on) {
        if (on) {
            pooling = Pooling.GLOBAL_AVERAGE;
        }
    }

    @Option(names = "--cls_token", description = "Normed cls token (the reference default); the last of"
            + " --global_pool/--cls_token wins.")
    void clsToken(boolean on) {
        if (on) {
            pooling = Pooling.CLS_TOKEN;
        }
    }

    /** Checks the flags; the message names the flag. */
    public void validate() {
        common.validate(batchSize, epochs, warmupEpochs, blr);
        ModelName.parse(model);
        require(nbClasses >= 1, "--nb_classes must be >= 1, got " + nbClasses);
        require(minLr >= 0, "--min_lr must be >= 0, got " + minLr);
        require(checkpointInterval >= 1, "--checkpoint_interval must be >= 1, got " + checkpointInterval);
        require(evalBatchSize == null || evalBatchSize >= 1, "--eval_batch_size must be >= 1, got " + evalBatchSize);
        if (io.milan.trainer.storage.S3Location.isS3(finetune)) {
            io.milan.trainer.storage.S3Location.parse("--finetune", finetune); // read when the run starts
        } else {
            require(finetune.isEmpty() || Files.isRegularFile(Path.of(finetune)),
                    "--finetune: no such checkpoint file '" + finetune + "'");
        }
        require(!evalOnly || !common.resume.isBlank(),
                "--eval needs --resume <checkpoint file> (or --resume auto with --output_dir)");
    }

    /** Images per evaluation batch. */
    public int evalBatch() {
        return evalBatchSize != null ? evalBatchSize : batchSize;
    }
}
