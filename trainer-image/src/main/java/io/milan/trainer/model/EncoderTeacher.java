package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * A ViT encoder of this project as the teacher (the paper also tried non-CLIP teachers; tests and the CPU demo
 * use this one). Targets are its final-norm tokens [N, 1+L, D], optionally through a bias-free projection
 * {@value #PROJECTION} [C, D] stored in the same file; masking attention is its last block's head-averaged cls row.
 * Any other tensors in the file (a pretraining checkpoint's decoder, say) are ignored.
 */
public final class EncoderTeacher implements Teacher {

    /** Optional projection of the teacher's tokens, Linear layout [outDim, D], no bias. */
    public static final String PROJECTION = "projection.weight";

    private final VitEncoder encoder;

    private EncoderTeacher(VitEncoder encoder) {
        this.encoder = encoder;
    }

    /** Loads an encoder of shape {@code config} (and the optional projection) from a safetensors file. */
    public static EncoderTeacher load(Path file, ViTConfig config, NDManager manager) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("encoder teacher weights not found: " + file);
        }
        Map<String, NDArray> all = SafeTensors.read(file, manager).tensors();
        try {
            return fromTensors(all, config, manager, file.toString());
        } finally {
            all.values().forEach(NDArray::close);
        }
    }

    /** A frozen copy of the given tensors (reference encoder names, plus the optional projection). */
    public static EncoderTeacher fromTensors(Map<String, NDArray> tensors, ViTConfig config, NDManager manager,
            String source) {
        NamedParameters.Builder b = NamedParameters.builder(manager).frozen();
        VitEncoder.addParameters(b, config, new Random(0)); // placeholders, overwritten below
        NDArray projection = tensors.get(PROJECTION);
        if (projection != null) {
            Shape s = projection.getShape();
            if (s.dimension() != 2 || s.get(1) != config.dim()) {
                throw new IllegalArgumentException(source + ": " + PROJECTION + " must be [C, " + config.dim()
                        + "], got " + s);
            }
            b.add(PROJECTION, s, Init.constant(0, s.size()), false);
        }
        NamedParameters params = b.build();
        try {
            params.copyFrom(tensors);
        } catch (IllegalArgumentException e) {
            params.close();
            throw new IllegalArgumentException(source + ": not an encoder of the given shape: " + e.getMessage(), e);
        }
        return new EncoderTeacher(new VitEncoder(config, params));
    }

    @Override
    public TeacherOutput forward(NDArray images) {
        try (GradMode ignored = GradMode.disabled()) {
            TransformerBlock.Output out = encoder.forwardWithClsAttention(images);
            NDArray targets = parameters().contains(PROJECTION)
                    ? Layers.linear(out.tokens(), parameters(), "projection")
                    : out.tokens();
            return new TeacherOutput(targets, out.clsAttention());
        }
    }

    @Override
    public int dim() {
        NDArray projection = parameters().find(PROJECTION);
        return projection == null ? encoder.config().dim() : (int) projection.getShape().get(0);
    }

    @Override
    public int numPatches() {
        return encoder.config().numPatches();
    }

    @Override
    public NamedParameters parameters() {
        return encoder.parameters();
    }
}
