package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Live training progress, written by rank 0 of the trainer (field manager {@code milan-trainer}). Reports are
 * ordered by (attempt, globalStep): the API server refuses one older than what status already holds, so a
 * straggler from a previous attempt can never overwrite a newer report.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.attempt > oldSelf.attempt"
        + " || (self.attempt == oldSelf.attempt && self.globalStep >= oldSelf.globalStep)",
        message = "status.progress is older than the report already recorded (attempt, globalStep)")
@JsonIgnoreProperties(ignoreUnknown = true)
public class Progress {
    @io.fabric8.generator.annotation.Required
    @JsonPropertyDescription("Attempt (1-based) of the pod group that wrote this report.")
    public Integer attempt;
    @JsonPropertyDescription("Current epoch, 0-based as in log.txt.")
    public Integer epoch;
    @JsonPropertyDescription("Total epochs of the run.")
    public Integer totalEpochs;
    @JsonPropertyDescription("Completed fraction of all training iterations, in percent.")
    public Double percent;
    @JsonPropertyDescription("Iteration within the current epoch.")
    public Long step;
    @JsonPropertyDescription("Iterations per epoch (per rank).")
    public Long stepsPerEpoch;
    @io.fabric8.generator.annotation.Required
    @JsonPropertyDescription("Iterations since the start of the run.")
    public Long globalStep;
    @JsonPropertyDescription("Training throughput of the whole group, images per second.")
    public Double imagesPerSecond;
    @JsonPropertyDescription("Estimated seconds until the run finishes.")
    public Long etaSeconds;
    @JsonPropertyDescription("Mean training loss of the current epoch so far.")
    public Double trainLoss;
    @JsonPropertyDescription("Current learning rate.")
    public Double lr;
    @JsonPropertyDescription("Optimizer steps skipped since the run started because float16 loss scaling found"
            + " inf/NaN gradients (amp fp16; absent without loss scaling). Training goes on after a skipped step;"
            + " a count that keeps rising means the loss scale keeps backing off.")
    public Long skippedSteps;
    @JsonPropertyDescription("The float16 loss scale now (absent without loss scaling).")
    public Double lossScale;
    @JsonPropertyDescription("When the trainer wrote this report (RFC 3339).")
    public String updateTime;

    /** A field-by-field copy. */
    public Progress copy() {
        Progress c = new Progress();
        c.attempt = attempt;
        c.epoch = epoch;
        c.totalEpochs = totalEpochs;
        c.percent = percent;
        c.step = step;
        c.stepsPerEpoch = stepsPerEpoch;
        c.globalStep = globalStep;
        c.imagesPerSecond = imagesPerSecond;
        c.etaSeconds = etaSeconds;
        c.trainLoss = trainLoss;
        c.lr = lr;
        c.skippedSteps = skippedSteps;
        c.lossScale = lossScale;
        c.updateTime = updateTime;
        return c;
    }
}
