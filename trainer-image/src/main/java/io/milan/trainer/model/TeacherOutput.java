package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * What a frozen teacher gives the student for one batch.
 *
 * @param targets      per-token features [N, 1+L, C] (cls first), the reconstruction targets
 * @param clsAttention the last block's head-averaged attention of the cls query over all tokens [N, 1+L]
 *                     (each row sums to 1, cls→cls weight included)
 */
public record TeacherOutput(NDArray targets, NDArray clsAttention) implements AutoCloseable {

    /** cls→patch attention [N, L], the weights of semantic-aware masking (the cls→cls weight is dropped). */
    public NDArray importance() {
        return clsAttention.get(":, 1:");
    }

    @Override
    public void close() {
        targets.close();
        clsAttention.close();
    }
}
