package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** The pretrained encoder to start from (--finetune): a checkpoint file, or a MilanPretrain to wait for. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.checkpoint) != has(self.pretrainRef)",
        message = "spec.pretrained must set exactly one of checkpoint or pretrainRef")
@JsonIgnoreProperties(ignoreUnknown = true)
public class PretrainedSource {
    @JsonPropertyDescription("A pretraining checkpoint, safetensors with the reference's key names or a PyTorch"
            + " .pth in the MAE layout such as the authors' checkpoint-399.pth (read without Python); only encoder"
            + " weights are loaded. In object storage (s3): the checkpoint object, downloaded once per pod.")
    @ValidationRule(value = StorageLocation.INPUT_RULE, message = "spec.pretrained.checkpoint"
            + StorageLocation.INPUT_MESSAGE)
    public StorageLocation checkpoint;

    @JsonPropertyDescription("A MilanPretrain in the same namespace: the run waits (Pending) until it Succeeded,"
            + " then starts from its final checkpoint.")
    public PretrainRef pretrainRef;

    /** Reference to a MilanPretrain by name. */
    public static class PretrainRef {
        @Required
        @JsonPropertyDescription("Name of the MilanPretrain.")
        public String name;

        public PretrainRef() {
        }

        public PretrainRef(String name) {
            this.name = name;
        }
    }
}
