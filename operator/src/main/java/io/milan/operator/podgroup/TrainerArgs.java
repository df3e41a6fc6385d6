package io.milan.operator.podgroup;

import io.milan.api.DecoderSpec;
import io.milan.api.FinetuneDefaults;
import io.milan.api.FinetuneMode;
import io.milan.api.MilanFinetuneSpec;
import io.milan.api.MilanPretrainSpec;
import io.milan.api.ObjectStorage;
import io.milan.api.RunSpec;
import io.milan.api.TeacherKind;
import java.util.ArrayList;
import java.util.List;

/**
 * The trainer's command line, derived from the spec field by field
 * ({@code milan-trainer launch --nproc_per_node N <subcommand> <flags>}, flag names as in the reference CLI). Every
 * value is passed explicitly, so the trainer's own defaults never matter; boolean flags appear only when true.
 * Every attempt passes {@code --resume auto}.
 */
public final class TrainerArgs {
    public static final String ENTRYPOINT = "milan-trainer";
    /** The trainer's launcher, as torchrun: it starts one trainer process per device of the pod. */
    public static final String LAUNCH = "launch";

    private final List<String> args = new ArrayList<>();

    private TrainerArgs() {
    }

    /** {@code launch --nproc_per_node N} followed by the subcommand and its flags, which every process gets. */
    public static List<String> launch(int processesPerNode, List<String> subcommand) {
        List<String> line = new ArrayList<>(List.of(LAUNCH, "--nproc_per_node", String.valueOf(processesPerNode)));
        line.addAll(subcommand);
        return List.copyOf(line);
    }

    public static List<String> pretrain(MilanPretrainSpec s, String outputDir) {
        TrainerArgs a = new TrainerArgs();
        a.args.add("pretrain");
        a.common(s, s.batchSize, s.epochs, s.warmupEpochs, s.blr, s.minLr, s.weightDecay, s.clipGrad,
                s.checkpointInterval, outputDir);
        a.flag("--mask_ratio", s.maskRatio);
        a.flag("--teacher", s.teacher.kind == TeacherKind.ENCODER ? "encoder" : "clip");
        a.flag("--teacher_path", input(s.teacher.weights));
        if (s.teacher.model != null) {
            a.flag("--teacher_model", s.teacher.model.cliName);
        }
        a.bool("--change_decoder", s.promptingDecoder);
        DecoderSpec decoder = s.decoder != null ? s.decoder : new DecoderSpec();
        a.flag("--decoder_embed_dim", decoder.embedDim);
        a.flag("--decoder_depth", decoder.depth);
        a.flag("--decoder_num_heads", decoder.numHeads);
        a.bool("--attn_mask", s.semanticMasking);
        return List.copyOf(a.args);
    }

    public static List<String> finetune(MilanFinetuneSpec s, String outputDir, String checkpointPath) {
        TrainerArgs a = new TrainerArgs();
        boolean linprobe = s.mode == FinetuneMode.LINPROBE;
        a.args.add(linprobe ? "linprobe" : "finetune");
        a.common(s, FinetuneDefaults.batchSize(s), FinetuneDefaults.epochs(s), FinetuneDefaults.warmupEpochs(s),
                FinetuneDefaults.blr(s), FinetuneDefaults.minLr(s), FinetuneDefaults.weightDecay(s), s.clipGrad,
                s.checkpointInterval, outputDir);
        a.flag("--finetune", checkpointPath);
        a.flag("--nb_classes", s.numClasses);
        a.bool("--dist_eval", s.distEval);
        if (!linprobe) {
            a.flag("--layer_decay", s.layerDecay);
            a.flag("--drop_path", s.dropPath);
            a.flag("--mixup", s.mixup);
            a.flag("--cutmix", s.cutmix);
            a.flag("--mixup_switch_prob", s.mixupSwitchProb);
            a.flag("--smoothing", s.smoothing);
            a.flag("--reprob", s.reprob);
            // An empty policy is passed as such: it disables RandAugment (omitting it would mean the default).
            a.flag("--aa", s.randAugment == null ? "" : s.randAugment);
            a.args.add(Boolean.FALSE.equals(s.globalPool) ? "--cls_token" : "--global_pool");
        }
        return List.copyOf(a.args);
    }

    private void common(RunSpec s, int batchSize, int epochs, int warmupEpochs, double blr, double minLr,
            double weightDecay, Double clipGrad, int checkpointInterval, String outputDir) {
        flag("--model", s.model.cliName);
        flag("--input_size", s.inputSize);
        flag("--patch_size", s.patchSize != null ? s.patchSize : s.model.patchSize);
        flag("--batch_size", batchSize);
        flag("--accum_iter", s.accumIter);
        flag("--epochs", epochs);
        flag("--warmup_epochs", warmupEpochs);
        flag("--blr", blr);
        if (s.lr != null) {
            flag("--lr", s.lr);
        }
        flag("--min_lr", minLr);
        flag("--weight_decay", weightDecay);
        if (clipGrad != null) {
            flag("--clip_grad", clipGrad);
        }
        flag("--data_path", input(s.dataset));
        flag("--output_dir", outputDir);
        flag("--log_dir", outputDir);
        flag("--seed", s.seed);
        flag("--num_workers", s.numWorkers);
        flag("--checkpoint_interval", checkpointInterval);
        flag("--keep_checkpoints", s.keepCheckpoints);
        ObjectStorage s3 = RunVolumes.outputObjectStorage(s);
        if (s3 != null) {
            // Checkpoints also go to object storage, and --resume auto restores from there (docs/storage.md).
            flag("--checkpoint_uri", s3.url);
        }
        flag("--amp", s.amp.cliName);
        bool("--tf32", s.tf32);
        // Never the trainer's default (auto): a GPU pod that sees no GPU must fail, not train on the CPU.
        flag("--device", s.usesGpus() ? "cuda" : "cpu");
        // The trainer picks the newest valid checkpoint in output_dir, or starts fresh when there is none.
        flag("--resume", "auto");
    }

    /** An input's location as the trainer reads it: its s3:// URL (then the trainer streams or downloads it), else its path. */
    private static String input(io.milan.api.StorageLocation location) {
        return location.s3 != null ? location.s3.url : location.path;
    }

    private void flag(String name, Object value) {
        args.add(name);
        args.add(String.valueOf(value));
    }

    private void bool(String name, Boolean value) {
        if (Boolean.TRUE.equals(value)) {
            args.add(name);
        }
    }
}
