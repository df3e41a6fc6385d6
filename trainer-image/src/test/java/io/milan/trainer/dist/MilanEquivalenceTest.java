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
 * The real MILAN model and AdamW: 2 replicas in one process, and 2 or 4 processes (separate JVMs on loopback,
 * with 1 or 2 replicas each), end with the weights of one device trained on the same global batches.
 */
class MilanEquivalenceTest {

    private static List<float[]> initial;
    private static List<float[]> reference;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainOnOneDevice() {
        try (NDManager manager = NDManager.newBaseManager();
                ProcessGroup single = ProcessGroup.join(DistConfig.single())) {
            try (MilanPretrainModel untrained = MilanPretrainModel.create(MilanTraining.CONFIG, manager, 1)) {
                initial = new ArrayList<>();
                for (String name : untrained.parameters().trainableNames()) {
                    initial.add(untrained.parameters().get(name).toFloatArray());
                }
            }
            reference = MilanTraining.run(single, 1, manager);
        }
        // AdamW moves every weight by about lr per step: far more than the tolerance below.
        assertTrue(Weights.maxChange(initial, reference) > 2 * MilanTraining.LR, "training moves the weights");
    }

    @Test
    void twoReplicasInOneProcessMatchOneDevice() {
        try (NDManager manager = NDManager.newBaseManager();
                ProcessGroup single = ProcessGroup.join(DistConfig.single())) {
            assertMatchesReference(MilanTraining.run(single, 2, manager), "2 replicas in one process");
        }
    }

    @ParameterizedTest(name = "{0} processes x {1} replicas")
    @CsvSource({"2, 1", "4, 1", "2, 2"})
    void processesMatchOneDevice(int processes, int replicas) throws IOException {
        LocalJob.Spec spec = new LocalJob.Spec(MilanTrainingWorker.class.getName(),
                List.of(dir.toString(), String.valueOf(replicas)), processes, 0, Duration.ofSeconds(120),
                dir.resolve("logs"), List.of("-Xmx768m"), Map.of("NPROC_PER_NODE", String.valueOf(replicas)));
        try (LocalJob job = LocalJob.start(spec)) {
            int[] codes = job.awaitExit(Duration.ofSeconds(400));
            for (int rank = 0; rank < processes; rank++) {
                assertEquals(0, codes[rank], "rank " + rank + " log:\n" + job.output(rank));
            }
        }
        List<float[]> primary = Weights.read(dir.resolve("rank-0.weights"));
        assertMatchesReference(primary, processes + " processes x " + replicas + " replicas");
        for (int rank = 1; rank < processes; rank++) {
            List<float[]> theirs = Weights.read(dir.resolve("rank-" + rank + ".weights"));
            for (int t = 0; t < primary.size(); t++) {
                assertArrayEquals(primary.get(t), theirs.get(t), "rank " + rank + " tensor " + t + " (bitwise)");
            }
        }
    }

    private static void assertMatchesReference(List<float[]> actual, String what) {
        Weights.assertClose(reference, actual, what);
    }
}
