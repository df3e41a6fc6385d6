package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milan.api.ObjectStorage;
import io.milan.api.TrainerExitCodes;
import io.milan.trainer.checkpoint.S3Checkpoints;
import io.milan.trainer.checkpoint.SafeTensors;
import io.milan.trainer.storage.MinioServer;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.S3Location;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training from shards on a real S3 server (MinIO), each trainer in its own JVM with the variables the operator
 * renders: the quickstart's data sharded straight into the bucket by {@code milan-trainer shard --to s3://}, a
 * 2-process pretraining whose dataset and teacher are s3:// locations, stopped inside an epoch and resumed by a new
 * pod from the mid-epoch checkpoint in the bucket to the uninterrupted run's weights bit for bit, a fine-tune from the pretraining's checkpoint in the bucket that
 * evaluates the val shards and keeps its own checkpoints there, and the errors of refused credentials and a
 * missing bucket.
 */
class S3ShardTrainingTest {
    private static final String DATA = "s3://datasets/fashion-mnist";
    private static final String TEACHER = "s3://models/teacher";

    @TempDir
    static Path shared;
    private static MinioServer server;
    /** The dataset's and the teacher's variables (as the operator names them), no output variables. */
    private static Map<String, String> env;

    @BeforeAll
    static void shardIntoTheBucket() throws Exception {
        server = MinioServer.start(shared.resolve("minio"));
        for (String bucket : List.of("datasets", "models", "milan")) {
            server.createBucket(bucket);
        }
        env = new HashMap<>(roleEnv(ObjectStorage.Role.DATASET));
        env.putAll(roleEnv(ObjectStorage.Role.TEACHER));
        env.putAll(server.environment()); // the output's, for --checkpoint_uri

        Path folder = TinyRun.dataset(shared);
        ClassifierRunTest.trimVal(folder, ClassifierRunTest.VAL_PER_CLASS);
        for (String split : List.of("train", "val")) {
            Path log = shared.resolve("shard-" + split + ".log");
            // 600 train images in shards of 64: ranks split inside shards, as in ShardTrainingTest.
            assertEquals(0, S3PretrainTest.trainer(env, log, new String[] {"shard", "--from",
                folder.resolve(split).toString(), "--to", DATA + "/" + split, "--shard-size", "64"}),
                    Files.readString(log));
        }
        try (ObjectStore objects = new ObjectStore(server.config())) {
            objects.upload(TinyRun.randomTeacher(shared), "models", "teacher/model.safetensors");
        }
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    /**
     * Stopped inside epoch 1 (the SIGTERM path's step stop), a 2-process run streaming the bucket's shards leaves a
     * mid-epoch checkpoint in the bucket (uploaded by the background writer); a new pod, with nothing local,
     * resumes from it with --resume auto and ends with the weights, optimizer state and epoch-1 log line of an
     * uninterrupted run, bit for bit.
     */
    @Test
    void pretrainingFromTheBucketResumesInANewPodInsideAnEpochToTheSameRun(@TempDir Path straight,
            @TempDir Path stopped, @TempDir Path newPod) throws Exception {
        int stepsPerEpoch = 600 / (32 * 2);
        long stopAfter = stepsPerEpoch + 4;
        String[] uri = {"--checkpoint_uri", "s3://milan/pretrain"};
        assertEquals(0, run(straight, "straight", pretrain(straight, "--save_every_minutes", "0")));
        String log = Files.readString(straight.resolve("straight.log"));
        assertTrue(log.contains("Downloading " + TEACHER + "/model.safetensors"), log);
        assertEquals(TrainerExitCodes.DISRUPTED, run(stopped, "stopped", pretrain(stopped, "--save_every_minutes",
                "0", "--stop_after_steps", "" + stopAfter, uri[0], uri[1])));
        try (ObjectStore objects = new ObjectStore(server.config())) {
            S3Checkpoints.Entry newest = new S3Checkpoints(objects, new S3Location("milan", "pretrain"))
                    .readManifest().orElseThrow().checkpoints().get(0);
            assertEquals(1, newest.epoch());
            assertEquals(stopAfter, newest.step(), "the mid-epoch checkpoint is in the bucket");
        }
        Path midEpoch = stopped.resolve("checkpoint-1-step" + stopAfter + ".safetensors");
        JsonObject position = JsonParser.parseString(SafeTensors.readHeader(midEpoch).metadata()
                .get("dataPosition")).getAsJsonObject();
        assertEquals(1, position.get("epoch").getAsInt(), position.toString());
        assertEquals(4, position.get("batch").getAsInt(), position.toString());
        assertTrue(position.get("fingerprint").getAsString().startsWith("shards:"), position.toString());

        assertEquals(0, run(newPod, "resumed", pretrain(newPod, "--resume", "auto", uri[0], uri[1])));
        String resumed = Files.readString(newPod.resolve("resumed.log"));
        assertTrue(resumed.contains("Restored the mid-epoch checkpoint of epoch 1 after step " + stopAfter), resumed);
        for (String file : List.of("checkpoint-1.safetensors", "checkpoint-1.optim.safetensors")) {
            SameTensors.assertSame(straight.resolve(file), newPod.resolve(file), " of " + file
                    + " differs after resume");
        }
        assertEquals(Files.readAllLines(straight.resolve("log.txt")).subList(1, 2),
                Files.readAllLines(newPod.resolve("log.txt")), "epoch 1's line, as uninterrupted");
        assertFalse(resumed.contains(server.secretKey()), "never the secret");

        // A fine-tune whose encoder, dataset and checkpoints are all in object storage.
        try (ObjectStore objects = new ObjectStore(server.config())) {
            objects.upload(straight.resolve("checkpoint-1.safetensors"), "models", "milan/checkpoint-1.safetensors");
        }
        Map<String, String> withPretrained = new HashMap<>(env);
        withPretrained.putAll(roleEnv(ObjectStorage.Role.PRETRAINED));
        Path out = straight.resolve("finetune");
        Path finetuneLog = straight.resolve("finetune.log");
        assertEquals(0, S3PretrainTest.trainer(withPretrained, finetuneLog, new String[] {"finetune",
            "--global_pool", "--model", "vit_tiny", "--input_size", "16", "--patch_size", "4", "--batch_size", "32",
            "--epochs", "1", "--warmup_epochs", "0", "--lr", "2e-3", "--aa", "", "--reprob", "0", "--nb_classes",
            "10", "--num_workers", "2", "--device", "cpu", "--finetune",
            "s3://models/milan/checkpoint-1.safetensors", "--data_path", DATA, "--output_dir", out.toString(),
            "--checkpoint_uri", "s3://milan/finetune"}), Files.readString(finetuneLog));
        String line = Files.readAllLines(out.resolve("log.txt")).get(0);
        assertTrue(ClassifierRunTest.stat(line, "test_acc1") >= 0, line);
        try (ObjectStore objects = new ObjectStore(server.config())) {
            assertTrue(objects.getBytes("milan", "finetune/checkpoints.json").isPresent(), "checkpoints in the bucket");
        }
    }

    @Test
    void refusedCredentialsAndAMissingBucketAreNamedWithTheLocation(@TempDir Path dir) throws Exception {
        Map<String, String> wrong = new HashMap<>(env);
        wrong.put(ObjectStorage.Role.DATASET.env(ObjectStorage.ENV_SECRET_ACCESS_KEY), "not-the-secret");
        Path log = dir.resolve("refused.log");
        int code = S3PretrainTest.trainer(wrong, log, fromBucket(TinyRun.pretrain(Path.of(DATA), Path.of(TEACHER),
                dir.resolve("out"), 2), DATA));
        String text = Files.readString(log);
        assertNotEquals(0, code, text);
        assertTrue(text.contains("cannot read " + DATA + "/train/shards.json: the server refused the credentials"
                + " (SignatureDoesNotMatch, access key "), text);
        assertFalse(text.contains("not-the-secret"), "never the secret");

        Path missing = dir.resolve("missing.log");
        code = S3PretrainTest.trainer(env, missing, fromBucket(TinyRun.pretrain(Path.of(DATA), Path.of(TEACHER),
                dir.resolve("out2"), 2), "s3://no-such-bucket/fashion-mnist"));
        text = Files.readString(missing);
        assertNotEquals(0, code, text);
        assertTrue(text.contains("cannot read s3://no-such-bucket/fashion-mnist/train/shards.json: bucket"
                + " 'no-such-bucket' does not exist (endpoint " + server.endpoint() + ")"), text);
    }

    /** 2 processes (launch) of TinyRun's pretraining from the bucket's shards and teacher. */
    private static String[] pretrain(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("launch", "--nproc_per_node", "2"));
        args.addAll(List.of(fromBucket(TinyRun.pretrain(Path.of(DATA), Path.of(TEACHER), out, 2, "--shuffle_buffer",
                "100"), DATA)));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    /** TinyRun's command line with {@code data} and the bucket's teacher (Path would fold s3:// to s3:/). */
    private static String[] fromBucket(String[] args, String data) {
        String[] out = args.clone();
        for (int i = 0; i + 1 < out.length; i++) {
            if (out[i].equals("--data_path")) {
                out[i + 1] = data;
            } else if (out[i].equals("--teacher_path")) {
                out[i + 1] = TEACHER;
            }
        }
        return out;
    }

    private static int run(Path dir, String name, String[] args) throws Exception {
        return S3PretrainTest.trainer(env, dir.resolve(name + ".log"), args);
    }

    /** The server's endpoint and credentials as {@code role}'s variables. */
    private static Map<String, String> roleEnv(ObjectStorage.Role role) {
        Map<String, String> out = new HashMap<>();
        server.environment().forEach((name, value) -> out.put(role.env(name), value));
        return out;
    }
}
