package io.milan.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where the per-token reconstruction targets come from. */
public enum TeacherKind {
    /** The CLIP ViT-B/16 image tower, from the Hugging Face safetensors layout (openai/clip-vit-base-patch16). */
    @JsonProperty("clip") CLIP,
    /** An encoder checkpoint of this project (the paper also tried non-CLIP teachers; the CPU demo uses one). */
    @JsonProperty("encoder") ENCODER
}
