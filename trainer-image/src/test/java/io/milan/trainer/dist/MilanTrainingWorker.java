package io.milan.trainer.dist;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;

/**
 * One rank of {@link MilanEquivalenceTest}, started by {@link Launcher}: runs {@link MilanTraining} and writes
 * its weights to {@code <outDir>/rank-<r>.weights}. Arguments: {@code outDir accumulation bucketBytes}.
 */
public final class MilanTrainingWorker {

    private MilanTrainingWorker() {
    }

    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args[0]);
        int accumulation = Integer.parseInt(args[1]);
        long bucketBytes = Long.parseLong(args[2]);
        try (ProcessGroup group = ProcessGroup.join(DistConfig.fromEnv(System.getenv()));
                NDManager manager = NDManager.newBaseManager()) {
            Weights.write(outDir.resolve("rank-" + group.rank() + ".weights"),
                    MilanTraining.run(group, accumulation, bucketBytes, manager));
        }
        System.exit(0); // DJL's engine threads would keep the JVM alive
    }
}
