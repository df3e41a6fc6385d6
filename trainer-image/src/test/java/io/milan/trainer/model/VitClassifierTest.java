package io.milan.trainer.model;

import static io.milan.trainer.model.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fine-tuning ViT (models_vit.py): forward against an independent PyTorch implementation
 * (tools/make_finetune_golden.py), state_dict names, initialisation and drop path.
 */
class VitClassifierTest {

    private static final double TOL = 1e-5;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    static Path fixture(String name) {
        try {
            return Path.of(VitClassifierTest.class.getResource("/finetune/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource finetune/" + name + " is missing", e);
        }
    }

    /** The pretraining checkpoint part of classifier.safetensors (reference names, decoder included). */
    static Map<String, NDArray> checkpointOnly(Map<String, NDArray> fixture) {
        Map<String, NDArray> out = new java.util.LinkedHashMap<>();
        fixture.forEach((k, v) -> {
            if (!k.startsWith("finetune.") && !k.startsWith("probe.") && !k.startsWith("input.")
                    && !k.startsWith("expected.")) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Copies the fixture's head (and fc_norm) into the classifier. */
    static void copyHead(VitClassifier model, Map<String, NDArray> f) {
        List<String> names = new ArrayList<>(List.of("head.weight", "head.bias"));
        if (model.pooling() == Pooling.GLOBAL_AVERAGE) {
            names.addAll(List.of("fc_norm.weight", "fc_norm.bias"));
        }
        for (String n : names) {
            model.parameters().get(n).set(f.get("finetune." + n).toFloatArray());
        }
    }

    @Test
    void globalPoolForwardMatchesPyTorch() throws IOException {
        Map<String, NDArray> f = SafeTensors.read(fixture("classifier.safetensors"), manager).tensors();
        try (VitClassifier model = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.GLOBAL_AVERAGE, manager, 3)) {
            PretrainedLoader.load(model, checkpointOnly(f), "fixture");
            copyHead(model, f);
            assertClose(f.get("expected.logits_global"), model.forward(f.get("input.images"), null), TOL, "logits");
        }
    }

    @Test
    void clsTokenForwardMatchesPyTorch() throws IOException {
        Map<String, NDArray> f = SafeTensors.read(fixture("classifier.safetensors"), manager).tensors();
        try (VitClassifier model = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.CLS_TOKEN, manager, 3)) {
            PretrainedLoader.Report report = PretrainedLoader.load(model, checkpointOnly(f), "fixture");
            assertTrue(report.loaded().contains("norm.weight"));
            copyHead(model, f);
            assertClose(f.get("expected.logits_cls"), model.forward(f.get("input.images"), null), TOL, "logits");
        }
    }

    @Test
    void largerInputUsesTheBicubicallyResizedTable() throws IOException {
        Map<String, NDArray> f = SafeTensors.read(fixture("classifier.safetensors"), manager).tensors();
        ViTConfig at24 = new ViTConfig(24, 4, 3, 16, 2, 2, 4, 0);
        try (VitClassifier model = VitClassifier.create(at24, 5, Pooling.GLOBAL_AVERAGE, manager, 3)) {
            PretrainedLoader.Report report = PretrainedLoader.load(model, checkpointOnly(f), "fixture");
            assertArrayEquals(new int[] {4, 6}, report.posEmbedGrids());
            assertClose(f.get("expected.pos_embed_24"), model.parameters().get("pos_embed"), 1e-6, "pos_embed");
            copyHead(model, f);
            assertClose(f.get("expected.logits_global_24"), model.forward(f.get("input.images24"), null), TOL,
                    "logits at 24 px");
        }
    }

    @Test
    void stateDictNamesAndOrderFollowModelsVit() {
        try (VitClassifier global = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.GLOBAL_AVERAGE, manager, 1);
                VitClassifier cls = VitClassifier.create(Fixtures.TINY_ENCODER, 5, Pooling.CLS_TOKEN, manager, 1)) {
            List<String> g = new ArrayList<>(global.stateDict().keySet());
            assertEquals(List.of("cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"),
                    g.subList(0, 4));
            assertEquals(List.of("blocks.1.mlp.fc2.bias", "head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias"),
                    g.subList(g.size() - 5, g.size()));
            assertFalse(g.contains("norm.weight"), "global pooling deletes the encoder's norm");
            List<String> c = new ArrayList<>(cls.stateDict().keySet());
            assertEquals(List.of("blocks.1.mlp.fc2.bias", "norm.weight", "norm.bias", "head.weight", "head.bias"),
                    c.subList(c.size() - 5, c.size()));
            assertFalse(c.contains("fc_norm.weight"));
            // everything trains, the position table included
            assertEquals(global.parameters().asMap().keySet(), global.parameters().trainableNames());
            assertEquals(new Shape(5, 16), global.parameters().get("head.weight").getShape());
        }
    }

    @Test
    void initialisationIsTimms() {
        ViTConfig wide = new ViTConfig(16, 4, 3, 192, 1, 3, 4, 0);
        try (VitClassifier model = VitClassifier.create(wide, 1000, Pooling.GLOBAL_AVERAGE, manager, 5)) {
            NamedParameters p = model.parameters();
            // head trunc_normal(std 0.02) (not MAE's 2e-5), bias 0; Linear weights likewise; LayerNorm 1/0
            assertEquals(0.02, std(p.get("head.weight")), 0.02 * 0.02);
            assertEquals(0f, p.get("head.bias").abs().max().getFloat());
            assertEquals(0.02, std(p.get("blocks.0.attn.qkv.weight")), 0.02 * 0.02);
            assertEquals(1f, p.get("fc_norm.weight").min().getFloat());
            // pos_embed starts as the sin-cos table; the conv keeps PyTorch's default U(±1/sqrt(3·4·4))
            assertArrayEquals(PositionEmbedding.sinCos2d(192, 4, true), p.get("pos_embed").toFloatArray(), 0f);
            float bound = (float) (1 / Math.sqrt(48));
            assertTrue(p.get("patch_embed.proj.weight").abs().max().getFloat() <= bound);
            assertEquals(bound / Math.sqrt(3), std(p.get("patch_embed.proj.weight")), 0.03 * bound);
        }
    }

    @Test
    void dropPathOnlyActsInTraining() {
        ViTConfig withDropPath = Fixtures.TINY_ENCODER.withDropPath(0.5);
        try (VitClassifier model = VitClassifier.create(withDropPath, 5, Pooling.GLOBAL_AVERAGE, manager, 2);
                NDManager step = manager.newSubManager()) {
            NDArray images = Fixtures.randn(step, new Random(1), 8, 3, 16, 16);
            NDArray eval1 = model.forward(images, null);
            NDArray eval2 = model.forward(images, null);
            assertEquals(0.0, Fixtures.maxAbsDiff(eval1, eval2));
            NDArray train = model.forward(images, new Random(7));
            assertTrue(Fixtures.maxAbsDiff(eval1, train) > 1e-3, "drop path changed nothing in training");
            NDArray again = model.forward(images, new Random(7));
            assertEquals(0.0, Fixtures.maxAbsDiff(train, again), "the same generator drops the same paths");
        }
    }

    @Test
    void rejectsAnEmptyHead() {
        assertThrows(IllegalArgumentException.class,
                () -> VitClassifier.create(Fixtures.TINY_ENCODER, 0, Pooling.CLS_TOKEN, manager, 1));
        assertEquals(Pooling.GLOBAL_AVERAGE, Pooling.parse("global_pool"));
        assertEquals(Pooling.CLS_TOKEN, Pooling.parse("cls-token"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Pooling.parse("mean")).getMessage()
                .contains("'mean'"));
    }

    private static double std(NDArray a) {
        float[] v = a.toFloatArray();
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            sum += x;
            sq += x * x;
        }
        double mean = sum / v.length;
        return Math.sqrt(sq / v.length - mean * mean);
    }
}
