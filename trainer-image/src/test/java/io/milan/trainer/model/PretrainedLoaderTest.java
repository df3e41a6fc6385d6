package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** main_finetune.py's checkpoint handling: head removal, position-table interpolation, strict=False loading. */
class PretrainedLoaderTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private Map<String, NDArray> tinyPretrainCheckpoint() throws IOException {
        return VitClassifierTest.checkpointOnly(
                SafeTensors.read(VitClassifierTest.fixture("classifier.safetensors"), manager).tensors());
    }

    @Test
    void readsASafetensorsFileAndReportsLikeLoadStateDict(@TempDir Path dir) throws IOException {
        Map<String, NDArray> ckpt = tinyPretrainCheckpoint();
        Path file = dir.resolve("checkpoint-399.safetensors");
        SafeTensors.write(file, ckpt, Map.of());
        try (VitClassifier model = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.GLOBAL_AVERAGE, manager, 1)) {
            PretrainedLoader.Report r = PretrainedLoader.load(model, file);
            assertEquals(List.of("head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias"), r.missing());
            // unexpected: mask_token, decoder_pos_embed, norm.*, and the decoder, in checkpoint order
            assertEquals(List.of("mask_token", "decoder_pos_embed"), r.unexpected().subList(0, 2));
            assertTrue(r.unexpected().containsAll(List.of("norm.weight", "norm.bias", "decoder_embed.weight",
                    "decoder_pred.bias")));
            assertEquals(ckpt.size() - r.loaded().size(), r.unexpected().size());
            assertEquals(file.toString(), r.source());
            assertTrue(r.summary().contains("missing_keys=[head.weight, head.bias, fc_norm.weight, fc_norm.bias]"),
                    r.summary());
            assertArrayEquals(ckpt.get("blocks.1.attn.qkv.weight").toFloatArray(),
                    model.parameters().get("blocks.1.attn.qkv.weight").toFloatArray(), 0f);
        }
    }

    /** The authors' layout (checkpoint-399.pth: model, optimizer, epoch, scaler, args), both torch.save formats. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"mae-tiny.pth", "mae-tiny-legacy.pth"})
    void readsAPyTorchCheckpointAndPrintsTheReferencesKeyReport(String name) throws IOException {
        Path file = io.milan.trainer.checkpoint.torchfile.TorchFixtures.file(name);
        try (VitClassifier model = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.GLOBAL_AVERAGE, manager, 1)) {
            PretrainedLoader.Report r = PretrainedLoader.load(model, file);
            assertEquals(List.of("head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias"), r.missing());
            assertTrue(r.unexpected().containsAll(List.of("mask_token", "decoder_pos_embed", "norm.weight",
                    "decoder_pred.bias", "extra.half", "extra.bf16", "extra.qkv_t", "extra.qkv_rows")), r.unexpected()
                    .toString());
            assertTrue(r.incompatibleKeys().startsWith("_IncompatibleKeys(missing_keys=['head.weight', 'head.bias',"
                    + " 'fc_norm.weight', 'fc_norm.bias'], unexpected_keys=['mask_token', 'decoder_pos_embed', "),
                    r.incompatibleKeys());
            assertTrue(r.incompatibleKeys().endsWith("'extra.qkv_t', 'extra.qkv_rows'])"), r.incompatibleKeys());
            // the same weights as the safetensors fixture they were made from
            Map<String, NDArray> ckpt = tinyPretrainCheckpoint();
            for (String key : r.loaded()) {
                assertArrayEquals(ckpt.get(key).toFloatArray(), model.parameters().get(key).toFloatArray(), 0f, key);
            }
            assertEquals(ckpt.keySet().stream().filter(k -> model.parameters().asMap().containsKey(k)).toList(),
                    r.loaded());
        }
    }

    @Test
    void aHeadOfAnotherShapeIsDroppedAndOneOfTheSameShapeLoaded() throws IOException {
        Map<String, NDArray> ckpt = new LinkedHashMap<>(tinyPretrainCheckpoint());
        ckpt.put("head.weight", manager.ones(new Shape(10, 16)));
        ckpt.put("head.bias", manager.ones(new Shape(10)));
        try (VitClassifier model = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.CLS_TOKEN, manager, 1)) {
            float[] headBefore = model.parameters().get("head.weight").toFloatArray();
            PretrainedLoader.Report r = PretrainedLoader.load(model, ckpt, "ten-class checkpoint");
            assertEquals(List.of("head.weight", "head.bias"), r.removedHead());
            assertEquals(List.of("head.weight", "head.bias"), r.missing());
            assertArrayEquals(headBefore, model.parameters().get("head.weight").toFloatArray(), 0f);

            ckpt.put("head.weight", manager.full(new Shape(5, 16), 0.25f));
            ckpt.put("head.bias", manager.full(new Shape(5), -1f));
            PretrainedLoader.Report same = PretrainedLoader.load(model, ckpt, "five-class checkpoint");
            assertEquals(List.of(), same.removedHead());
            assertEquals(List.of(), same.missing());
            assertEquals(0.25f, model.parameters().get("head.weight").max().getFloat());
            assertEquals(-1f, model.parameters().get("head.bias").min().getFloat());
        }
    }

    @Test
    void otherShapeMismatchesFailNamingTheTensor() throws IOException {
        Map<String, NDArray> ckpt = new LinkedHashMap<>(tinyPretrainCheckpoint());
        ckpt.put("blocks.0.attn.qkv.weight", manager.zeros(new Shape(48, 8)));
        try (VitClassifier model = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.CLS_TOKEN, manager, 1)) {
            float[] before = model.parameters().get("cls_token").toFloatArray();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PretrainedLoader.load(model, ckpt, "bad.safetensors"));
            assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains("blocks.0.attn.qkv.weight")
                    && e.getMessage().contains("(48, 8)"), e.getMessage());
            assertArrayEquals(before, model.parameters().get("cls_token").toFloatArray(), 0f, "nothing was copied");
        }
    }

    @Test
    void aPositionTableThatIsNotASquareGridIsRejected() throws IOException {
        Map<String, NDArray> ckpt = new LinkedHashMap<>(tinyPretrainCheckpoint());
        ckpt.put("pos_embed", manager.zeros(new Shape(1, 1 + 15, 16)));
        try (VitClassifier model = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.CLS_TOKEN, manager, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PretrainedLoader.load(model, ckpt, "odd.safetensors"));
            assertTrue(e.getMessage().contains("15 patch positions do not form a square grid"), e.getMessage());
        }
    }

    @Test
    void linearProbingNeedsACompleteEncoderAndNoMatchingHead() throws IOException {
        Map<String, NDArray> ckpt = new LinkedHashMap<>(tinyPretrainCheckpoint());
        try (LinearProbeModel probe = LinearProbeModel.create(Fixtures.TINY_ENCODER, 5, manager, 1)) {
            float[] head = probe.parameters().get("head.1.weight").toFloatArray();
            PretrainedLoader.Report r = PretrainedLoader.load(probe, ckpt, "pretrain");
            assertEquals(Set.of("head.weight", "head.bias"), Set.copyOf(r.missing()));
            assertArrayEquals(head, probe.parameters().get("head.1.weight").toFloatArray(), 0f);
            assertArrayEquals(ckpt.get("norm.bias").toFloatArray(), probe.parameters().get("norm.bias").toFloatArray(),
                    0f);

            Map<String, NDArray> incomplete = new LinkedHashMap<>(ckpt);
            incomplete.remove("blocks.1.norm2.weight");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PretrainedLoader.load(probe, incomplete, "incomplete"));
            assertTrue(e.getMessage().contains("blocks.1.norm2.weight"), e.getMessage());

            Map<String, NDArray> finetuned = new LinkedHashMap<>(ckpt);
            finetuned.put("head.weight", manager.zeros(new Shape(5, 16)));
            finetuned.put("head.bias", manager.zeros(new Shape(5)));
            assertThrows(IllegalArgumentException.class, () -> PretrainedLoader.load(probe, finetuned, "finetuned"));
        }
    }

    @Test
    void missingFileIsAnIoErrorNamingIt(@TempDir Path dir) {
        Path file = dir.resolve("absent.safetensors");
        try (VitClassifier model = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.CLS_TOKEN, manager, 1)) {
            IOException e = assertThrows(IOException.class, () -> PretrainedLoader.load(model, file));
            assertTrue(e.getMessage().contains("absent.safetensors"), e.getMessage());
            assertTrue(Files.notExists(file));
        }
    }
}
