package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EncoderTest {

    private NDManager m;

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    @Test
    void keepingEveryPatchGivesTheAllTokenForwardInShuffledOrder() {
        VitEncoder encoder = VitEncoder.create(Fixtures.TINY_ENCODER, m, 2);
        NDArray images = Fixtures.randn(m, new Random(1), 2, 3, 16, 16);
        NDArray all = encoder.forwardAll(images, true, null);
        assertArrayEquals(new long[] {2, 17, 16}, all.getShape().getShape());

        Masking keepAll = Masking.random(m, 2, 16, 0.0, new Random(3));
        assertEquals(16, keepAll.keepCount());
        NDArray latent = encoder.forwardMasked(images, keepAll);
        // attention is permutation-equivariant and positions come from pos_embed, so only the order differs
        assertEquals(0.0, Fixtures.maxAbsDiff(all.get(":, :1"), latent.get(":, :1")), 1e-5);
        assertEquals(0.0, Fixtures.maxAbsDiff(Layers.gatherTokens(all.get(":, 1:"), keepAll.idsKeep()),
                latent.get(":, 1:")), 1e-5);
    }

    @Test
    void dropPathRatesAreALinspaceAndOffInEvaluation() {
        ViTConfig cfg = Fixtures.TINY_ENCODER.withDropPath(0.1);
        assertEquals(0.0, cfg.dropPathRate(0));
        assertEquals(0.1, cfg.dropPathRate(1), 1e-12);
        assertEquals(0.1, ViTConfig.named("vit_base").withDropPath(0.1).dropPathRate(11), 1e-12);
        assertEquals(0.1 * 5 / 11, ViTConfig.named("vit_base").withDropPath(0.1).dropPathRate(5), 1e-12);

        VitEncoder plain = VitEncoder.create(Fixtures.TINY_ENCODER, m, 4);
        VitEncoder dropping = new VitEncoder(Fixtures.TINY_ENCODER.withDropPath(0.5), plain.parameters());
        NDArray images = Fixtures.randn(m, new Random(2), 2, 3, 16, 16);
        NDArray eval = plain.forwardAll(images, false, null);
        assertEquals(0.0, Fixtures.maxAbsDiff(eval, dropping.forwardAll(images, false, null)));
        assertTrue(Fixtures.maxAbsDiff(eval, dropping.forwardAll(images, false, new Random(9))) > 1e-3);
    }

    @Test
    void dropPathZeroesWholeSamplesWithTheRateAndRescalesTheRest() {
        int rows = 4000;
        float[] out = Layers.dropPath(m.ones(new Shape(rows, 3)), 0.25, new Random(5)).toFloatArray();
        int dropped = 0;
        for (int r = 0; r < rows; r++) {
            float v = out[3 * r];
            assertTrue(v == 0f || Math.abs(v - 1 / 0.75f) < 1e-6, "value " + v);
            assertEquals(v, out[3 * r + 1]);
            assertEquals(v, out[3 * r + 2]);
            dropped += v == 0f ? 1 : 0;
        }
        // binomial sd = sqrt(.25 * .75 / 4000) = 0.0068; 4 sd
        assertEquals(0.25, dropped / (double) rows, 4 * 0.0068);
    }

    @Test
    void forwardAndBackwardLeaveNothingOnTheParameterManager() {
        PretrainConfig cfg = new PretrainConfig(Fixtures.TINY_ENCODER, Fixtures.tinyDecoder(true));
        PretrainConfig mae = new PretrainConfig(Fixtures.TINY_ENCODER, Fixtures.tinyDecoder(false));
        try (MilanPretrainModel model = MilanPretrainModel.create(cfg, m, 1);
             MilanPretrainModel maeModel = MilanPretrainModel.create(mae, m, 1)) {
            Map<String, NDArray> teacherWeights = new HashMap<>(model.parameters().asMap());
            try (EncoderTeacher teacher = EncoderTeacher.fromTensors(teacherWeights, Fixtures.TINY_ENCODER, m, "t")) {
                int before = m.getManagedArrays().size();
                for (int step = 0; step < 2; step++) {
                    try (NDManager stepManager = m.newSubManager()) {
                        NDArray images = Fixtures.randn(stepManager, new Random(step), 2, 3, 16, 16);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            TeacherOutput target = teacher.forward(images);
                            NDArray projected = target.targets().get(":, :, :8");
                            TeacherOutput narrowed = new TeacherOutput(projected, target.clsAttention());
                            gc.backward(model.forward(images, narrowed, 0.75, true, new Random(step)).loss());
                            gc.backward(maeModel.forward(images, narrowed, 0.75, false, new Random(step)).loss());
                        }
                    }
                }
                assertEquals(before, m.getManagedArrays().size(), "per-step arrays leaked onto the model manager");
            }
        }
    }
}
