package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NamedParametersTest {

    private static final PretrainConfig TINY = new PretrainConfig(Fixtures.TINY_ENCODER, Fixtures.tinyDecoder(true));

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
    void ownTensorsComeFirstThenModulesInOrderAdded() {
        NamedParameters p = NamedParameters.builder(m)
                .add("a.weight", new Shape(2), new float[2], true)
                .add("token", new Shape(1), new float[1], true)
                .add("b.bias", new Shape(1), new float[1], false)
                .add("table", new Shape(3), new float[3], false)
                .build();
        assertEquals(List.of("token", "table", "a.weight", "b.bias"), List.copyOf(p.asMap().keySet()));
        assertEquals(List.of("token", "a.weight"), List.copyOf(p.trainable().keySet()));
        assertEquals(3, p.numelTrainable());
        assertEquals(7, p.numel());
        assertTrue(p.get("token").hasGradient());
        assertFalse(p.get("table").hasGradient());
        assertEquals("no parameter named 'nope' (the model has 4 parameters)",
                assertThrows(IllegalArgumentException.class, () -> p.get("nope")).getMessage());
    }

    @Test
    void sameSeedSameWeights() {
        try (MilanPretrainModel a = MilanPretrainModel.create(TINY, m, 11);
             MilanPretrainModel b = MilanPretrainModel.create(TINY, m, 11);
             MilanPretrainModel c = MilanPretrainModel.create(TINY, m, 12)) {
            assertArrayEquals(a.parameters().get("blocks.1.attn.qkv.weight").toFloatArray(),
                    b.parameters().get("blocks.1.attn.qkv.weight").toFloatArray());
            assertFalse(Fixtures.maxAbsDiff(a.parameters().get("blocks.1.attn.qkv.weight"),
                    c.parameters().get("blocks.1.attn.qkv.weight")) == 0);

        }
    }

    @Test
    void copiesDoNotAliasTheSource() {
        try (MilanPretrainModel a = MilanPretrainModel.create(TINY, m, 1);
             MilanPretrainModel b = MilanPretrainModel.create(TINY, m, 2)) {
            b.parameters().copyFrom(a.parameters().asMap());
            NDArray bias = b.parameters().get("norm.bias");
            float before = a.parameters().get("norm.bias").toFloatArray()[0];
            try (GradMode ignored = GradMode.disabled()) {
                bias.addi(5);
            }
            assertEquals(before, a.parameters().get("norm.bias").toFloatArray()[0]);
            assertEquals(before + 5, bias.toFloatArray()[0], 1e-6);
        }
    }

    @Test
    void copyFromNamesMissingAndMisShapedTensorsAndCopiesNothingThen() {
        try (MilanPretrainModel a = MilanPretrainModel.create(TINY, m, 1)) {
            Map<String, NDArray> source = new LinkedHashMap<>(a.parameters().asMap());
            source.remove("decoder_pred.bias");
            source.put("norm.weight", m.zeros(new Shape(17)));
            source.put("extra.tensor", m.zeros(new Shape(1)));
            float[] before = a.parameters().get("blocks.0.mlp.fc1.weight").toFloatArray();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> a.parameters().copyFrom(source));
            assertEquals("cannot copy parameters: missing [decoder_pred.bias]; shape mismatch ['norm.weight'"
                    + " expected (16) but got (17)]", e.getMessage());
            assertArrayEquals(before, a.parameters().get("blocks.0.mlp.fc1.weight").toFloatArray());
        }
    }

    @Test
    void copyFromReturnsTheUnusedSourceNames() {
        try (MilanPretrainModel full = MilanPretrainModel.create(TINY, m, 3)) {
            NamedParameters.Builder b = NamedParameters.builder(m);
            VitEncoder.addParameters(b, Fixtures.TINY_ENCODER, new Random(9));
            try (NamedParameters encoder = b.build()) {
                List<String> unused = encoder.copyFrom(full.parameters().asMap());
                assertEquals(full.parameters().asMap().keySet().stream()
                        .filter(MilanPretrainModel.ENCODER_PARAMETER.negate()).toList(), unused);
                assertArrayEquals(full.parameters().get("blocks.1.mlp.fc2.weight").toFloatArray(),
                        encoder.get("blocks.1.mlp.fc2.weight").toFloatArray());
            }
        }
    }

    @Test
    void badConfigsAreRejectedNamingTheField() {
        assertEquals("heads (5) must divide dim (16)", assertThrows(IllegalArgumentException.class,
                () -> new ViTConfig(16, 4, 3, 16, 2, 5, 4, 0)).getMessage());
        assertEquals("imageSize (30) must be a positive multiple of patchSize (4)",
                assertThrows(IllegalArgumentException.class, () -> new ViTConfig(30, 4, 3, 16, 2, 2, 4, 0))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DecoderConfig(10, 2, 2, 4, 8, true));
        assertEquals("unknown encoder 'vit_giant'; expected vit_micro, vit_tiny, vit_small, vit_base, vit_large or vit_huge",
                assertThrows(IllegalArgumentException.class, () -> ViTConfig.named("vit_giant")).getMessage());
        assertEquals(14, ViTConfig.named("vit_huge").patchSize());
        assertEquals(256, ViTConfig.named("vit_huge").numPatches());
    }
}
