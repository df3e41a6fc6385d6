package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/**
 * spec.podTemplate: what a platform team adds to the trainer pods (Kubeflow Trainer v2's podTemplateOverrides).
 * The operator renders its pod first and lays these over it; entries it owns (its labels, volumes, the trainer
 * container, the rendezvous env) cannot be overridden, and the API server refuses a run that tries, with the
 * rules below, so a bad override fails at apply and never as a failed run.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class PodTemplateOverrides {
    @JsonPropertyDescription("Labels and annotations added to every trainer pod.")
    public Metadata metadata;

    @JsonPropertyDescription("Pod spec fields added to or replacing those of every trainer pod.")
    public PodSpecOverrides spec;

    /** Pod labels and annotations; the keys the operator, the Job controller, Kueue and the gang schedulers read are refused. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class Metadata {
        @Size(max = 64)
        @ValidationRule(value = ReservedNames.LABEL_RULE, message = ReservedNames.LABEL_MESSAGE)
        @JsonPropertyDescription("Labels of the trainer pods (chargeback, policy-required labels). Keys the"
                + " operator or the Job controller set are refused: " + ReservedNames.LABELS_TEXT + ".")
        public Map<String, String> labels;

        @Size(max = 64)
        @ValidationRule(value = ReservedNames.ANNOTATION_RULE, message = ReservedNames.ANNOTATION_MESSAGE)
        @JsonPropertyDescription("Annotations of the trainer pods (IRSA, sidecar injection, Prometheus). Keys the"
                + " operator or the Job controller set are refused: " + ReservedNames.ANNOTATIONS_TEXT + ".")
        public Map<String, String> annotations;
    }
}
