package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The ViT-B pretraining model against the reference's state_dict (milan-reference.md §1.6) and init (§1.1). */
class ParameterCountTest {

    private static NDManager manager;
    private static MilanPretrainModel base;

    @BeforeAll
    static void createVitBase() {
        manager = NDManager.newBaseManager(Device.cpu());
        base = MilanPretrainModel.create(PretrainConfig.named("vit_base", true), manager, 0);
    }

    @AfterAll
    static void close() {
        base.close();
        manager.close();
    }

    @Test
    void vitBaseCountsEqualTheReference() {
        NamedParameters p = base.parameters();
        System.out.printf("vit_base pretrain model: %,d parameters, %,d trainable, encoder %,d, decoder %,d%n",
                p.numel(), p.numelTrainable(), p.numel(MilanPretrainModel.ENCODER_PARAMETER),
                p.numel(MilanPretrainModel.ENCODER_PARAMETER.negate()));
        assertEquals(111_776_512L, p.numel());
        assertEquals(111_524_352L, p.numelTrainable());
        assertEquals(85_798_656L, p.numel(MilanPretrainModel.ENCODER_PARAMETER)); // "85.80 M"
        assertEquals(25_977_856L, p.numel(MilanPretrainModel.ENCODER_PARAMETER.negate())); // "25.98 M"
        assertEquals(270, p.asMap().size());
        assertEquals(Set.of("pos_embed", "decoder_pos_embed"), frozen(p));
    }

    @Test
    void vitBaseRunsAtFullSizeWithReferenceShapes() {
        try (NDManager step = manager.newSubManager()) {
            NDArray images = Fixtures.randn(step, new Random(1), 1, 3, 224, 224);
            TeacherOutput teacher = new TeacherOutput(Fixtures.randn(step, new Random(2), 1, 197, 512),
                    Fixtures.randn(step, new Random(3), 1, 197).abs());
            MilanPretrainModel.Output out = base.forward(images, teacher, 0.75, true, new Random(4));
            assertEquals(new Shape(1, 197, 512), out.pred().getShape());
            assertEquals(49, out.masking().keepCount());
            assertEquals(147f, out.mask().sum().getFloat());
            float loss = out.loss().getFloat();
            assertTrue(loss > 0 && loss < 4, "loss " + loss);
        }
    }

    @Test
    void keysFollowTheReferenceStateDictOrder() {
        List<String> names = new ArrayList<>(base.parameters().asMap().keySet());
        assertEquals(List.of("cls_token", "pos_embed", "mask_token", "decoder_pos_embed", "patch_embed.proj.weight",
                "patch_embed.proj.bias", "blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight",
                "blocks.0.attn.qkv.bias", "blocks.0.attn.proj.weight", "blocks.0.attn.proj.bias",
                "blocks.0.norm2.weight", "blocks.0.norm2.bias", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias",
                "blocks.0.mlp.fc2.weight", "blocks.0.mlp.fc2.bias"), names.subList(0, 18));
        assertEquals(List.of("norm.weight", "norm.bias", "decoder_embed.weight", "decoder_embed.bias",
                "decoder_blocks.0.norm1.weight", "decoder_blocks.0.norm1.bias", "decoder_blocks.0.attn.q.weight",
                "decoder_blocks.0.attn.q.bias", "decoder_blocks.0.attn.kv.weight", "decoder_blocks.0.attn.kv.bias"),
                names.subList(150, 160));
        assertEquals(List.of("decoder_norm.weight", "decoder_norm.bias", "decoder_pred.weight", "decoder_pred.bias"),
                names.subList(266, 270));
        NamedParameters p = base.parameters();
        assertEquals(new Shape(2304, 768), p.get("blocks.11.attn.qkv.weight").getShape());
        assertEquals(new Shape(1024, 512), p.get("decoder_blocks.7.attn.kv.weight").getShape());
        assertEquals(new Shape(768, 3, 16, 16), p.get("patch_embed.proj.weight").getShape());
        assertEquals(new Shape(1, 197, 768), p.get("pos_embed").getShape());
        assertEquals(new Shape(512, 512), p.get("decoder_pred.weight").getShape());
    }

    @Test
    void initialisationFollowsTheReference() {
        NamedParameters p = base.parameters();
        // xavier_uniform on the fused qkv as ONE [2304, 768] matrix: bound sqrt(6 / (768 + 2304)), var bound²/3
        checkUniform(p.get("blocks.3.attn.qkv.weight"), Math.sqrt(6.0 / (768 + 2304)));
        checkUniform(p.get("decoder_blocks.2.attn.kv.weight"), Math.sqrt(6.0 / (512 + 1024)));
        checkUniform(p.get("blocks.0.mlp.fc1.weight"), Math.sqrt(6.0 / (768 + 3072)));
        // conv weight viewed as [768, 3*16*16]; conv bias keeps PyTorch's default U(+-1/sqrt(fan_in))
        checkUniform(p.get("patch_embed.proj.weight"), Math.sqrt(6.0 / (768 + 768)));
        checkUniform(p.get("patch_embed.proj.bias"), 1 / Math.sqrt(768));
        assertEquals(0f, maxAbs(p.get("blocks.5.attn.qkv.bias")));
        assertEquals(0f, maxAbs(p.get("decoder_pred.bias")));
        assertEquals(1f, p.get("blocks.2.norm1.weight").min().getFloat());
        assertEquals(1f, p.get("blocks.2.norm1.weight").max().getFloat());
        assertEquals(0f, maxAbs(p.get("decoder_norm.bias")));
        assertEquals(0.02, std(p.get("cls_token")), 0.02 * 0.2); // 768 draws: sd of the sd estimate ~2.6 %
        assertEquals(0.02, std(p.get("mask_token")), 0.02 * 0.2);
        assertFalse(p.isTrainable("pos_embed"));
        assertTrue(p.isTrainable("cls_token"));
    }

    /** Values within ±bound and variance bound²/3 (within 3 %: these tensors have ≥ 196k draws). */
    private static void checkUniform(NDArray a, double bound) {
        assertTrue(maxAbs(a) <= bound, "values exceed the xavier bound " + bound);
        assertTrue(maxAbs(a) > 0.99 * bound, "values do not reach the bound " + bound);
        double variance = Math.pow(std(a), 2);
        assertEquals(bound * bound / 3, variance, 0.03 * bound * bound / 3);
    }

    private static float maxAbs(NDArray a) {
        return a.abs().max().getFloat();
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

    private static Set<String> frozen(NamedParameters p) {
        Set<String> out = new HashSet<>(p.asMap().keySet());
        out.removeAll(p.trainableNames());
        return out;
    }
}
