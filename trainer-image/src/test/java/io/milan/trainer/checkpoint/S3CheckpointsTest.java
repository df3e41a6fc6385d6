package io.milan.trainer.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.optim.OptimizerState;
import io.milan.trainer.storage.MinioServer;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.ObjectStoreConfig;
import io.milan.trainer.storage.S3Location;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints in a real S3 server (MinIO built from its Go module): upload, resume, fallback, prune, errors. */
class S3CheckpointsTest {
    private static final String BUCKET = "milan-checkpoints";

    @TempDir
    static Path serverDir;
    private static MinioServer server;
    private static ObjectStore objects;
    private static int runs;

    @TempDir
    Path work;
    private NDManager manager;
    private S3Location location;

    @BeforeAll
    static void startServer() throws Exception {
        server = MinioServer.start(serverDir.resolve("data"));
        server.createBucket(BUCKET);
        objects = new ObjectStore(server.config());
    }

    @AfterAll
    static void stopServer() throws Exception {
        objects.close();
        server.close();
    }

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
        location = new S3Location(BUCKET, "runs/run-" + (++runs));
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void aCheckpointUploadedFromOnePodResumesInAnotherFromTheSameBytes() throws Exception {
        CheckpointStore writer = store(work.resolve("pod-1"), objects);
        Path file = writer.save(checkpoint(3, 1.5f, 1000));
        assertEquals("s3://" + BUCKET + "/" + location.prefix() + "/checkpoint-3.safetensors", writer.locationOf(file));
        // The objects are the very safetensors files (what PyTorch's safetensors.torch.load_file reads).
        for (String name : List.of("checkpoint-3.safetensors", "checkpoint-3.optim.safetensors")) {
            byte[] object = objects.getBytes(BUCKET, location.key(name)).orElseThrow();
            assertArrayEquals(Files.readAllBytes(work.resolve("pod-1").resolve(name)), object, name);
        }
        // A new pod: an empty scratch directory, --resume auto.
        Path fresh = work.resolve("pod-2");
        Checkpoint back = store(fresh, objects).resume("auto", manager).orElseThrow();
        assertEquals(3, back.epoch());
        assertEquals(30, back.globalStep());
        assertTrue(back.model().get("w").contentEquals(manager.full(new Shape(1000), 1.5f)));
        assertEquals(7, back.optimizer().step());
        assertTrue(Files.isRegularFile(fresh.resolve("checkpoint-3.optim.safetensors")));
    }

    @Test
    void nothingInTheBucketStartsFresh() throws Exception {
        assertTrue(store(work, objects).resume("auto", manager).isEmpty());
    }

    @Test
    void aCorruptNewestObjectFallsBackToThePreviousCheckpoint() throws Exception {
        CheckpointStore writer = store(work.resolve("pod-1"), objects);
        writer.save(checkpoint(0, 1f, 1000));
        writer.save(checkpoint(1, 2f, 1000));
        // Bit rot or a foreign write: the newest model object no longer matches the manifest's SHA-256.
        byte[] bytes = objects.getBytes(BUCKET, location.key("checkpoint-1.safetensors")).orElseThrow();
        bytes[bytes.length - 1] ^= 1;
        objects.putBytes(BUCKET, location.key("checkpoint-1.safetensors"), bytes);

        Checkpoint back = store(work.resolve("pod-2"), objects).resume("auto", manager).orElseThrow();
        assertEquals(0, back.epoch());
        assertFalse(Files.exists(work.resolve("pod-2/checkpoint-1.safetensors")), "the corrupt copy is not kept");
    }

    @Test
    void pruningKeepsTheNewestInTheManifestAndDeletesTheRestsObjects() throws Exception {
        CheckpointStore writer = store(work.resolve("pod-1"), objects);
        for (int epoch = 0; epoch < 4; epoch++) {
            writer.save(checkpoint(epoch, epoch, 100));
            writer.prune(epoch, 2);
        }
        List<String> names = objects.list(location).stream()
                .map(o -> o.key().substring(location.prefix().length() + 1)).sorted().toList();
        assertEquals(List.of("checkpoint-2.optim.safetensors", "checkpoint-2.safetensors",
                "checkpoint-3.optim.safetensors", "checkpoint-3.safetensors", S3Checkpoints.MANIFEST), names);
        S3Checkpoints.Manifest manifest = new S3Checkpoints(objects, location).readManifest().orElseThrow();
        assertEquals(List.of(3, 2), manifest.checkpoints().stream().map(S3Checkpoints.Entry::epoch).toList());
    }

    /**
     * The server dies in the middle of the multipart upload of the newest checkpoint's model file (its optimizer
     * file already uploaded) and comes back on the same data: no partial object is visible, the manifest still names
     * the previous checkpoint, and resuming picks it.
     */
    @Test
    void aServerKilledMidUploadLeavesThePreviousCheckpointToResumeFrom() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        AtomicInteger uploadsStarted = new AtomicInteger();
        // 5 MiB parts; a 6 M-float file (24 MB) is five parts, so a kill after part 1 lands mid-upload. The first
        // upload of epoch 1 is its optimizer file, the second its model file.
        try (ObjectStore interrupted = new ObjectStore(server.config(), 5L << 20, part -> {
            if (armed.get() && part == 1 && uploadsStarted.incrementAndGet() == 2) {
                try {
                    server.kill();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        })) {
            CheckpointStore writer = store(work.resolve("pod-1"), interrupted);
            writer.save(checkpoint(0, 1f, 6_000_000));
            armed.set(true);
            IOException failure = assertThrows(IOException.class, () -> writer.save(checkpoint(1, 2f, 6_000_000)));
            assertTrue(failure.getMessage().contains(location.url("checkpoint-1.safetensors")), failure.getMessage());
        }
        server.start(); // the same port and data directory
        assertTrue(objects.getBytes(BUCKET, location.key("checkpoint-1.optim.safetensors")).isPresent(),
                "the optimizer file went up before the kill");
        assertTrue(objects.getBytes(BUCKET, location.key("checkpoint-1.safetensors")).isEmpty(),
                "no partial object is visible after the interrupted upload");
        Checkpoint back = store(work.resolve("pod-2"), objects).resume("auto", manager).orElseThrow();
        assertEquals(0, back.epoch());
        assertTrue(back.model().get("w").contentEquals(manager.full(new Shape(6_000_000), 1f)));
    }

    @Test
    void refusedCredentialsAreNamedWithTheLocationAndWithoutTheSecret() throws Exception {
        ObjectStoreConfig good = server.config();
        String wrongSecret = "not-the-secret-" + server.secretKey().substring(0, 4);
        ObjectStoreConfig bad = new ObjectStoreConfig(good.endpoint(), good.region(), true,
                new ObjectStoreConfig.Credentials(good.credentials().accessKeyId(), wrongSecret));
        try (ObjectStore refused = new ObjectStore(bad)) {
            IOException e = assertThrows(IOException.class,
                    () -> store(work, refused).save(checkpoint(0, 1f, 10)));
            String message = e.getMessage();
            assertTrue(message.contains(location.url("checkpoint-0.optim.safetensors")), message);
            assertTrue(message.contains("refused the credentials"), message);
            assertTrue(message.contains(good.credentials().accessKeyId()), "names the key id: " + message);
            assertFalse(message.contains(wrongSecret) || message.contains(server.secretKey()), message);
        }
    }

    @Test
    void aMissingBucketIsNamed() throws Exception {
        S3Location missing = new S3Location("no-such-bucket", "run");
        CheckpointStore store = new CheckpointStore(work, null, new S3Checkpoints(objects, missing));
        CheckpointException e = assertThrows(CheckpointException.class, () -> store.resume("auto", manager));
        assertTrue(e.getMessage().contains("bucket 'no-such-bucket' does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains(server.endpoint().toString()), e.getMessage());
    }

    /**
     * Mid-epoch checkpoints are copied too: the manifest holds the newest one between the ends of its epoch and the
     * one before, a new pod resumes from it, and an epoch-end checkpoint of its epoch replaces it.
     */
    @Test
    void theNewestMidEpochCheckpointIsCopiedResumedAndReplacedByItsEpochsEnd() throws Exception {
        CheckpointStore writer = store(work.resolve("pod-1"), objects);
        writer.save(checkpoint(0, 1f, 100));
        writer.save(midEpoch(1, 12, 2f));
        writer.save(midEpoch(1, 15, 3f));
        S3Checkpoints.Manifest manifest = new S3Checkpoints(objects, location).readManifest().orElseThrow();
        assertEquals(List.of("1 step 15", "0 end"), manifest.checkpoints().stream().map(e -> e.epoch()
                + (e.midEpoch() ? " step " + e.step() : " end")).toList());
        assertEquals(List.of("checkpoint-0.optim.safetensors", "checkpoint-0.safetensors",
                "checkpoint-1-step15.optim.safetensors", "checkpoint-1-step15.safetensors", S3Checkpoints.MANIFEST),
                names(), "the older mid-epoch copy is gone");

        Checkpoint back = store(work.resolve("pod-2"), objects).resume("auto", manager).orElseThrow();
        assertEquals(1, back.epoch());
        assertEquals(15, back.globalStep());
        assertTrue(back.model().get("w").contentEquals(manager.full(new Shape(100), 3f)));
        assertEquals(new EpochPosition(1, 10, 2, 7), EpochPosition.of(back, "x").orElseThrow());

        writer.save(checkpoint(1, 4f, 100));
        writer.prune(1, 1);
        assertEquals(List.of("checkpoint-1.optim.safetensors", "checkpoint-1.safetensors", S3Checkpoints.MANIFEST),
                names());
        assertEquals(10, store(work.resolve("pod-3"), objects).resume("auto", manager).orElseThrow().globalStep());
    }

    private List<String> names() throws Exception {
        return objects.list(location).stream().map(o -> o.key().substring(location.prefix().length() + 1)).sorted()
                .toList();
    }

    private Checkpoint midEpoch(int epoch, long step, float value) {
        Checkpoint c = checkpoint(epoch, value, 100);
        return new Checkpoint(epoch, step, c.model(), c.optimizer(), new EpochPosition(epoch, 10, 2, 7).metadata());
    }

    private CheckpointStore store(Path dir, ObjectStore through) {
        return new CheckpointStore(dir, null, new S3Checkpoints(through, location));
    }

    /** A checkpoint whose model is one tensor {@code w} of {@code n} floats equal to {@code value}. */
    private Checkpoint checkpoint(int epoch, float value, int n) {
        Map<String, NDArray> model = new LinkedHashMap<>();
        model.put("w", manager.full(new Shape(n), value));
        Map<String, NDArray> moments = new LinkedHashMap<>();
        moments.put("exp_avg.w", manager.full(new Shape(n), value / 10 + 0.01f));
        return new Checkpoint(epoch, epoch * 10L, model, new OptimizerState("adamw", 7, moments), Map.of());
    }
}
