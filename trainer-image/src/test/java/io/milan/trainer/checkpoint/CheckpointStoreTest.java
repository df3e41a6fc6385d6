package io.milan.trainer.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.optim.AdamW;
import io.milan.trainer.optim.OptimizerState;
import io.milan.trainer.optim.ParamGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {

    @TempDir
    Path dir;
    private NDManager manager;
    private CheckpointStore store;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
        store = new CheckpointStore(dir);
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void roundTripOfWeightsOptimizerStateAndMetadataIsBitExact() throws IOException {
        Map<String, NDArray> model = model(0.5f);
        AdamW adam = AdamW.forPretraining(List.of(new ParamGroup("decay", List.of("blocks.0.attn.qkv.weight"), 0.05,
                1.0), new ParamGroup("no_decay", List.of("blocks.0.attn.qkv.bias"), 0.0, 1.0)), manager);
        trainOneStep(model, adam);
        String args = "{\"model\": \"mae_vit_base_patch16\", \"epochs\": 400}";
        Path file = store.save(new Checkpoint(19, 12500, model, adam.state(), Map.of("args", args, "seed", "7")));
        assertEquals(dir.resolve("checkpoint-19.safetensors"), file);
        assertTrue(Files.exists(dir.resolve("checkpoint-19.optim.safetensors")));

        Checkpoint back = store.load(file, manager);
        assertEquals(19, back.epoch());
        assertEquals(20, back.nextEpoch());
        assertEquals(12500, back.globalStep());
        assertEquals(args, back.metadata().get("args"));
        assertEquals("7", back.metadata().get("seed"));
        assertEquals(List.copyOf(model.keySet()), List.copyOf(back.model().keySet()));
        assertSameBits(model, back.model());
        assertEquals(AdamW.KIND, back.optimizer().kind());
        assertEquals(1, back.optimizer().step());
        assertSameBits(adam.state().tensors(), back.optimizer().tensors());
        // Versions recorded in the model file's metadata for anyone who reads it.
        Map<String, String> raw = SafeTensors.readHeader(file).metadata();
        assertEquals(Engine.getDjlVersion(), raw.get(CheckpointStore.DJL_VERSION));
        assertEquals("2.7.1", raw.get(CheckpointStore.LIBTORCH_VERSION));
        assertEquals("19", raw.get(CheckpointStore.EPOCH));
        assertEquals("pt", raw.get("format"));
        // The model file holds exactly the state_dict keys, nothing prefixed or extra.
        assertEquals(model.keySet(), SafeTensors.readHeader(file).tensors().keySet());

        // The restored state continues training exactly like the original optimizer.
        AdamW restored = AdamW.forPretraining(adam.groups(), manager);
        Map<String, NDArray> restoredModel = trainable(back.model());
        restored.loadState(back.optimizer(), restoredModel);
        trainOneStep(model, adam);
        trainOneStep(restoredModel, restored);
        assertSameBits(model, restoredModel);
    }

    @Test
    void weightsOnlyCheckpointHasNoOptimizer() throws IOException {
        Path file = store.save(new Checkpoint(0, 0, model(1f), null, Map.of()));
        Checkpoint back = store.load(file, manager);
        assertNull(back.optimizer());
        assertFalse(Files.exists(store.optimizerFile(0)));
    }

    @Test
    void resumeAutoFallsBackWhenTheNewestIsTruncated() throws IOException {
        save(20, 1f);
        save(40, 2f);
        Path newest = store.modelFile(40);
        byte[] bytes = Files.readAllBytes(newest);
        Files.write(newest, Arrays.copyOf(bytes, bytes.length / 2));

        Checkpoint resumed = store.resume("auto", manager).orElseThrow();
        assertEquals(20, resumed.epoch());
        assertArrayEquals(new float[] {1f, 1f, 1f, 1f, 1f, 1f}, resumed.model().get("blocks.0.attn.qkv.weight")
                .toFloatArray());
    }

    @Test
    void resumeAutoFallsBackWhenTheNewestOptimizerFileIsCorruptOrMissing() throws IOException {
        save(1, 1f);
        save(2, 2f);
        save(3, 3f);
        Path optim3 = store.optimizerFile(3);
        byte[] bytes = Files.readAllBytes(optim3);
        bytes[bytes.length - 2] ^= 0x40;
        Files.write(optim3, bytes);
        Files.delete(store.optimizerFile(2));
        assertEquals(1, store.resume("auto", manager).orElseThrow().epoch());
    }

    @Test
    void optimizerFileOfAnotherCheckpointIsDetected() throws IOException {
        save(1, 1f);
        save(2, 2f);
        Files.copy(store.optimizerFile(1), store.optimizerFile(2), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> store.load(store.modelFile(2), manager));
        assertTrue(e.getMessage().contains("does not belong to " + store.modelFile(2)), e.getMessage());
    }

    @Test
    void resumeAutoWithNoCheckpointStartsFresh() throws IOException {
        assertEquals(Optional.empty(), store.resume("auto", manager));
        assertEquals(Optional.empty(), new CheckpointStore(dir.resolve("not-yet-created")).resume("auto", manager));
        save(5, 1f);
        assertEquals(Optional.empty(), store.resume("", manager));
    }

    @Test
    void resumeAutoWhenEveryCheckpointIsBrokenIsAnError() throws IOException {
        save(5, 1f);
        Files.write(store.modelFile(5), new byte[] {1, 2, 3});
        CheckpointException e = assertThrows(CheckpointException.class, () -> store.resume("auto", manager));
        assertTrue(e.getMessage().contains("none of the 1 checkpoints in " + dir + " is usable"), e.getMessage());
        assertTrue(e.getMessage().contains("checkpoint-5.safetensors"), e.getMessage());
    }

    @Test
    void resumeFromAGivenFileLoadsExactlyThatFile() throws IOException {
        save(1, 1f);
        save(2, 2f);
        assertEquals(1, store.resume(store.modelFile(1).toString(), manager).orElseThrow().epoch());
        Path missing = dir.resolve("checkpoint-9.safetensors");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> store.resume(missing.toString(), manager));
        assertEquals("checkpoint " + missing + " does not exist", e.getMessage());
    }

    @Test
    void corruptHeaderIsAClearErrorNamingTheFile() throws IOException {
        save(3, 1f);
        Path file = store.modelFile(3);
        byte[] bytes = Files.readAllBytes(file);
        bytes[8] = 'x'; // first byte of the JSON header
        Files.write(file, bytes);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> store.resume(file.toString(), manager));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("header does not start with '{'"), e.getMessage());
    }

    @Test
    void weightsFileWithoutRunMetadataCannotResume() throws IOException {
        Path weights = dir.resolve("released.safetensors");
        SafeTensors.write(weights, model(1f), Map.of("format", "pt"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> store.load(weights, manager));
        assertTrue(e.getMessage().contains("has no milan.epoch metadata"), e.getMessage());
    }

    @Test
    void keepLastNDeletesOlderCheckpointsAndLeftovers() throws IOException {
        for (int epoch : new int[] {0, 20, 40, 60, 80}) {
            save(epoch, epoch);
        }
        Files.write(dir.resolve(AtomicFiles.TEMP_PREFIX + "checkpoint-100.safetensors.abc"), new byte[10]);
        Files.write(dir.resolve("log.txt"), new byte[1]);
        List<Path> deleted = store.prune(80, 2);
        assertEquals(7, deleted.size(), deleted.toString()); // 3 × (model + optimizer) + 1 temp
        assertEquals(List.of(60, 80), store.savedEpochs());
        assertTrue(Files.exists(store.optimizerFile(60)));
        assertTrue(Files.exists(dir.resolve("log.txt")));
        assertEquals(List.of(), store.prune(80, 2));
    }

    @Test
    void pruneNeverDeletesTheCheckpointJustSavedNorLaterOnes() throws IOException {
        save(10, 1f);
        save(30, 3f); // left by an earlier attempt; this attempt resumed from 10 and just saved 20
        save(20, 2f);
        store.prune(20, 1);
        assertEquals(List.of(20, 30), store.savedEpochs());
        store.prune(20, 0);
        assertEquals(List.of(20, 30), store.savedEpochs());
    }

    @Test
    void policyMatchesTheReference() {
        CheckpointPolicy pretrain = CheckpointPolicy.pretraining(0);
        List<Integer> saved = IntStream.range(0, 400).filter(e -> pretrain.shouldSave(e, 400)).boxed().toList();
        List<Integer> expected = new ArrayList<>(IntStream.range(0, 20).map(i -> 20 * i).boxed().toList());
        expected.add(399);
        assertEquals(expected, saved);
        CheckpointPolicy finetune = CheckpointPolicy.finetuning(0);
        assertEquals(100, IntStream.range(0, 100).filter(e -> finetune.shouldSave(e, 100)).count());
        assertThrows(IllegalArgumentException.class, () -> new CheckpointPolicy(0, 1));
    }

    @Test
    void interruptedWriteLeavesThePreviousFileIntact() throws IOException {
        Path target = dir.resolve("checkpoint-1.safetensors");
        Files.write(target, new byte[] {42});
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, channel -> {
            channel.write(java.nio.ByteBuffer.wrap(new byte[100]));
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertArrayEquals(new byte[] {42}, Files.readAllBytes(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList(), "no temporary file may be left behind");
        }
    }

    /**
     * A mid-epoch checkpoint is named by its epoch in progress and step, replaces the previous mid-epoch one only once
     * it is complete, is resumed when it is the furthest along, and never counts towards keep-last-N.
     */
    @Test
    void midEpochCheckpointsAreOneRollingFileOrderedByPositionAndNeverPushOutEpochEnds() throws IOException {
        save(0, 0f);
        save(1, 1f);
        Path first = saveMidEpoch(2, 25, 2f);
        assertEquals(dir.resolve("checkpoint-2-step25.safetensors"), first);
        assertTrue(Files.exists(dir.resolve("checkpoint-2-step25.optim.safetensors")));
        Checkpoint resumed = store.resume("auto", manager).orElseThrow();
        assertEquals(2, resumed.epoch(), "inside epoch 2 is further along than the end of epoch 1");
        assertEquals(25, resumed.globalStep());
        assertEquals(new EpochPosition(2, 10, 2, 7), EpochPosition.of(resumed, first.toString()).orElseThrow());

        Path second = saveMidEpoch(2, 28, 3f);
        assertFalse(Files.exists(first), "the previous mid-epoch checkpoint goes once the new one is complete");
        assertFalse(Files.exists(dir.resolve("checkpoint-2-step25.optim.safetensors")));
        assertTrue(Files.exists(second));
        // keep-last 1 counts epoch ends only: the mid-epoch checkpoint of a later epoch stays, so do epoch ends.
        store.prune(1, 1);
        assertEquals(List.of(1), store.savedEpochs());
        assertTrue(Files.exists(second));

        // Truncated: resume auto falls back to the newest epoch end.
        byte[] bytes = Files.readAllBytes(second);
        Files.write(second, Arrays.copyOf(bytes, bytes.length / 2));
        assertEquals(1, store.resume("auto", manager).orElseThrow().epoch());
        assertTrue(EpochPosition.of(store.resume("auto", manager).orElseThrow(), "x").isEmpty(),
                "an epoch-end checkpoint resumes at the next epoch's start");

        // The end of epoch 2 supersedes its mid-epoch checkpoints.
        saveMidEpoch(2, 29, 4f);
        save(2, 5f);
        store.prune(2, 0);
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().contains("-step")), "mid-epoch files remain");
        }
        assertEquals(2, store.resume("auto", manager).orElseThrow().epoch());
    }

    private Path saveMidEpoch(int epoch, long step, float value) throws IOException {
        Map<String, NDArray> state = new LinkedHashMap<>();
        state.put("exp_avg.blocks.0.attn.qkv.weight", manager.full(new Shape(2, 3), value));
        Map<String, String> meta = new LinkedHashMap<>(new EpochPosition(epoch, 10, 2, 7).metadata());
        return store.save(new Checkpoint(epoch, step, model(value), new OptimizerState("adamw", step, state), meta));
    }

    private void save(int epoch, float value) throws IOException {
        Map<String, NDArray> model = model(value);
        Map<String, NDArray> state = new LinkedHashMap<>();
        state.put("exp_avg.blocks.0.attn.qkv.weight", manager.full(new Shape(2, 3), value));
        store.save(new Checkpoint(epoch, epoch * 10L, model, new OptimizerState("adamw", epoch * 10L, state),
                Map.of()));
    }

    private Map<String, NDArray> model(float value) {
        Map<String, NDArray> model = new LinkedHashMap<>();
        model.put("cls_token", manager.full(new Shape(1, 1, 3), value * 0.25f));
        model.put("pos_embed", manager.zeros(new Shape(1, 2, 3)));
        model.put("blocks.0.attn.qkv.weight", manager.full(new Shape(2, 3), value));
        model.put("blocks.0.attn.qkv.bias", manager.create(new float[] {value, -value}));
        return trainable(model);
    }

    private static Map<String, NDArray> trainable(Map<String, NDArray> model) {
        Map<String, NDArray> out = new LinkedHashMap<>(model);
        out.get("blocks.0.attn.qkv.weight").setRequiresGradient(true);
        out.get("blocks.0.attn.qkv.bias").setRequiresGradient(true);
        return out;
    }

    private void trainOneStep(Map<String, NDArray> model, AdamW adam) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray w = model.get("blocks.0.attn.qkv.weight");
            NDArray b = model.get("blocks.0.attn.qkv.bias");
            collector.backward(w.square().sum().add(b.mul(manager.create(new float[] {3f, -1f})).sum()));
        }
        adam.step(model, 1e-2);
        io.milan.trainer.optim.Gradients.zero(model, List.of("blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias"));
    }

    private static void assertSameBits(Map<String, NDArray> expected, Map<String, NDArray> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            assertEquals(expected.get(name).getShape(), actual.get(name).getShape(), name);
            assertEquals(expected.get(name).toByteBuffer(), actual.get(name).toByteBuffer(), name);
        }
    }
}
