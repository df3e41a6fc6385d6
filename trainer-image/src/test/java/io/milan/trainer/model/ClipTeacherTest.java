package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading CLIP's vision tower from a tiny file in the Hugging Face layout of openai/clip-vit-base-patch16. */
class ClipTeacherTest {

    private static final int WIDTH = 128; // 2 heads by CLIP's width/64 rule
    private static final int PATCH = 8;
    private static final int IMAGE = 32; // 16 patches
    private static final int LAYERS = 2;
    private static final int PROJ = 24;

    @TempDir
    Path dir;

    private NDManager m;
    private final Random random = new Random(17);

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    /** The tensors of a CLIPModel checkpoint (vision tower, projection, and text-tower keys that must be ignored). */
    private Map<String, NDArray> hfCheckpoint() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        String v = "vision_model.";
        t.put("logit_scale", m.create(2.6592f));
        t.put("text_model.embeddings.token_embedding.weight", randn(0.02, 50, WIDTH));
        t.put("text_model.encoder.layers.0.self_attn.q_proj.weight", randn(0.02, WIDTH, WIDTH));
        t.put("text_projection.weight", randn(0.02, PROJ, WIDTH));
        t.put(v + "embeddings.class_embedding", randn(0.5, WIDTH));
        t.put(v + "embeddings.patch_embedding.weight", randn(0.05, WIDTH, 3, PATCH, PATCH));
        t.put(v + "embeddings.position_embedding.weight", randn(0.1, 17, WIDTH));
        t.put(v + "embeddings.position_ids", m.arange(17).toType(DataType.INT64, false).reshape(1, 17));
        norm(t, v + "pre_layrnorm");
        for (int i = 0; i < LAYERS; i++) {
            String l = v + "encoder.layers." + i + ".";
            for (String proj : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
                t.put(l + "self_attn." + proj + ".weight", randn(0.1, WIDTH, WIDTH));
                t.put(l + "self_attn." + proj + ".bias", randn(0.1, WIDTH));
            }
            norm(t, l + "layer_norm1");
            t.put(l + "mlp.fc1.weight", randn(0.05, 4 * WIDTH, WIDTH));
            t.put(l + "mlp.fc1.bias", randn(0.05, 4 * WIDTH));
            t.put(l + "mlp.fc2.weight", randn(0.05, WIDTH, 4 * WIDTH));
            t.put(l + "mlp.fc2.bias", randn(0.05, WIDTH));
            norm(t, l + "layer_norm2");
        }
        norm(t, v + "post_layernorm");
        t.put("visual_projection.weight", randn(0.1, PROJ, WIDTH));
        return t;
    }

    private void norm(Map<String, NDArray> t, String name) {
        t.put(name + ".weight", randn(0.1, WIDTH).add(1));
        t.put(name + ".bias", randn(0.1, WIDTH));
    }

    private NDArray randn(double std, long... shape) {
        return Fixtures.randn(m, random, shape).mul((float) std);
    }

    private Path write(Map<String, NDArray> tensors) throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, tensors, Map.of("format", "pt"));
        return file;
    }

    @Test
    void loadsTheVisionTowerIgnoringTheTextTower() throws IOException {
        write(hfCheckpoint());
        try (ClipTeacher clip = ClipTeacher.load(dir, m)) { // a directory holding model.safetensors
            assertEquals(new ClipTeacher.Config(IMAGE, PATCH, WIDTH, LAYERS, 2, 4 * WIDTH, PROJ), clip.config());
            assertEquals(PROJ, clip.dim());
            assertEquals(16, clip.numPatches());
            NamedParameters p = clip.parameters();
            assertEquals(5 + 16 * LAYERS + 2 + 1, p.asMap().size());
            assertTrue(p.asMap().keySet().stream().allMatch(
                    n -> n.startsWith("vision_model.") || n.equals("visual_projection.weight")));
            assertFalse(p.contains("vision_model.embeddings.position_ids"));
            assertTrue(p.trainable().isEmpty(), "the teacher is frozen");

            NDArray images = Fixtures.randn(m, new Random(3), 3, 3, IMAGE, IMAGE);
            TeacherOutput out = clip.forward(images);
            assertArrayEquals(new long[] {3, 17, PROJ}, out.targets().getShape().getShape());
            assertArrayEquals(new long[] {3, 17}, out.clsAttention().getShape().getShape());
            assertArrayEquals(new long[] {3, 16}, out.importance().getShape().getShape());
            float[] rowSums = out.clsAttention().sum(new int[] {1}).toFloatArray();
            for (float s : rowSums) {
                assertEquals(1f, s, 1e-5f, "attention row incl. the cls weight sums to 1");
            }
            assertTrue(out.clsAttention().min().getFloat() > 0);
            assertFalse(out.targets().hasGradient());
        }
    }

    @Test
    void postLayerNormIsAppliedToEveryToken() throws IOException {
        // With visual_projection = identity-like [W, W] padding, targets are the post-LN tokens themselves:
        // every token (not just cls) must have mean(bias) and the LN weight's scale.
        Map<String, NDArray> t = hfCheckpoint();
        t.put("visual_projection.weight", m.eye(WIDTH));
        t.put("vision_model.post_layernorm.weight", m.ones(new Shape(WIDTH)));
        t.put("vision_model.post_layernorm.bias", m.zeros(new Shape(WIDTH)));
        write(t);
        try (ClipTeacher clip = ClipTeacher.load(dir.resolve("model.safetensors"), m)) {
            NDArray targets = clip.forward(Fixtures.randn(m, new Random(5), 2, 3, IMAGE, IMAGE)).targets();
            float[] means = targets.mean(new int[] {2}).toFloatArray();
            float[] variances = targets.pow(2).mean(new int[] {2}).toFloatArray();
            for (int i = 0; i < means.length; i++) {
                assertEquals(0f, means[i], 1e-5f, "token " + i + " mean");
                assertEquals(1f, variances[i], 1e-3f, "token " + i + " variance"); // 1 - eps/var
            }
        }
    }

    @Test
    void missingOrMisShapedTensorsAreNamed() throws IOException {
        Map<String, NDArray> t = hfCheckpoint();
        t.remove("vision_model.encoder.layers.1.self_attn.v_proj.bias");
        Path file = write(t);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClipTeacher.load(file, m));
        assertTrue(e.getMessage().contains("missing [vision_model.encoder.layers.1.self_attn.v_proj.bias]"),
                e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());

        Map<String, NDArray> noProjection = hfCheckpoint();
        noProjection.remove("visual_projection.weight");
        write(noProjection);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClipTeacher.load(file, m)).getMessage()
                .contains("tensor 'visual_projection.weight' is missing"));

        Path nowhere = dir.resolve("absent");
        assertEquals("CLIP teacher weights not found: " + nowhere.resolve("model.safetensors"),
                assertThrows(IllegalArgumentException.class, () -> ClipTeacher.load(Files.createDirectory(nowhere),
                        m)).getMessage());
    }

    @Test
    void wrongImageSizeIsRejected() throws IOException {
        write(hfCheckpoint());
        try (ClipTeacher clip = ClipTeacher.load(dir, m)) {
            assertEquals("teacher images: expected [N, 3, 32, 32], got (1, 3, 16, 16)",
                    assertThrows(IllegalArgumentException.class,
                            () -> clip.forward(m.zeros(new Shape(1, 3, 16, 16)))).getMessage());
        }
    }
}
