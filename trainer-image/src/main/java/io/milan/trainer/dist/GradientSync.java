package io.milan.trainer.dist;

import ai.djl.ndarray.NDArray;
import io.milan.trainer.dist.c10d.C10dProcessGroup;
import io.milan.trainer.dist.c10d.C10dReducer;
import java.util.List;
import java.util.Map;

/**
 * Averages a model's gradients over the ranks during the backward, as PyTorch DDP does (libtorch's own
 * {@code c10d::Reducer}: buckets of about 25 MB in reverse parameter order, each all-reduced as soon as its
 * gradients are final, overlapping the rest of the backward).
 *
 * <pre>{@code
 * sync.backward(isStepBoundary, () -> collector.backward(loss));   // only step boundaries communicate
 * }</pre>
 *
 * <p>Loss scaling: each rank's loss is the mean over its own b samples; the mean over N ranks of their gradients
 * is (1/N)·Σ_i (1/b)·Σ_{j in rank i} ∇l_j = (1/B)·Σ_j ∇l_j, the gradient of one device taking the mean over the
 * whole global batch B = N·b (every rank gets the same b: the sampler pads, the loader drops the last partial
 * batch).
 */
public final class GradientSync implements AutoCloseable {

    private final ProcessGroup group;
    private final C10dReducer reducer; // null for a single process

    private GradientSync(ProcessGroup group, C10dReducer reducer) {
        this.group = group;
        this.reducer = reducer;
    }

    static GradientSync local(ProcessGroup group) {
        return new GradientSync(group, null);
    }

    static GradientSync over(ProcessGroup group, C10dProcessGroup c10d, Map<String, NDArray> parameters,
            long bucketBytes) {
        return new GradientSync(group, C10dReducer.create(c10d, parameters, bucketBytes));
    }

    /**
     * Runs {@code backward}; when {@code reduce}, every gradient holds its mean over the ranks afterwards (with
     * gradient accumulation: the sum over this step's micro-batches, averaged). Otherwise gradients only
     * accumulate locally (DDP's {@code no_sync()}).
     */
    public void backward(boolean reduce, Runnable backward) {
        if (reducer == null || !reduce) {
            backward.run();
            return;
        }
        group.collective("gradient all-reduce (in the backward)", () -> {
            reducer.prepareForBackward();
            backward.run();
            return null;
        });
    }

    /** The parameter names of each bucket, in all-reduce order (empty for a single process). */
    public List<List<String>> layout() {
        return reducer == null ? List.of() : reducer.layout();
    }

    @Override
    public void close() {
        if (reducer != null && !group.isBroken()) { // after a failure its buckets may wait on a dead peer
            reducer.close();
        }
    }
}
