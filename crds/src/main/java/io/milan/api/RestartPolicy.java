package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;

/** Gang restart: when any pod of the group fails, the whole group is recreated as the next attempt. */
@JsonIgnoreProperties(ignoreUnknown = true)
public class RestartPolicy {
    @Min(0)
    @Default("3")
    @JsonPropertyDescription("How many times the pod group is recreated after a failure before the run is"
            + " Failed. 0 disables gang restarts.")
    public Integer maxRestarts = 3;

    @Min(0)
    @Default("10")
    @JsonPropertyDescription("Delay before the first restart, in seconds; doubled on each further restart.")
    public Integer backoffSeconds = 10;

    @Min(0)
    @Default("600")
    @JsonPropertyDescription("Upper bound of the restart delay, in seconds.")
    public Integer maxBackoffSeconds = 600;
}
