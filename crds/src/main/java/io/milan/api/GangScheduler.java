package io.milan.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Which gang scheduler, if any, gets a PodGroup object (min member = nodes) for the run. */
public enum GangScheduler {
    @JsonProperty("none") NONE,
    @JsonProperty("volcano") VOLCANO,
    @JsonProperty("coscheduling") COSCHEDULING
}
