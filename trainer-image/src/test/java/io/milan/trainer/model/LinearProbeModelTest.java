package io.milan.trainer.model;

import static io.milan.trainer.model.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Linear probing: frozen encoder, BatchNorm1d without affine (train/eval), Linear head; reference names. */
class LinearProbeModelTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private LinearProbeModel probeFromFixture(Map<String, NDArray> f) {
        LinearProbeModel probe = LinearProbeModel.create(Fixtures.TINY_ENCODER, 5, manager, 2);
        PretrainedLoader.load(probe, VitClassifierTest.checkpointOnly(f), "fixture");
        probe.parameters().get("head.1.weight").set(f.get("probe.head.weight").toFloatArray());
        probe.parameters().get("head.1.bias").set(f.get("probe.head.bias").toFloatArray());
        return probe;
    }

    @Test
    void evalAndTrainForwardMatchPyTorchAndUpdateTheRunningStatistics() throws IOException {
        Map<String, NDArray> f = SafeTensors.read(VitClassifierTest.fixture("classifier.safetensors"), manager)
                .tensors();
        try (LinearProbeModel probe = probeFromFixture(f)) {
            Map<String, NDArray> state = probe.stateDict();
            state.get("head.0.running_mean").set(f.get("probe.running_mean").toFloatArray());
            state.get("head.0.running_var").set(f.get("probe.running_var").toFloatArray());
            NDArray images = f.get("input.images");

            assertClose(f.get("expected.probe_eval"), probe.forward(images, false), 1e-5, "eval logits");
            assertEquals(0, probe.batchesTracked(), "evaluation leaves the statistics alone");
            assertArrayEquals(f.get("probe.running_mean").toFloatArray(),
                    state.get("head.0.running_mean").toFloatArray(), 0f);

            assertClose(f.get("expected.probe_train"), probe.forward(images, true), 1e-5, "train logits");
            assertEquals(1, probe.batchesTracked());
            assertClose(f.get("expected.probe_running_mean"), state.get("head.0.running_mean"), 1e-6, "running_mean");
            assertClose(f.get("expected.probe_running_var"), state.get("head.0.running_var"), 1e-6, "running_var");
        }
    }

    @Test
    void batchNormWithoutAffineByHand() {
        // features x = [[1, 10], [3, 14]]: batch mean (2, 12), biased var (1, 4) → normalised ±1/sqrt(var + eps);
        // running: mean 0.9·0 + 0.1·(2, 12) = (0.2, 1.2); var 0.9·1 + 0.1·(2, 8) (unbiased) = (1.1, 1.7).
        BatchNormNoAffine bn = new BatchNormNoAffine("head.0", 2, 1e-6f, manager);
        NDArray x = manager.create(new float[] {1, 10, 3, 14}, new Shape(2, 2));
        float a = (float) (1 / Math.sqrt(1 + 1e-6));
        float b = (float) (2 / Math.sqrt(4 + 1e-6));
        assertArrayEquals(new float[] {-a, -b, a, b}, bn.forward(x, true).toFloatArray(), 1e-6f);
        Map<String, NDArray> buffers = bn.buffers();
        assertArrayEquals(new float[] {0.2f, 1.2f}, buffers.get("head.0.running_mean").toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {1.1f, 1.7f}, buffers.get("head.0.running_var").toFloatArray(), 1e-6f);
        assertEquals(1L, buffers.get("head.0.num_batches_tracked").getLong());
        assertEquals(DataType.INT64, buffers.get("head.0.num_batches_tracked").getDataType());
        // eval: (x − running_mean) / sqrt(running_var + eps)
        NDArray y = bn.forward(manager.create(new float[] {0.2f, 2.9f}, new Shape(1, 2)), false);
        assertArrayEquals(new float[] {0f, (float) (1.7 / Math.sqrt(1.7 + 1e-6))}, y.toFloatArray(), 1e-6f);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> bn.forward(manager.ones(new Shape(1, 2)), true))
                .getMessage().contains("more than one sample"));
        bn.close();
    }

    @Test
    void onlyTheLinearHeadTrainsAndReceivesGradients() {
        try (LinearProbeModel probe = LinearProbeModel.create(Fixtures.TINY_ENCODER, 5, manager, 3);
                NDManager step = manager.newSubManager()) {
            NamedParameters p = probe.parameters();
            assertEquals(List.of("head.1.weight", "head.1.bias"), List.copyOf(p.trainableNames()));
            for (String name : p.asMap().keySet()) {
                assertEquals(name.startsWith("head.1."), p.get(name).hasGradient(), name);
            }
            // MoCo v3 head init: trunc_normal(std 0.01), bias 0
            assertEquals(0f, p.get("head.1.bias").abs().max().getFloat());
            NDArray images = Fixtures.randn(step, new Random(4), 4, 3, 16, 16);
            NDArray labels = step.create(new long[] {0, 1, 4, 2});
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(ClassificationLoss.crossEntropy(probe.forward(images, true), labels));
            }
            assertTrue(p.get("head.1.weight").getGradient().abs().sum().getFloat() > 0);
            assertTrue(p.get("head.1.bias").getGradient().abs().sum().getFloat() > 0);
        }
    }

    @Test
    void stateDictUsesTheReferenceSequentialNamesAndRoundTrips(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("probe.safetensors");
        try (LinearProbeModel probe = LinearProbeModel.create(Fixtures.TINY_ENCODER, 5, manager, 5);
                NDManager step = manager.newSubManager()) {
            probe.forward(Fixtures.randn(step, new Random(6), 3, 3, 16, 16), true);
            List<String> names = List.copyOf(probe.stateDict().keySet());
            assertEquals(List.of("norm.weight", "norm.bias", "head.0.running_mean", "head.0.running_var",
                    "head.0.num_batches_tracked", "head.1.weight", "head.1.bias"),
                    names.subList(names.size() - 7, names.size()));
            assertEquals(List.of("cls_token", "pos_embed"), names.subList(0, 2));
            assertEquals(new Shape(), probe.stateDict().get("head.0.num_batches_tracked").getShape());
            SafeTensors.write(file, probe.stateDict(), Map.of());

            try (LinearProbeModel restored = LinearProbeModel.create(Fixtures.TINY_ENCODER, 5, manager, 99)) {
                restored.loadStateDict(SafeTensors.read(file, step).tensors(), file.toString());
                assertEquals(1, restored.batchesTracked());
                for (Map.Entry<String, NDArray> e : probe.stateDict().entrySet()) {
                    NDArray mine = restored.stateDict().get(e.getKey());
                    assertEquals(e.getValue().getShape(), mine.getShape(), e.getKey());
                    assertTrue(e.getValue().contentEquals(mine), e.getKey());
                }
                NDArray images = Fixtures.randn(step, new Random(8), 2, 3, 16, 16);
                assertEquals(0.0, Fixtures.maxAbsDiff(probe.forward(images, false), restored.forward(images, false)));
            }
            Map<String, NDArray> partial = new java.util.LinkedHashMap<>(probe.stateDict());
            partial.remove("head.0.running_var");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> probe.loadStateDict(partial, "partial.safetensors"));
            assertTrue(e.getMessage().contains("head.0.running_var"), e.getMessage());
        }
    }

    @Test
    void theEncoderRunsWithoutRecordingGradients() {
        try (LinearProbeModel probe = LinearProbeModel.create(Fixtures.TINY_ENCODER, 5, manager, 3);
                NDManager step = manager.newSubManager()) {
            NDArray images = Fixtures.randn(step, new Random(9), 2, 3, 16, 16);
            images.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = probe.forward(images, true);
                gc.backward(logits.sum());
            }
            // no graph through the frozen encoder: the input gets no gradient
            assertFalse(images.getGradient().abs().sum().getFloat() > 0);
        }
    }
}
