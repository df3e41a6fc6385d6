package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The newest checkpoint the trainer has written; the next attempt resumes from it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class CheckpointStatus {
    @JsonPropertyDescription("Epoch (0-based) the checkpoint was taken after.")
    public Integer epoch;
    @JsonPropertyDescription("Path of the checkpoint file inside the trainer container.")
    public String path;
    @JsonPropertyDescription("When it was written (RFC 3339).")
    public String time;
}
