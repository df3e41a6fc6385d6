package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** How the latest attempt that did not succeed ended: its class, the pod and exit code that said so. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class AttemptFailure {
    @JsonPropertyDescription("The attempt that ended.")
    public Integer attempt;

    @JsonProperty("class")
    @JsonPropertyDescription("Disruption (restarted from the latest checkpoint, not counted in restarts),"
            + " Configuration (the run failed at once) or Failure (restarted with backoff, counted).")
    public FailureClass failureClass;

    @JsonPropertyDescription("Exit code of the failed trainer container, when a pod ended with one.")
    public Integer exitCode;

    @JsonPropertyDescription("The pod that ended the attempt, when one did.")
    public String pod;

    @JsonPropertyDescription("What happened: the pod, its container's reason, exit code and termination message.")
    public String message;

    @JsonPropertyDescription("When the operator saw it (RFC 3339).")
    public String time;
}
