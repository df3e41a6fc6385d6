package io.milan.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Which pods are deleted when a run ends (Succeeded or Failed). */
public enum CleanPodPolicy {
    /** Delete every pod of the group. */
    @JsonProperty("All") ALL,
    /** Delete pods still running; keep finished ones for their logs. */
    @JsonProperty("Running") RUNNING,
    /** Keep all pods. */
    @JsonProperty("None") NONE
}
