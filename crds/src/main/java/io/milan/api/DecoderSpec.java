package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The pretraining decoder's shape. The defaults are the reference's (512 wide, 8 blocks, 16 heads); small CPU
 * runs such as the quickstart use a much smaller decoder, as its cost does not shrink with the encoder.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.embedDim % self.numHeads == 0",
        message = "spec.decoder.embedDim must be a multiple of spec.decoder.numHeads", fieldPath = ".embedDim")
@JsonIgnoreProperties(ignoreUnknown = true)
public class DecoderSpec {
    @Min(1)
    @Default("512")
    @JsonPropertyDescription("Decoder width (--decoder_embed_dim).")
    public Integer embedDim = 512;

    @Min(1)
    @Default("8")
    @JsonPropertyDescription("Decoder blocks (--decoder_depth).")
    public Integer depth = 8;

    @Min(1)
    @Default("16")
    @JsonPropertyDescription("Decoder attention heads (--decoder_num_heads).")
    public Integer numHeads = 16;
}
