package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonParser;
import io.milan.trainer.checkpoint.S3Checkpoints;
import io.milan.trainer.cli.MilanTrainer;
import io.milan.trainer.dist.Launcher;
import io.milan.trainer.storage.MinioServer;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.S3Location;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny real pretraining run with --checkpoint_uri on a real S3 server (MinIO), in its own JVM with the
 * MILAN_S3_* variables the operator sets from a Secret: its checkpoints land in the bucket, and a second run on
 * an empty --output_dir (a new pod) resumes from them, exactly.
 */
class S3PretrainTest {

    @Test
    void aRunCheckpointsToTheBucketAndANewPodResumesFromIt(@TempDir Path dir) throws Exception {
        Path data = TinyRun.dataset(dir);
        Path teacher = TinyRun.randomTeacher(dir);
        try (MinioServer server = MinioServer.start(dir.resolve("minio"));
                ObjectStore objects = new ObjectStore(server.config())) {
            server.createBucket("milan");
            S3Location location = new S3Location("milan", "pretrain/tiny");
            String[] uri = {"--checkpoint_uri", location.toString()};

            Path firstPod = dir.resolve("pod-1");
            assertEquals(0, trainer(server.environment(), dir.resolve("pod-1.log"),
                    TinyRun.pretrain(data, teacher, firstPod, 2, uri)), Files.readString(dir.resolve("pod-1.log")));
            S3Checkpoints checkpoints = new S3Checkpoints(objects, location);
            S3Checkpoints.Manifest manifest = checkpoints.readManifest().orElseThrow();
            assertEquals(List.of(1, 0), manifest.checkpoints().stream().map(S3Checkpoints.Entry::epoch).toList());
            assertArrayEquals(Files.readAllBytes(firstPod.resolve("checkpoint-1.safetensors")),
                    objects.getBytes("milan", location.key("checkpoint-1.safetensors")).orElseThrow());

            // As if the pod had died during epoch 1: the bucket's manifest ends at epoch 0.
            S3Checkpoints.Manifest upToEpoch0 = new S3Checkpoints.Manifest(manifest.format(),
                    manifest.checkpoints().subList(1, 2));
            objects.putBytes("milan", location.key(S3Checkpoints.MANIFEST),
                    new Gson().toJson(upToEpoch0).getBytes(StandardCharsets.UTF_8));
            // A new pod: nothing local, --resume auto; the run continues with epoch 1 from the bucket's epoch 0.
            Path secondPod = dir.resolve("pod-2");
            List<String> resume = new ArrayList<>(List.of(uri));
            resume.addAll(List.of("--resume", "auto"));
            assertEquals(0, trainer(server.environment(), dir.resolve("pod-2.log"),
                    TinyRun.pretrain(data, teacher, secondPod, 2, resume.toArray(new String[0]))),
                    Files.readString(dir.resolve("pod-2.log")));
            String log = Files.readString(dir.resolve("pod-2.log"));
            assertTrue(log.contains("Restored the checkpoint of epoch 0 from " + location), log);
            List<String> epochs = Files.readAllLines(secondPod.resolve("log.txt"));
            assertEquals(1, epochs.size(), "only epoch 1 trained in the new pod: " + epochs);
            assertEquals(1, JsonParser.parseString(epochs.get(0)).getAsJsonObject().get("epoch").getAsInt());
            assertEquals(List.of(1, 0), checkpoints.readManifest().orElseThrow().checkpoints().stream()
                    .map(S3Checkpoints.Entry::epoch).toList());
            assertTrue(log.contains("Uploaded checkpoint of epoch 1 to " + location.url("checkpoint-1.safetensors")),
                    log);
            // Resumed exactly: epoch 1's weights equal those of the uninterrupted run.
            SameTensors.assertSame(firstPod.resolve("checkpoint-1.safetensors"),
                    secondPod.resolve("checkpoint-1.safetensors"), " differs after resume");
            assertTrue(!log.contains(server.secretKey()), "the secret is never logged");
        }
    }

    /** {@code milan-trainer <args>} in its own JVM with {@code env} added; returns the exit code. */
    static int trainer(Map<String, String> env, Path output, String[] args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> line = new ArrayList<>(List.of(java));
        Launcher.ownJvmOptions().stream().filter(o -> !o.startsWith("-Xmx")).forEach(line::add);
        line.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"), MilanTrainer.class.getName()));
        line.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().putAll(env);
        List.of("WORLD_SIZE", "RANK", "LOCAL_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT")
                .forEach(builder.environment()::remove);
        Process p = builder.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the trainer did not finish in 10 min: " + Files.readString(output));
        }
        return p.exitValue();
    }
}
