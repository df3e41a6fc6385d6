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
 * A MILAN pretraining run. Defaults reproduce the reference ViT-B/16 recipe: 256 images per GPU x 8 GPUs x 2
 * accumulation steps = 4096, blr 1.5e-4 (lr 2.4e-3), 400 epochs with 40 of warmup, mask ratio 0.75, prompting
 * decoder and semantic-aware masking on.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.warmupEpochs < self.epochs",
        message = "spec.warmupEpochs must be less than spec.epochs", fieldPath = ".warmupEpochs")
@ValidationRule(value = "!(" + ReservedNames.HAS_TRAINER_MOUNTS + ") || " + ReservedNames.TRAINER_MOUNTS + ".all(m, "
        + ReservedNames.NOT_AT_OUTPUT + " && " + ReservedNames.NOT_AT_DATASET
        + " && !(has(self.teacher) && has(self.teacher.weights) && has(self.teacher.weights.claimName)"
        + " && m.mountPath == self.teacher.weights.path))",
        message = ReservedNames.MOUNT_PATH_MESSAGE + "spec.dataset, spec.teacher.weights)",
        fieldPath = ReservedNames.MOUNT_PATH_FIELD)
@JsonIgnoreProperties(ignoreUnknown = true)
public class MilanPretrainSpec extends RunSpec {

    @Min(1)
    @Default("256")
    @JsonPropertyDescription("Images per GPU per micro-batch (--batch_size).")
    public Integer batchSize = 256;

    @Min(1)
    @Default("400")
    @JsonPropertyDescription("Training epochs (--epochs).")
    public Integer epochs = 400;

    @Min(0)
    @Default("40")
    @JsonPropertyDescription("Epochs of linear learning-rate warmup (--warmup_epochs); must be < epochs.")
    public Integer warmupEpochs = 40;

    @Min(value = 0, inclusive = false)
    @Default("1.5e-4")
    @JsonPropertyDescription("Base learning rate (--blr): lr = blr x effective batch size / 256.")
    public Double blr = 1.5e-4;

    @Min(0)
    @Default("0.0")
    @JsonPropertyDescription("Lower bound of the cosine schedule (--min_lr).")
    public Double minLr = 0.0;

    @Min(0)
    @Default("0.05")
    @JsonPropertyDescription("AdamW weight decay (--weight_decay); 1-D parameters and biases are exempt.")
    public Double weightDecay = 0.05;

    @Min(0)
    @Max(value = 1, inclusive = false)
    @Default("0.75")
    @JsonPropertyDescription("Fraction of patches masked (--mask_ratio), in [0, 1).")
    public Double maskRatio = 0.75;

    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Global gradient-norm clipping threshold (--clip_grad); unset = no clipping, as in"
            + " the reference.")
    public Double clipGrad;

    @Required
    @JsonPropertyDescription("The frozen teacher whose per-token features are the targets (--use_clip).")
    public TeacherSpec teacher;

    @Default("true")
    @JsonPropertyDescription("Use MILAN's prompting decoder (--change_decoder); false = the MAE decoder"
            + " (ablation).")
    public Boolean promptingDecoder = true;

    @JsonPropertyDescription("The decoder's width, depth and heads (default: the reference's 512, 8, 16).")
    public DecoderSpec decoder;

    @Default("true")
    @JsonPropertyDescription("Semantic-aware masking from the teacher's cls attention (--attn_mask); false ="
            + " uniform random masking.")
    public Boolean semanticMasking = true;

    @Min(1)
    @Default("20")
    @JsonPropertyDescription("Save a checkpoint every this many epochs, and always after the last epoch.")
    public Integer checkpointInterval = 20;
}
