package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What makes the prompting decoder MILAN's: cls and visible tokens are frozen prompts, only mask tokens move. */
class DecoderBehaviourTest {

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
    void promptingDecoderCannotChangeClsAndVisiblePredictionsThroughItsBlocks() {
        Result r = predictionsBeforeAndAfterPerturbingDecoderBlocks(true);
        // cls and visible positions: bit-identical, whatever the blocks' weights
        assertEquals(0.0, r.maxChange(false), "cls/visible predictions moved");
        // masked positions: they are the blocks' output
        assertTrue(r.maxChange(true) > 1e-2, "mask-token predictions did not depend on the blocks");
    }

    @Test
    void maeDecoderUpdatesVisibleTokensToo() {
        Result r = predictionsBeforeAndAfterPerturbingDecoderBlocks(false);
        assertTrue(r.maxChange(false) > 1e-2, "MAE decoder blocks should act on visible tokens");
        assertTrue(r.maxChange(true) > 1e-2);
    }

    @Test
    void visiblePredictionsAreTheHeadOfTheEmbeddedEncoderOutput() {
        PretrainConfig cfg = new PretrainConfig(Fixtures.TINY_ENCODER, Fixtures.tinyDecoder(true));
        try (MilanPretrainModel model = MilanPretrainModel.create(cfg, m, 4)) {
            NDArray images = Fixtures.randn(m, new Random(21), 2, 3, 16, 16);
            Masking masking = Masking.random(m, 2, 16, 0.75, new Random(8));
            NDArray pred = model.forward(images, null, masking).pred();
            // decoder_pred(decoder_norm(decoder_embed(latent) + pos)) for cls and the visible patches
            NamedParameters p = model.parameters();
            NDArray e = Layers.linear(model.encoder().forwardMasked(images, masking), p, "decoder_embed");
            NDArray pos = p.get("decoder_pos_embed").get(":, 1:").broadcast(2, 16, 12);
            NDArray visiblePos = Layers.gatherTokens(pos, masking.idsKeep());
            NDArray expectedVisible = head(e.get(":, 1:").add(visiblePos), p);
            NDArray expectedCls = head(e.get(":, :1").add(p.get("decoder_pos_embed").get(":, :1")), p);
            NDArray predPatches = pred.get(":, 1:");
            assertEquals(0.0, Fixtures.maxAbsDiff(expectedVisible, Layers.gatherTokens(predPatches,
                    masking.idsKeep())), 1e-6);
            assertEquals(0.0, Fixtures.maxAbsDiff(expectedCls, pred.get(":, :1")), 1e-6);
        }
    }

    private static NDArray head(NDArray x, NamedParameters p) {
        return Layers.linear(Layers.layerNorm(x, p, "decoder_norm", 1e-6f), p, "decoder_pred");
    }

    @Test
    void predictionsCoverEveryPositionWithTheTeacherWidth() {
        PretrainConfig cfg = new PretrainConfig(Fixtures.TINY_ENCODER, new DecoderConfig(12, 1, 3, 4, 20, true));
        try (MilanPretrainModel model = MilanPretrainModel.create(cfg, m, 4)) {
            NDArray images = Fixtures.randn(m, new Random(22), 3, 3, 16, 16);
            MilanPretrainModel.Output out = model.forward(images, null, 0.75, false, new Random(1));
            assertArrayEquals(new long[] {3, 17, 20}, out.pred().getShape().getShape());
            assertArrayEquals(new long[] {3, 16}, out.mask().getShape().getShape());
            assertEquals(null, out.loss());
            TeacherOutput wrongWidth = new TeacherOutput(m.zeros(new Shape(3, 17, 8)), m.zeros(new Shape(3, 17)));
            assertThrows(IllegalArgumentException.class,
                    () -> model.forward(images, wrongWidth, 0.75, false, new Random(1)));
            assertEquals("images: expected [N, 3, 16, 16], got (3, 3, 32, 32)",
                    assertThrows(IllegalArgumentException.class, () -> model.forward(m.zeros(new Shape(3, 3, 32, 32)),
                            null, 0.75, false, new Random(1))).getMessage());
            assertEquals("semantic-aware masking needs the teacher's attention",
                    assertThrows(IllegalArgumentException.class, () -> model.forward(images, null, 0.75, true,
                            new Random(1))).getMessage());
        }
    }

    private record Result(NDArray before, NDArray after, NDArray mask) {
        /** Largest change over the masked (or the cls + visible) positions. */
        double maxChange(boolean masked) {
            float[] b = before.toFloatArray();
            float[] a = after.toFloatArray();
            float[] mk = mask.toFloatArray();
            int n = (int) before.getShape().get(0);
            int t = (int) before.getShape().get(1);
            int c = (int) before.getShape().get(2);
            double worst = 0;
            for (int s = 0; s < n; s++) {
                for (int j = 0; j < t; j++) {
                    boolean isMasked = j > 0 && mk[s * (t - 1) + j - 1] == 1f;
                    if (isMasked != masked) {
                        continue;
                    }
                    for (int k = 0; k < c; k++) {
                        int i = (s * t + j) * c + k;
                        worst = Math.max(worst, Math.abs(a[i] - b[i]));
                    }
                }
            }
            return worst;
        }
    }

    private Result predictionsBeforeAndAfterPerturbingDecoderBlocks(boolean prompting) {
        PretrainConfig cfg = new PretrainConfig(Fixtures.TINY_ENCODER, Fixtures.tinyDecoder(prompting));
        MilanPretrainModel model = MilanPretrainModel.create(cfg, m, 5);
        NDArray images = Fixtures.randn(m, new Random(21), 2, 3, 16, 16);
        Masking masking = Masking.random(m, 2, 16, 0.75, new Random(2));
        NDArray before = model.forward(images, null, masking).pred();
        Random noise = new Random(23);
        try (GradMode ignored = GradMode.disabled()) {
            for (Map.Entry<String, NDArray> e : model.parameters().asMap().entrySet()) {
                if (e.getKey().startsWith("decoder_blocks.")) {
                    e.getValue().addi(Fixtures.randn(m, noise, e.getValue().getShape().getShape()).mul(0.5f));
                }
            }
        }
        NDArray after = model.forward(images, null, masking).pred();
        return new Result(before, after, masking.mask());
    }
}
