package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** The frozen teacher whose features MILAN reconstructs (--use_clip). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class TeacherSpec {
    @Default("clip")
    @JsonPropertyDescription("Teacher kind: clip (CLIP ViT-B/16 image tower) or encoder (a ViT encoder checkpoint"
            + " of this project).")
    public TeacherKind kind = TeacherKind.CLIP;

    @Required
    @ValidationRule(value = StorageLocation.INPUT_RULE, message = "spec.teacher.weights"
            + StorageLocation.INPUT_MESSAGE)
    @JsonPropertyDescription("The teacher's weights: a safetensors file (for clip, model.safetensors of"
            + " openai/clip-vit-base-patch16) or a directory holding one; in object storage (s3) the object, or a prefix"
            + " holding model.safetensors.")
    public StorageLocation weights;

    @JsonPropertyDescription("For kind encoder: the ViT size of the teacher checkpoint (defaults to the"
            + " student's model).")
    public VitModel model;
}
