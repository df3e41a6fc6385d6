package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * A frozen target network. It sees the same ImageNet-normalised crop as the student, runs without autograd, and
 * returns per-token targets plus its cls attention for semantic-aware masking. One instance per device.
 */
public interface Teacher extends AutoCloseable {

    /** images [N, 3, H, W] on the teacher's device → targets and cls attention (no gradient). */
    TeacherOutput forward(NDArray images);

    /** Width C of the targets (the decoder's outDim must match). */
    int dim();

    /** L, the number of patches it sees. */
    int numPatches();

    /** Its weights (all frozen). */
    NamedParameters parameters();

    @Override
    default void close() {
        parameters().close();
    }
}
