package io.milan.trainer.cli;

import io.milan.trainer.model.Pooling;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The flags that shape a run: their values (as parsed, defaults included) go into every checkpoint's
 * {@link io.milan.trainer.checkpoint.RunIdentity}, and {@code --resume auto} refuses a checkpoint whose values differ.
 * A flag shapes the run when changing it makes the checkpoint mean something else or the run a different one: the
 * command, the model and its input ({@code --model}, {@code --input_size}, {@code --patch_size}, the decoder, the
 * pooling, {@code --nb_classes}), what it learns from ({@code --data_path}, the teacher, {@code --finetune}, the
 * masking) and how it is cut into steps and epochs ({@code --batch_size}, {@code --accum_iter}, {@code --epochs}).
 *
 * <p>{@link #MAY_CHANGE} lists the others, which a resumed run may change: where and how it runs (devices,
 * precision, workers, checkpoint cadence, directories), flags accepted for compatibility that do nothing, and the
 * optimizer and regularisation settings (learning rates and warmup, weight and layer decay, clipping, drop path,
 * augmentation, mixup, label smoothing, the seed). Those are the settings the operator's schema lets a started run
 * change, and practitioners do change them when they continue a run (a lower rate after a divergence), so counting
 * them would fail a run at its next restart after an edit the API server accepted. A flag in neither list (a new
 * one) shapes the run: at worst a resume is refused with a message naming the flag.
 */
public final class RunShape {
    /** Flags a resumed run may change. */
    public static final Set<String> MAY_CHANGE = Set.of(
            // where and how the run executes
            "--output_dir", "--checkpoint_uri", "--log_dir", "--resume", "--start_epoch", "--num_workers",
            "--checkpoint_interval",
            "--keep_checkpoints", "--save_every_minutes", "--save_every_steps",
            "--stop_after_steps", "--device", "--pin_mem", "--no_pin_mem", "--tf32", "--amp", "--amp_growth_interval",
            "--dist_timeout", "--max_bad_images", "--eval", "--eval_batch_size", "--dist_eval", "--predictions",
            "--help", "--version",
            // the order samples are streamed from shards in: randomness, like --seed
            "--shuffle_buffer",
            // accepted for compatibility, no effect
            "--use_clip", "--norm_pix_loss", "--color_jitter", "--resplit",
            // optimizer and regularisation settings
            "--lr", "--blr", "--min_lr", "--warmup_epochs", "--weight_decay", "--clip_grad", "--seed", "--layer_decay",
            "--drop_path", "--mixup", "--cutmix", "--cutmix_minmax", "--mixup_prob", "--mixup_switch_prob",
            "--mixup_mode", "--smoothing", "--aa", "--reprob", "--remode", "--recount");
    /** Recorded as the {@code pooling} they select (the last one given wins), not as two booleans. */
    public static final Set<String> POOLING_FLAGS = Set.of("--global_pool", "--cls_token");

    private RunShape() {
    }

    /** The run-shaping values of a parsed training command. */
    public static Map<String, String> of(CommandSpec command) {
        Map<String, String> shape = new TreeMap<>();
        shape.put("command", command.name());
        for (OptionSpec option : command.options()) {
            String flag = option.longestName();
            if (!MAY_CHANGE.contains(flag) && !POOLING_FLAGS.contains(flag)) {
                shape.put(flag, String.valueOf((Object) option.getValue()));
            }
        }
        return shape;
    }

    /** As {@link #of(CommandSpec)} for a classifier, with the pooling its flags selected. */
    public static Map<String, String> of(CommandSpec command, Pooling pooling) {
        Map<String, String> shape = of(command);
        shape.put("pooling", pooling.name());
        return shape;
    }
}
