package io.milan.trainer.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.optim.OptimizerState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints carry their run's identity, and {@code --resume auto} continues only its own run's (issue 21,
 * defect 10): another run's UID or another run shape is refused with a message naming the file, both identities
 * and what to do; a checkpoint written before identities existed still resumes, with a warning.
 */
class CheckpointIdentityTest {
    private static final Map<String, String> SHAPE = Map.of("command", "pretrain", "--model", "vit_tiny",
            "--epochs", "400", "--mask_ratio", "0.75");
    private static final RunIdentity RUN_A = RunIdentity.of("uid-aaaa", "MilanPretrain ml/vit", SHAPE);

    @TempDir
    Path dir;
    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void everyCheckpointRecordsTheRunsIdentity() throws IOException {
        Path file = new CheckpointStore(dir, RUN_A).save(checkpoint(0));
        Map<String, String> meta = SafeTensors.readHeader(file).metadata();
        assertEquals("uid-aaaa", meta.get(RunIdentity.UID));
        assertEquals("MilanPretrain ml/vit", meta.get(RunIdentity.RUN));
        assertEquals(RUN_A.fingerprint(), meta.get(RunIdentity.FINGERPRINT));
        assertTrue(meta.get(RunIdentity.SHAPE).contains("\"--mask_ratio\":\"0.75\""), meta.get(RunIdentity.SHAPE));
        // Reserved: the identity is the store's to write, and it is not handed back as the caller's metadata.
        Checkpoint spoofed = new Checkpoint(1, 1, tensors(), null, Map.of(RunIdentity.UID, "uid-other"));
        assertThrows(IllegalArgumentException.class, () -> new CheckpointStore(dir, RUN_A).save(spoofed));
        assertFalse(new CheckpointStore(dir, RUN_A).resume("auto", manager).orElseThrow().metadata()
                .containsKey(RunIdentity.UID));
    }

    @Test
    void theSameRunResumesItsOwnCheckpoint() throws IOException {
        new CheckpointStore(dir, RUN_A).save(checkpoint(2));
        // The same run in its next attempt: same UID, same shape (a new identity object, as a new process makes).
        RunIdentity again = RunIdentity.of("uid-aaaa", "MilanPretrain ml/vit", new LinkedHashMap<>(SHAPE));
        assertEquals(2, new CheckpointStore(dir, again).resume("auto", manager).orElseThrow().epoch());
    }

    @Test
    void aCheckpointOfAnotherRunUidIsRefusedNamingTheFileBothRunsAndWhatToDo() throws IOException {
        new CheckpointStore(dir, RUN_A).save(checkpoint(3));
        // Deleted and recreated under the same name: the same spec, a new UID.
        RunIdentity recreated = RunIdentity.of("uid-bbbb", "MilanPretrain ml/vit", SHAPE);

        ForeignCheckpointException e = assertThrows(ForeignCheckpointException.class,
                () -> new CheckpointStore(dir, recreated).resume("auto", manager));
        String m = e.getMessage();
        assertTrue(m.contains(dir.resolve("checkpoint-3.safetensors").toString()), m);
        assertTrue(m.contains("written by MilanPretrain ml/vit (uid uid-aaaa), this is MilanPretrain ml/vit"
                + " (uid uid-bbbb)"), m);
        assertTrue(m.contains("output directory of its own") && m.contains("spec.output"), m);
        assertTrue(m.contains("--resume " + dir.resolve("checkpoint-3.safetensors")), m);
        // The trainer's usage-error type: the process exits as a configuration error, not as a crash.
        assertTrue(e instanceof IllegalArgumentException);
    }

    @Test
    void aCheckpointOfAnotherRunShapeIsRefusedNamingTheFlagsThatDiffer() throws IOException {
        new CheckpointStore(dir, RUN_A).save(checkpoint(1));
        Map<String, String> other = new LinkedHashMap<>(SHAPE);
        other.put("--mask_ratio", "0.5");
        other.put("--epochs", "800");
        // Outside Kubernetes (no UID) the fingerprint alone decides.
        RunIdentity local = RunIdentity.of(null, null, other);

        String m = assertThrows(ForeignCheckpointException.class,
                () -> new CheckpointStore(dir, local).resume("auto", manager)).getMessage();
        assertTrue(m.contains("run-shaping flags differ (fingerprint " + RUN_A.fingerprint() + ", this run's "
                + local.fingerprint() + ")"), m);
        assertTrue(m.contains("--epochs 400 in the checkpoint, 800 now"), m);
        assertTrue(m.contains("--mask_ratio 0.75 in the checkpoint, 0.5 now"), m);
        assertFalse(m.contains("uid"), "no UID to compare outside Kubernetes: " + m);
    }

    @Test
    void aCheckpointWithoutIdentityStillResumesWithAWarning() throws IOException {
        new CheckpointStore(dir).save(checkpoint(4)); // as the trainer wrote them before this change

        String log = stderrOf(() -> assertEquals(4, new CheckpointStore(dir, RUN_A).resume("auto", manager)
                .orElseThrow().epoch()));
        assertTrue(log.contains("checkpoint-4.safetensors records no run identity"), log);
    }

    @Test
    void anotherRunsCheckpointNamedExplicitlyIsAWarmStartWithAWarning() throws IOException {
        Path file = new CheckpointStore(dir.resolve("other"), RUN_A).save(checkpoint(5));
        RunIdentity mine = RunIdentity.of("uid-cccc", "MilanPretrain ml/warm", SHAPE);

        String log = stderrOf(() -> assertEquals(5, new CheckpointStore(dir.resolve("mine"), mine)
                .resume(file.toString(), manager).orElseThrow().epoch()));
        assertTrue(log.contains("a checkpoint of another run") && log.contains("uid uid-aaaa"), log);
    }

    @Test
    void aStoreWithoutIdentityResumesAnything() throws IOException {
        new CheckpointStore(dir, RUN_A).save(checkpoint(6)); // evaluation reads any run's checkpoint
        assertEquals(6, new CheckpointStore(dir).resume("auto", manager).orElseThrow().epoch());
    }

    @Test
    void pruneDeletesOnlyThisRunsCheckpoints() throws IOException {
        // A deleted run of the same name (another UID) left epochs 0 and 1 and a checkpoint inside epoch 2.
        CheckpointStore gone = new CheckpointStore(dir, RunIdentity.of("uid-gone", "MilanPretrain ml/vit", SHAPE));
        gone.save(checkpoint(0));
        gone.save(checkpoint(1));
        Checkpoint inside = checkpoint(2);
        gone.save(new Checkpoint(2, 25, inside.model(), inside.optimizer(), new EpochPosition(2, 10, 2, 7).metadata()));
        new CheckpointStore(dir).save(checkpoint(4)); // written before checkpoints carried an identity
        CheckpointStore mine = new CheckpointStore(dir, RUN_A);
        mine.save(checkpoint(2));
        mine.save(checkpoint(3));

        String log = stderrOf(() -> mine.prune(3, 1));

        assertEquals(List.of(0, 1, 3, 4), mine.savedEpochs(), "this run's epoch 2 goes, the other run's stay");
        for (int epoch : new int[] {0, 1}) {
            assertTrue(Files.exists(mine.optimizerFile(epoch)), "the other run's optimizer file of epoch " + epoch);
        }
        assertFalse(Files.exists(mine.optimizerFile(2)));
        assertTrue(Files.exists(dir.resolve("checkpoint-2-step25.safetensors")));
        assertTrue(Files.exists(dir.resolve("checkpoint-2-step25.optim.safetensors")));
        assertTrue(log.contains("Left the checkpoints of epochs [0, 1] in " + dir + ": they record another run"), log);

        // A checkpoint without identity is one resume adopts, so prune treats it as this run's; a store without
        // identity (tools) prunes by epoch alone, as before.
        mine.prune(4, 1);
        assertEquals(List.of(0, 1, 4), mine.savedEpochs());
        new CheckpointStore(dir).prune(4, 1);
        assertEquals(List.of(4), mine.savedEpochs());
    }

    private Checkpoint checkpoint(int epoch) {
        Map<String, NDArray> state = Map.of("exp_avg.w", manager.zeros(new Shape(2)),
                "exp_avg_sq.w", manager.zeros(new Shape(2)));
        return new Checkpoint(epoch, 10L * epoch, tensors(), new OptimizerState("adamw", 10L * epoch, state),
                Map.of("seed", "0"));
    }

    private Map<String, NDArray> tensors() {
        return Map.of("w", manager.create(new float[] {1f, 2f}));
    }

    /** What the trainer logged (slf4j-simple writes to the current System.err) while {@code action} ran. */
    private static String stderrOf(ThrowingRunnable action) throws IOException {
        PrintStream before = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(before);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    private interface ThrowingRunnable {
        void run() throws IOException;
    }
}
