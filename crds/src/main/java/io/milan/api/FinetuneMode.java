package io.milan.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** End-to-end fine-tuning (main_finetune.py) or a linear probe on the frozen encoder (main_linprobe.py). */
public enum FinetuneMode {
    @JsonProperty("finetune") FINETUNE,
    @JsonProperty("linprobe") LINPROBE
}
