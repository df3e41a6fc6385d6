package io.milan.trainer.dist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One rank of the data-parallel equivalence test, started by {@link LocalJob}: trains {@link TinyMlp} on its
 * share of each global batch, the way the trainer's loop does (broadcast initial weights, per-replica backward,
 * replica average, bucketed all-reduce across processes, one optimizer step, weights to the other replicas),
 * then writes its weights to {@code <outDir>/rank-<r>.weights}.
 *
 * <p>Arguments: {@code outDir steps globalBatch replicasPerProcess}.
 */
public final class MlpTrainingWorker {

    /** Small buckets so that even this model's gradients travel in several pipelined buckets. */
    static final long BUCKET_BYTES = 512;

    private MlpTrainingWorker() {
    }

    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args[0]);
        int steps = Integer.parseInt(args[1]);
        int globalBatch = Integer.parseInt(args[2]);
        int replicaCount = Integer.parseInt(args[3]);
        DistConfig config = DistConfig.fromEnv(System.getenv());
        try (ProcessGroup group = ProcessGroup.join(config); NDManager manager = NDManager.newBaseManager()) {
            List<Map<String, NDArray>> replicas = new ArrayList<>();
            // Only rank 0 starts from the reference's initial weights: the broadcast must give them to the rest.
            replicas.add(TinyMlp.init(manager, group.isPrimary() ? 1 : 100 + group.rank()));
            for (int i = 1; i < replicaCount; i++) {
                replicas.add(TinyMlp.init(manager, 200 + i));
            }
            ArrayBroadcast.fromPrimary(group, replicas.get(0));
            ReplicaGroup local = new ReplicaGroup(replicas);
            local.copyWeightsFromPrimary();

            long perProcess = globalBatch / group.worldSize();
            long from = group.rank() * perProcess;
            try (GradientBucketer bucketer = new GradientBucketer(local.primary(), BUCKET_BYTES)) {
                System.out.println("buckets " + bucketer.layout());
                for (int step = 0; step < steps; step++) {
                    NDArray[] batch = TinyMlp.batch(manager, step, globalBatch);
                    NDArray x = TinyMlp.rows(batch[0], from, from + perProcess);
                    NDArray y = TinyMlp.rows(batch[1], from, from + perProcess);
                    TinyMlp.backward(replicas, local.split(x), local.split(y));
                    local.averageGradients();
                    bucketer.allReduceMean(group);
                    TinyMlp.sgdStep(local.primary());
                    local.copyWeightsFromPrimary();
                }
            }
            Weights.write(outDir.resolve("rank-" + group.rank() + ".weights"), TinyMlp.values(local.primary()));
        }
    }
}
