package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A full step (teacher → semantic masking → encoder → decoder → loss → backward) on a tiny model. */
class GradientFlowTest {

    private static final PretrainConfig TINY = new PretrainConfig(Fixtures.TINY_ENCODER, Fixtures.tinyDecoder(true));

    @TempDir
    Path dir;

    private NDManager m;

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    /** An encoder teacher (width 16 projected to 8 = the decoder's outDim), saved and loaded like the demo's. */
    private EncoderTeacher teacher() throws IOException {
        VitEncoder source = VitEncoder.create(Fixtures.TINY_ENCODER, m, 77);
        Map<String, NDArray> tensors = new HashMap<>(source.parameters().asMap());
        tensors.put(EncoderTeacher.PROJECTION, Fixtures.randn(m, new Random(78), 8, 16));
        Path file = dir.resolve("teacher.safetensors");
        SafeTensors.write(file, new TreeMap<>(tensors), Map.of());
        return EncoderTeacher.load(file, Fixtures.TINY_ENCODER, m);
    }

    @Test
    void gradientsReachEveryTrainableTensorButNotFrozenOnesOrTheTeacher() throws IOException {
        try (MilanPretrainModel model = MilanPretrainModel.create(TINY, m, 3);
             EncoderTeacher teacher = teacher()) {
            NDArray images = Fixtures.randn(m, new Random(4), 2, 3, 16, 16);
            NDArray loss;
            TeacherOutput target;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                target = teacher.forward(images);
                loss = model.forward(images, target, 0.75, true, new Random(5)).loss();
                gc.backward(loss);
            }
            assertTrue(loss.getFloat() > 0 && loss.getFloat() < 4, "loss " + loss.getFloat());
            assertFalse(target.targets().hasGradient(), "teacher targets must not require gradients");
            assertFalse(target.clsAttention().hasGradient());
            for (Map.Entry<String, NDArray> e : teacher.parameters().asMap().entrySet()) {
                assertFalse(e.getValue().hasGradient(), "teacher tensor " + e.getKey() + " requires a gradient");
            }
            NamedParameters p = model.parameters();
            assertFalse(p.get("pos_embed").hasGradient());
            assertFalse(p.get("decoder_pos_embed").hasGradient());
            for (Map.Entry<String, NDArray> e : p.trainable().entrySet()) {
                float norm = e.getValue().getGradient().norm().getFloat();
                assertTrue(norm > 0 && Float.isFinite(norm), e.getKey() + " got gradient norm " + norm);
            }
            assertEquals(p.asMap().size() - 2, p.trainable().size());
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() throws IOException {
        try (MilanPretrainModel model = MilanPretrainModel.create(TINY, m, 8);
             EncoderTeacher teacher = teacher()) {
            NDArray images = Fixtures.randn(m, new Random(9), 2, 3, 16, 16);
            TeacherOutput target = teacher.forward(images);
            Masking masking = Masking.semantic(target.importance(), 0.75, new Random(10));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(model.forward(images, target, masking).loss());
            }
            for (String name : new String[] {"cls_token", "mask_token", "patch_embed.proj.weight",
                "blocks.1.attn.qkv.weight", "decoder_blocks.0.attn.kv.weight", "decoder_pred.bias"}) {
                NDArray param = model.parameters().get(name);
                float[] grad = param.getGradient().toFloatArray();
                int i = argMaxAbs(grad);
                double h = 1e-2;
                double numeric = (lossWith(model, name, i, h, images, target, masking)
                        - lossWith(model, name, i, -h, images, target, masking)) / (2 * h);
                // float32 loss ~2 with h = 1e-2: rounding error ~1e-5 absolute on the difference quotient
                assertEquals(grad[i], numeric, 0.02 * Math.abs(grad[i]) + 1e-4, name + "[" + i + "]");
            }
        }
    }

    private static double lossWith(MilanPretrainModel model, String name, int index, double delta, NDArray images,
            TeacherOutput target, Masking masking) {
        NDArray param = model.parameters().get(name);
        float[] values = param.toFloatArray();
        float original = values[index];
        try (GradMode ignored = GradMode.disabled()) {
            values[index] = (float) (original + delta);
            param.set(values);
            float loss = model.forward(images, target, masking).loss().getFloat();
            values[index] = original;
            param.set(values);
            return loss;
        }
    }

    private static int argMaxAbs(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (Math.abs(v[i]) > Math.abs(v[best])) {
                best = i;
            }
        }
        return best;
    }
}
