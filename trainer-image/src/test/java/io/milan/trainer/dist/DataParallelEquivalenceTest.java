package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * N processes (separate JVMs on loopback, real DJL gradients, real bucketing and TCP), optionally with several
 * replicas each, end with the same weights as one device trained on the same global batches.
 */
class DataParallelEquivalenceTest {

    private static final int STEPS = 5;
    private static final int GLOBAL_BATCH = 8;

    private static List<float[]> initial;
    private static List<float[]> reference;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainOnOneDevice() {
        try (NDManager manager = NDManager.newBaseManager()) {
            initial = TinyMlp.values(TinyMlp.init(manager, 1));
            reference = TinyMlp.trainOnOneDevice(manager, STEPS, GLOBAL_BATCH);
        }
        assertTrue(Weights.maxChange(initial, reference) > Weights.MINIMUM_MOVEMENT, "training moves the weights");
    }

    @ParameterizedTest(name = "{0} processes x {1} replicas")
    @CsvSource({"1, 1", "2, 1", "4, 1", "2, 2"})
    void splitTrainingMatchesOneDevice(int processes, int replicas) throws IOException {
        LocalJob.Spec spec = new LocalJob.Spec(MlpTrainingWorker.class.getName(),
                List.of(dir.toString(), String.valueOf(STEPS), String.valueOf(GLOBAL_BATCH), String.valueOf(replicas)),
                processes, 0, Duration.ofSeconds(60), dir.resolve("logs"), List.of("-Xmx512m"),
                Map.of("NPROC_PER_NODE", String.valueOf(replicas)));
        try (LocalJob job = LocalJob.start(spec)) {
            int[] codes = job.awaitExit(Duration.ofSeconds(300));
            for (int rank = 0; rank < processes; rank++) {
                assertEquals(0, codes[rank], "rank " + rank + " log:\n" + job.output(rank));
            }
            assertTrue(job.output(0).contains("buckets [[fc1.weight], [fc1.bias], [fc2.weight, fc2.bias]]"),
                    "gradients went in several buckets:\n" + job.output(0));
        }
        List<float[]> primary = Weights.read(dir.resolve("rank-0.weights"));
        Weights.assertClose(reference, primary, processes + " processes x " + replicas + " replicas");
        for (int rank = 1; rank < processes; rank++) {
            List<float[]> theirs = Weights.read(dir.resolve("rank-" + rank + ".weights"));
            for (int t = 0; t < primary.size(); t++) {
                assertArrayEquals(primary.get(t), theirs.get(t), "rank " + rank + " tensor " + t + " (bitwise)");
            }
        }
    }
}
