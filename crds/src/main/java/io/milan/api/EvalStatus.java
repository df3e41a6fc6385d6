package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Evaluation on the validation set after an epoch of fine-tuning or linear probing. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class EvalStatus {
    @JsonPropertyDescription("Epoch the figures below belong to.")
    public Integer epoch;
    @JsonPropertyDescription("Top-1 accuracy in percent.")
    public Double top1;
    @JsonPropertyDescription("Top-5 accuracy in percent.")
    public Double top5;
    @JsonPropertyDescription("Validation cross-entropy loss.")
    public Double loss;
    @JsonPropertyDescription("Best top-1 accuracy so far, in percent.")
    public Double bestTop1;
    @JsonPropertyDescription("Epoch of the best top-1 accuracy.")
    public Integer bestEpoch;
}
