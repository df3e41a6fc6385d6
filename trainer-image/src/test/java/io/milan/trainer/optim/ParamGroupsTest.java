package io.milan.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The weight-decay and layer-decay grouping rules, from parameter names and shapes alone. */
class ParamGroupsTest {

    @Test
    void pretrainRulesTable() {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        shapes.put("cls_token", new Shape(1, 1, 768));            // 3-D: decayed (no skip list in pretraining)
        shapes.put("pos_embed", new Shape(1, 197, 768));          // frozen: in no group
        shapes.put("mask_token", new Shape(1, 1, 512));           // 3-D: decayed
        shapes.put("patch_embed.proj.weight", new Shape(768, 3, 16, 16));
        shapes.put("patch_embed.proj.bias", new Shape(768));
        shapes.put("blocks.0.norm1.weight", new Shape(768));      // 1-D
        shapes.put("blocks.0.attn.qkv.weight", new Shape(2304, 768));
        shapes.put("blocks.0.attn.qkv.bias", new Shape(2304));
        shapes.put("decoder_pos_embed", new Shape(1, 197, 512));  // frozen
        shapes.put("decoder_blocks.3.attn.kv.weight", new Shape(1024, 512));
        shapes.put("odd.bias", new Shape(4, 4));                  // not 1-D, but named .bias: not decayed
        Set<String> trainable = new java.util.HashSet<>(shapes.keySet());
        trainable.removeAll(Set.of("pos_embed", "decoder_pos_embed"));

        List<ParamGroup> groups = ParamGroups.pretrain(shapes, trainable, 0.05);
        assertEquals(2, groups.size());
        assertEquals(new ParamGroup("no_decay", List.of("patch_embed.proj.bias", "blocks.0.norm1.weight",
                "blocks.0.attn.qkv.bias", "odd.bias"), 0.0, 1.0), groups.get(0));
        assertEquals(new ParamGroup("decay", List.of("cls_token", "mask_token", "patch_embed.proj.weight",
                "blocks.0.attn.qkv.weight", "decoder_blocks.3.attn.kv.weight"), 0.05, 1.0), groups.get(1));
    }

    @Test
    void finetuneRulesTable() {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        shapes.put("cls_token", new Shape(1, 1, 768));
        shapes.put("pos_embed", new Shape(1, 197, 768));           // trainable when fine-tuning, no decay
        shapes.put("patch_embed.proj.weight", new Shape(768, 3, 16, 16));
        shapes.put("patch_embed.proj.bias", new Shape(768));
        shapes.put("blocks.0.attn.proj.weight", new Shape(768, 768));
        shapes.put("blocks.0.attn.proj.bias", new Shape(768));
        shapes.put("blocks.11.mlp.fc2.weight", new Shape(768, 3072));
        shapes.put("fc_norm.weight", new Shape(768));
        shapes.put("head.weight", new Shape(1000, 768));
        shapes.put("head.bias", new Shape(1000));

        List<ParamGroup> groups = ParamGroups.layerDecay(shapes, shapes.keySet(), 0.05, 0.65, 12,
                ParamGroups.VIT_NO_WEIGHT_DECAY);
        Map<String, ParamGroup> byName = new HashMap<>();
        groups.forEach(g -> byName.put(g.name(), g));
        assertEquals(List.of("layer_0_no_decay", "layer_0_decay", "layer_1_decay", "layer_1_no_decay",
                "layer_12_decay", "layer_13_no_decay", "layer_13_decay"), groups.stream().map(ParamGroup::name).toList());
        assertEquals(List.of("cls_token", "pos_embed", "patch_embed.proj.bias"),
                byName.get("layer_0_no_decay").paramNames());
        assertEquals(List.of("patch_embed.proj.weight"), byName.get("layer_0_decay").paramNames());
        assertEquals(List.of("fc_norm.weight", "head.bias"), byName.get("layer_13_no_decay").paramNames());
        assertEquals(List.of("head.weight"), byName.get("layer_13_decay").paramNames());
        assertEquals(0.0, byName.get("layer_0_no_decay").weightDecay(), 0.0);
        assertEquals(0.05, byName.get("layer_12_decay").weightDecay(), 0.0);
    }

    @Test
    void vitBaseLayerDecayScales() {
        // Reference values for ViT-B (depth 12) at layer decay 0.65: 0.65^13, 0.65^12, 0.65^1, 0.65^0.
        Map<String, Shape> shapes = new LinkedHashMap<>();
        shapes.put("patch_embed.proj.weight", new Shape(768, 3, 16, 16));
        shapes.put("blocks.0.attn.qkv.weight", new Shape(2304, 768));
        shapes.put("blocks.11.attn.qkv.weight", new Shape(2304, 768));
        shapes.put("head.weight", new Shape(1000, 768));
        List<ParamGroup> groups = ParamGroups.layerDecay(shapes, shapes.keySet(), 0.05, 0.65, 12, Set.of());
        assertEquals(3.70e-3, scaleOf(groups, "patch_embed.proj.weight"), 0.005e-3);
        assertEquals(5.69e-3, scaleOf(groups, "blocks.0.attn.qkv.weight"), 0.005e-3);
        assertEquals(0.65, scaleOf(groups, "blocks.11.attn.qkv.weight"), 1e-15);
        assertEquals(1.0, scaleOf(groups, "head.weight"), 0.0);
        assertEquals(Math.pow(0.65, 13), scaleOf(groups, "patch_embed.proj.weight"), 1e-18);
    }

    @Test
    void vitLargeLayerDecayScales() {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        shapes.put("cls_token", new Shape(1, 1, 1024));
        shapes.put("blocks.23.norm2.bias", new Shape(1024));
        List<ParamGroup> groups = ParamGroups.layerDecay(shapes, shapes.keySet(), 0.05, 0.75, 24, Set.of());
        assertEquals(7.53e-4, scaleOf(groups, "cls_token"), 0.005e-4); // 0.75^25 (the notes round it to 7.5e-4)
        assertEquals(0.75, scaleOf(groups, "blocks.23.norm2.bias"), 1e-15);
    }

    @Test
    void layerIds() {
        assertEquals(0, ParamGroups.vitLayerId("cls_token", 13));
        assertEquals(0, ParamGroups.vitLayerId("pos_embed", 13));
        assertEquals(0, ParamGroups.vitLayerId("patch_embed.proj.bias", 13));
        assertEquals(1, ParamGroups.vitLayerId("blocks.0.norm1.weight", 13));
        assertEquals(12, ParamGroups.vitLayerId("blocks.11.mlp.fc1.weight", 13));
        assertEquals(13, ParamGroups.vitLayerId("fc_norm.bias", 13));
        assertEquals(13, ParamGroups.vitLayerId("head.weight", 13));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParamGroups.vitLayerId("blocks.x.norm1.weight", 13));
        assertTrue(e.getMessage().contains("blocks.x.norm1.weight"), e.getMessage());
    }

    @Test
    void noTrainableParametersIsAClearError() {
        Map<String, Shape> shapes = Map.of("pos_embed", new Shape(1, 5, 8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParamGroups.pretrain(shapes, Set.of(), 0.05));
        assertTrue(e.getMessage().contains("no trainable parameters"), e.getMessage());
    }

    @Test
    void groupLearningRateIsScaled() {
        ParamGroup g = new ParamGroup("layer_1_decay", List.of("blocks.0.norm1.weight"), 0.05, 0.25);
        assertEquals(1e-3, g.learningRate(4e-3), 1e-18);
    }

    private static double scaleOf(List<ParamGroup> groups, String name) {
        return groups.stream().filter(g -> g.paramNames().contains(name)).findFirst().orElseThrow().lrScale();
    }
}
