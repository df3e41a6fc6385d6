package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import io.milan.trainer.dist.ArrayBroadcast;
import io.milan.trainer.dist.GradientBucketer;
import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.dist.ReplicaGroup;
import java.util.List;
import java.util.Map;

/**
 * Data parallelism over the local devices (one model replica each) and across the processes of the pod group:
 * gradients are averaged over replicas, then over processes, so one optimizer step sees the gradient of the
 * whole global batch; after the step the local replicas copy replica 0's weights.
 */
final class DataParallel implements AutoCloseable {
    private final ProcessGroup group;
    private final ReplicaGroup replicas;
    private final GradientBucketer bucketer;

    DataParallel(ProcessGroup group, List<? extends Map<String, NDArray>> replicaParameters) {
        this.group = group;
        this.replicas = new ReplicaGroup(replicaParameters);
        this.bucketer = new GradientBucketer(replicas.primary());
    }

    ReplicaGroup replicas() {
        return replicas;
    }

    ProcessGroup group() {
        return group;
    }

    /** Replica 0's gradients := the mean over every replica of every process. */
    void averageGradients() {
        replicas.averageGradients();
        bucketer.allReduceMean(group);
    }

    /** After the optimizer stepped replica 0: the other local replicas take its weights. */
    void afterStep() {
        replicas.copyWeightsFromPrimary();
    }

    /** Every process takes rank 0's values of {@code arrays} (initial or resumed weights, optimizer state). */
    void broadcastFromPrimary(Map<String, NDArray> arrays) {
        ArrayBroadcast.fromPrimary(group, arrays);
    }

    /** Sums per-rank statistics (loss sums, sample counts) over all processes. */
    double[] sum(double... values) {
        return group.allReduceSum(values);
    }

    @Override
    public void close() {
        bucketer.close();
    }
}
