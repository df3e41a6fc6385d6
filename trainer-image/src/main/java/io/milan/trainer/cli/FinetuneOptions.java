package io.milan.trainer.cli;

import static io.milan.trainer.cli.CommonOptions.require;

import io.milan.trainer.data.RandAugment;
import io.milan.trainer.data.RandomErasing;
import picocli.CommandLine.Option;

/** Flags of {@code finetune} (and {@code eval}): the reference main_finetune.py's, with its defaults. */
public class FinetuneOptions extends ClassifierOptions {

    @Option(names = "--layer_decay", description = "Layer-wise lr decay (default: ${DEFAULT-VALUE}).")
    public double layerDecay = 0.75;

    @Option(names = "--drop_path", description = "Drop path rate of the last block (default: ${DEFAULT-VALUE}).")
    public double dropPath = 0.1;

    @Option(names = "--mixup", description = "Mixup alpha; 0 = off (default: ${DEFAULT-VALUE}).")
    public double mixup = 0;

    @Option(names = "--cutmix", description = "CutMix alpha; 0 = off (default: ${DEFAULT-VALUE}).")
    public double cutmix = 0;

    @Option(names = "--cutmix_minmax", arity = "2", description = "CutMix min/max box ratio (not implemented;"
            + " the recipe does not use it).")
    public double[] cutmixMinmax;

    @Option(names = "--mixup_prob", description = "Probability of mixing a batch (default: ${DEFAULT-VALUE}).")
    public double mixupProb = 1.0;

    @Option(names = "--mixup_switch_prob", description = "Probability of CutMix when both are on"
            + " (default: ${DEFAULT-VALUE}).")
    public double mixupSwitchProb = 0.5;

    @Option(names = "--mixup_mode", description = "batch (the only mode implemented; default: ${DEFAULT-VALUE}).")
    public String mixupMode = "batch";

    @Option(names = "--smoothing", description = "Label smoothing (default: ${DEFAULT-VALUE}).")
    public double smoothing = 0.1;

    @Option(names = "--aa", description = "RandAugment policy; '' = none (default: ${DEFAULT-VALUE}).")
    public String aa = RandAugment.REFERENCE_POLICY;

    @Option(names = "--color_jitter", description = "Accepted for compatibility; unused when --aa is set, as in"
            + " timm (the recipe never sets it).")
    public Double colorJitter;

    @Option(names = "--reprob", description = "Random erasing probability; 0 = off (default: ${DEFAULT-VALUE}).")
    public double reprob = 0.25;

    @Option(names = "--remode", description = "Random erasing mode: pixel, rand or const"
            + " (default: ${DEFAULT-VALUE}).")
    public String remode = "pixel";

    @Option(names = "--recount", description = "Random erasing boxes (default: ${DEFAULT-VALUE}).")
    public int recount = 1;

    @Option(names = "--resplit", description = "Accepted for compatibility (no effect without augmentation"
            + " splits, as in the recipe).")
    public boolean resplit;

    public FinetuneOptions() {
        batchSize = 64;
        epochs = 50;
        warmupEpochs = 5;
        blr = 1e-3;
        minLr = 1e-6;
    }

    /** Whether mixup/cutmix (and so the soft-target loss) is on, as the reference decides it. */
    public boolean mixupActive() {
        return mixup > 0 || cutmix > 0 || cutmixMinmax != null;
    }

    @Override
    public void validate() {
        super.validate();
        require(layerDecay > 0 && layerDecay <= 1, "--layer_decay must be in (0, 1], got " + layerDecay);
        require(dropPath >= 0 && dropPath < 1, "--drop_path must be in [0, 1), got " + dropPath);
        require(mixup >= 0 && Double.isFinite(mixup), "--mixup must be >= 0, got " + mixup);
        require(cutmix >= 0 && Double.isFinite(cutmix), "--cutmix must be >= 0, got " + cutmix);
        require(cutmixMinmax == null, "--cutmix_minmax is not implemented (the reference recipe does not use it)");
        require(mixupProb >= 0 && mixupProb <= 1, "--mixup_prob must be in [0, 1], got " + mixupProb);
        require(mixupSwitchProb >= 0 && mixupSwitchProb <= 1,
                "--mixup_switch_prob must be in [0, 1], got " + mixupSwitchProb);
        require(mixupMode.equals("batch"), "--mixup_mode: only 'batch' is implemented (the recipe's), got '"
                + mixupMode + "'");
        require(smoothing >= 0 && smoothing < 1, "--smoothing must be in [0, 1), got " + smoothing);
        require(reprob >= 0 && reprob <= 1, "--reprob must be in [0, 1], got " + reprob);
        require(recount >= 1, "--recount must be >= 1, got " + recount);
        try {
            RandomErasing.Mode.parse(remode);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--remode: " + e.getMessage(), e);
        }
        if (!aa.isEmpty()) {
            try {
                RandAugment.parse(aa, RandAugment.Hparams.forImageNet());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--aa: " + e.getMessage(), e);
            }
        }
        require(!mixupActive() || batchSize % 2 == 0,
                "--batch_size must be even when --mixup/--cutmix are on (Mixup pairs image i with B-1-i), got "
                        + batchSize);
    }
}
