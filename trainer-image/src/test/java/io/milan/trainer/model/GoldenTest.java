package io.milan.trainer.model;

import static io.milan.trainer.model.Fixtures.TINY_ENCODER;
import static io.milan.trainer.model.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Our forward against an independent PyTorch implementation of the reference formulas
 * (tools/make_model_golden.py): same weights (reference / Hugging Face names), same images and masking.
 */
class GoldenTest {

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

    @Test
    void promptingDecoderModelMatchesPyTorch() throws IOException {
        checkPretrainModel("pretrain_prompting.safetensors", true);
    }

    @Test
    void maeDecoderModelMatchesPyTorch() throws IOException {
        checkPretrainModel("pretrain_mae.safetensors", false);
    }

    private void checkPretrainModel(String fixture, boolean prompting) throws IOException {
        Map<String, NDArray> f = Fixtures.load(fixture, manager);
        PretrainConfig config = new PretrainConfig(TINY_ENCODER, Fixtures.tinyDecoder(prompting));
        try (MilanPretrainModel model = MilanPretrainModel.create(config, manager, 1)) {
            // Our own sin-cos tables equal numpy's float64 ones (before the fixture overwrites them).
            assertClose(f.get("pos_embed"), model.parameters().get("pos_embed"), 1e-7, "pos_embed");
            assertClose(f.get("decoder_pos_embed"), model.parameters().get("decoder_pos_embed"), 1e-7,
                    "decoder_pos_embed");

            List<String> unused = model.parameters().copyFrom(f);
            assertEquals(List.of(), unused.stream().filter(n -> !n.startsWith("input.") && !n.startsWith("expected."))
                    .toList(), "every weight in the fixture is a parameter of ours, by reference name and shape");

            Masking masking = Masking.fromShuffle(f.get("input.ids_shuffle"), 4);
            NDArray images = f.get("input.images");
            assertClose(f.get("expected.latent"), model.encoder().forwardMasked(images, masking), TOL, "latent");

            TeacherOutput teacher = new TeacherOutput(f.get("input.targets"), null);
            MilanPretrainModel.Output out = model.forward(images, teacher, masking);
            assertClose(f.get("expected.pred"), out.pred(), TOL, "pred");
            assertClose(f.get("expected.mask"), out.mask(), 0, "mask");
            assertClose(f.get("expected.loss").reshape(), out.loss(), TOL, "loss");
        }
    }

    @Test
    void encoderTeacherMatchesPyTorch() throws IOException {
        Map<String, NDArray> f = Fixtures.load("pretrain_prompting.safetensors", manager);
        NDArray images = f.get("input.images");

        try (EncoderTeacher plain = EncoderTeacher.fromTensors(f, TINY_ENCODER, manager, "fixture")) {
            TeacherOutput out = plain.forward(images);
            assertEquals(16, plain.dim());
            assertClose(f.get("expected.encoder_tokens"), out.targets(), TOL, "encoder teacher tokens");
            assertClose(f.get("expected.encoder_cls_attention"), out.clsAttention(), TOL, "cls attention");
        }

        Map<String, NDArray> withProjection = new HashMap<>(f);
        withProjection.put(EncoderTeacher.PROJECTION, f.get("input.projection"));
        try (EncoderTeacher projected = EncoderTeacher.fromTensors(withProjection, TINY_ENCODER, manager, "fixture")) {
            assertEquals(8, projected.dim());
            assertClose(f.get("expected.encoder_targets"), projected.forward(images).targets(), TOL,
                    "projected encoder teacher targets");
        }
    }

    @Test
    void clipTeacherMatchesPyTorchMultiheadAttention() throws IOException {
        Map<String, NDArray> f = Fixtures.load("clip_tiny.safetensors", manager);
        try (ClipTeacher clip = ClipTeacher.load(Fixtures.resource("clip_tiny.safetensors"), manager, 3)) {
            assertEquals(new ClipTeacher.Config(16, 4, 24, 2, 3, 96, 8), clip.config());
            TeacherOutput out = clip.forward(f.get("input.images"));
            assertClose(f.get("expected.targets"), out.targets(), TOL, "CLIP targets");
            assertClose(f.get("expected.cls_attention"), out.clsAttention(), TOL, "CLIP cls attention");
        }
    }
}
