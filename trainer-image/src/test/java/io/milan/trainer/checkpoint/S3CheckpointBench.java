package io.milan.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.model.ViTConfig;
import io.milan.trainer.optim.OptimizerState;
import io.milan.trainer.storage.MinioServer;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.S3Location;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints the write and read time of a vit_base pretraining checkpoint (MILAN's model: ViT-B/16 encoder and the
 * reference's 8-block 512-wide prompting decoder, with AdamW's two moments) to a local directory and to a local
 * MinIO server. A benchmark, not a test: it asserts nothing about times. Run with
 * {@code -Dtest=S3CheckpointBench -Dmilan.bench=true}.
 */
@EnabledIfSystemProperty(named = "milan.bench", matches = "true")
class S3CheckpointBench {

    @Test
    void vitBaseCheckpointToADirectoryAndToTheServer(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                MilanPretrainModel model = MilanPretrainModel.create(new PretrainConfig(ViTConfig.named("vit_base"),
                        new DecoderConfig(512, 8, 16, 4, 768, true)), m, 0);
                MinioServer server = MinioServer.start(dir.resolve("minio"));
                ObjectStore objects = new ObjectStore(server.config())) {
            server.createBucket("bench");
            Map<String, NDArray> weights = model.parameters().asMap();
            Map<String, NDArray> moments = new LinkedHashMap<>();
            weights.forEach((name, w) -> {
                moments.put("exp_avg." + name, w);
                moments.put("exp_avg_sq." + name, w);
            });
            Checkpoint checkpoint = new Checkpoint(0, 1, weights, new OptimizerState("adamw", 1, moments), Map.of());

            CheckpointStore local = new CheckpointStore(dir.resolve("local"));
            S3Location location = new S3Location("bench", "vit-base");
            CheckpointStore remote = new CheckpointStore(dir.resolve("staging"), null,
                    new S3Checkpoints(objects, location));
            double localWrite = seconds(() -> local.save(checkpoint));
            double remoteWrite = seconds(() -> remote.save(checkpoint));
            long bytes = Files.size(local.modelFile(0)) + Files.size(local.optimizerFile(0));
            double localRead = seconds(() -> close(local.loadNewestValid(m).orElseThrow()));
            CheckpointStore freshPod = new CheckpointStore(dir.resolve("fresh"), null,
                    new S3Checkpoints(objects, location));
            double remoteRead = seconds(() -> close(freshPod.loadNewestValid(m).orElseThrow()));
            System.out.printf(Locale.ROOT, "vit_base pretraining checkpoint (%d parameters; model + AdamW state:"
                    + " %.0f MB)%n", model.parameters().numel(), bytes / 1e6);
            System.out.printf(Locale.ROOT, "  write  local dir %6.1f s   MinIO (local write + upload + manifest)"
                    + " %6.1f s (%.0f MB/s upload)%n", localWrite, remoteWrite, bytes / 1e6 / (remoteWrite - localWrite));
            System.out.printf(Locale.ROOT, "  read   local dir %6.1f s   MinIO (download + SHA-256 + load)"
                    + " %6.1f s%n", localRead, remoteRead);
        }
    }

    private static void close(Checkpoint c) {
        c.model().values().forEach(NDArray::close);
        c.optimizer().tensors().values().forEach(NDArray::close);
    }

    private interface Timed {
        void run() throws Exception;
    }

    private static double seconds(Timed t) throws Exception {
        long start = System.nanoTime();
        t.run();
        return (System.nanoTime() - start) / 1e9;
    }
}
