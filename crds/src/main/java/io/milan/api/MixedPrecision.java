package io.milan.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The trainer's mixed precision (--amp): autocast around the forwards and the loss, float32 weights. */
public enum MixedPrecision {
    /** float16 with dynamic loss scaling on GPUs (the reference's torch.cuda.amp), float32 on CPUs. */
    @JsonProperty("auto") AUTO("auto"),
    /** float16 autocast with dynamic loss scaling (torch.cuda.amp.GradScaler). */
    @JsonProperty("fp16") FP16("fp16"),
    /** bfloat16 autocast, no loss scaling: for A100/H100 (or CPUs with bfloat16). */
    @JsonProperty("bf16") BF16("bf16"),
    /** float32 throughout. */
    @JsonProperty("off") OFF("off");

    /** The value of the trainer's --amp flag. */
    public final String cliName;

    MixedPrecision(String cliName) {
        this.cliName = cliName;
    }
}
