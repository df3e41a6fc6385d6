package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * A fine-tuning or linear-probing run. Fields whose reference default differs between the two modes
 * (batchSize, epochs, warmupEpochs, blr, minLr, weightDecay) have no schema default: {@link FinetuneDefaults}
 * resolves them, and status shows the effective batch size and lr.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
// Compares the effective values, so a default on one side counts too (keep in step with FinetuneDefaults).
@ValidationRule(value = "(has(self.warmupEpochs) ? self.warmupEpochs : (self.mode == 'linprobe' ? 10 : 5))"
        + " < (has(self.epochs) ? self.epochs : 100)",
        message = "spec.warmupEpochs must be less than spec.epochs (defaults: 5 warmup for finetune, 10 for"
                + " linprobe, 100 epochs)", fieldPath = ".warmupEpochs")
// A pretrainRef's output claim is mounted at /milan/pretrained (operator podgroup/ResolvedPretrained).
@ValidationRule(value = "!(" + ReservedNames.HAS_TRAINER_MOUNTS + ") || " + ReservedNames.TRAINER_MOUNTS + ".all(m, "
        + ReservedNames.NOT_AT_OUTPUT + " && " + ReservedNames.NOT_AT_DATASET
        + " && m.mountPath != '/milan/pretrained' && !(has(self.pretrained.checkpoint)"
        + " && has(self.pretrained.checkpoint.claimName) && m.mountPath == self.pretrained.checkpoint.path))",
        message = ReservedNames.MOUNT_PATH_MESSAGE + "spec.dataset, spec.pretrained.checkpoint; /milan/pretrained)",
        fieldPath = ReservedNames.MOUNT_PATH_FIELD)
@JsonIgnoreProperties(ignoreUnknown = true)
public class MilanFinetuneSpec extends RunSpec {

    @Default("finetune")
    @JsonPropertyDescription("finetune (end-to-end, main_finetune.py) or linprobe (frozen encoder + linear head,"
            + " main_linprobe.py).")
    public FinetuneMode mode = FinetuneMode.FINETUNE;

    @Required
    @JsonPropertyDescription("The pretrained encoder (--finetune): exactly one of checkpoint or pretrainRef.")
    public PretrainedSource pretrained;

    @Min(1)
    @JsonPropertyDescription("Images per GPU (--batch_size). Default: 128 (finetune), 2048 (linprobe).")
    public Integer batchSize;

    @Min(1)
    @JsonPropertyDescription("Training epochs (--epochs). Default: 100 for both modes.")
    public Integer epochs;

    @Min(0)
    @JsonPropertyDescription("Warmup epochs (--warmup_epochs); must be < epochs. Default: 5 (finetune), 10"
            + " (linprobe).")
    public Integer warmupEpochs;

    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Base learning rate (--blr): lr = blr x effective batch / 256. Default: 1e-4"
            + " (finetune), 0.05 (linprobe).")
    public Double blr;

    @Min(0)
    @JsonPropertyDescription("Lower bound of the cosine schedule (--min_lr). Default: 1e-6 (finetune), 0"
            + " (linprobe).")
    public Double minLr;

    @Min(0)
    @JsonPropertyDescription("Weight decay (--weight_decay). Default: 0.05 (finetune), 0 (linprobe).")
    public Double weightDecay;

    @Min(1)
    @Default("1000")
    @JsonPropertyDescription("Number of classes of the new head (--nb_classes).")
    public Integer numClasses = 1000;

    @Min(value = 0, inclusive = false)
    @Max(1)
    @Default("0.65")
    @JsonPropertyDescription("Layer-wise lr decay (--layer_decay), finetune only: block i gets"
            + " decay^(depth + 1 - (i + 1)).")
    public Double layerDecay = 0.65;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @Default("0.1")
    @JsonPropertyDescription("Stochastic depth rate (--drop_path), finetune only; block i uses"
            + " drop_path x i / (depth - 1).")
    public Double dropPath = 0.1;

    @Min(0)
    @Default("0.8")
    @JsonPropertyDescription("Mixup alpha (--mixup), finetune only; 0 disables.")
    public Double mixup = 0.8;

    @Min(0)
    @Default("1.0")
    @JsonPropertyDescription("CutMix alpha (--cutmix), finetune only; 0 disables.")
    public Double cutmix = 1.0;

    @Min(0)
    @Max(1)
    @Default("0.5")
    @JsonPropertyDescription("Probability of CutMix instead of Mixup when both are on (--mixup_switch_prob).")
    public Double mixupSwitchProb = 0.5;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @Default("0.1")
    @JsonPropertyDescription("Label smoothing (--smoothing), finetune only.")
    public Double smoothing = 0.1;

    @Min(0)
    @Max(1)
    @Default("0.25")
    @JsonPropertyDescription("Random-erasing probability (--reprob, pixel mode, one box), finetune only.")
    public Double reprob = 0.25;

    @Default("rand-m9-mstd0.5-inc1")
    @io.fabric8.generator.annotation.Pattern("^(|rand(-[a-z]+[0-9.]+)*)$")
    @JsonPropertyDescription("RandAugment policy (--aa) in timm's notation; empty disables. Finetune only.")
    public String randAugment = "rand-m9-mstd0.5-inc1";

    @Default("true")
    @JsonPropertyDescription("Classify from the mean of the patch tokens + fc_norm (--global_pool); false = the"
            + " cls token after the final norm (--cls_token). Linear probing always uses the cls token.")
    public Boolean globalPool = true;

    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Global gradient-norm clipping (--clip_grad); unset = none, as in the reference.")
    public Double clipGrad;

    @Default("true")
    @JsonPropertyDescription("Evaluate on all ranks and reduce (--dist_eval).")
    public Boolean distEval = true;

    @Min(1)
    @Default("1")
    @JsonPropertyDescription("Save a checkpoint every this many epochs, and always after the last epoch.")
    public Integer checkpointInterval = 1;
}
