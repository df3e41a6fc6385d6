package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.milan.trainer.model.MilanPretrainModel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real MILAN model and AdamW, trained by 2 or 4 processes (separate JVMs on loopback, started by the
 * launcher, gradients averaged by libtorch's Reducer over Gloo), with and without gradient accumulation, end with
 * the weights of one process trained on the same global batches: within {@link Weights#assertClose}'s tolerance
 * (float32 summation order differs), and bitwise the same on every rank.
 */
class MilanEquivalenceTest {

    /** Small enough that this tiny model's gradients travel in several buckets, overlapping the backward. */
    private static final long BUCKET_BYTES = 4096;

    private static List<float[]> initial;
    private static List<float[]> reference;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainOnOneProcess() {
        try (NDManager manager = NDManager.newBaseManager();
                ProcessGroup single = ProcessGroup.join(DistConfig.single())) {
            try (MilanPretrainModel untrained = MilanPretrainModel.create(MilanTraining.CONFIG, manager, 1)) {
                initial = new ArrayList<>();
                for (String name : untrained.parameters().trainableNames()) {
                    initial.add(untrained.parameters().get(name).toFloatArray());
                }
            }
            reference = MilanTraining.run(single, 1, BUCKET_BYTES, manager);
        }
        // AdamW moves every weight by about lr per step: far more than the tolerance below.
        assertTrue(Weights.maxChange(initial, reference) > 2 * MilanTraining.LR, "training moves the weights");
    }

    @ParameterizedTest(name = "{0} processes, {1} micro-batches per step")
    @CsvSource({"2, 1", "4, 1", "2, 2"})
    void processesMatchOneProcess(int processes, int accumulation) throws IOException {
        Launcher.Spec spec = Launcher.Spec.local(MilanTrainingWorker.class.getName(),
                List.of(dir.toString(), String.valueOf(accumulation), String.valueOf(BUCKET_BYTES)), processes,
                Duration.ofSeconds(120), dir.resolve("logs"), List.of("-Xmx768m"), Map.of());
        try (Launcher job = Launcher.start(spec)) {
            int[] codes = job.awaitExit(Duration.ofSeconds(400));
            for (int rank = 0; rank < processes; rank++) {
                assertEquals(0, codes[rank], "rank " + rank + " log:\n" + job.output(rank));
            }
        }
        List<float[]> primary = Weights.read(dir.resolve("rank-0.weights"));
        Weights.assertClose(reference, primary, processes + " processes x " + accumulation + " micro-batches");
        for (int rank = 1; rank < processes; rank++) {
            List<float[]> theirs = Weights.read(dir.resolve("rank-" + rank + ".weights"));
            for (int t = 0; t < primary.size(); t++) {
                assertArrayEquals(primary.get(t), theirs.get(t), "rank " + rank + " tensor " + t + " (bitwise)");
            }
        }
    }
}
