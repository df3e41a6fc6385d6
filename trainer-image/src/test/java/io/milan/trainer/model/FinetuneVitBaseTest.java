package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.optim.ParamGroup;
import io.milan.trainer.optim.ParamGroups;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fine-tuning at the reference size (vit_base, 1000 classes): parameter count, layer-decay groups, and what
 * loading a MILAN pretraining checkpoint (the prompting-decoder model's state_dict) does (milan-reference.md §5-6).
 */
class FinetuneVitBaseTest {

    private static NDManager manager;
    private static MilanPretrainModel pretrained;
    private static VitClassifier globalPool;

    @BeforeAll
    static void createModels() {
        manager = NDManager.newBaseManager(Device.cpu());
        pretrained = MilanPretrainModel.create(PretrainConfig.named("vit_base", true), manager, 11);
        globalPool = VitClassifier.create(ViTConfig.named("vit_base").withDropPath(0.1), 1000,
                Pooling.GLOBAL_AVERAGE, manager, 12);
    }

    @AfterAll
    static void close() {
        globalPool.close();
        pretrained.close();
        manager.close();
    }

    @Test
    void vitBaseClassifierHasTheReferenceParameterCount() {
        assertEquals(86_567_656L, globalPool.parameters().numel()); // mmpretrain's "86.57 M"
        assertEquals(86_567_656L, globalPool.parameters().numelTrainable());
        assertEquals(152, globalPool.parameters().asMap().size());
    }

    @Test
    void layerDecayGroupsAtSixtyFiveHundredths() {
        NamedParameters p = globalPool.parameters();
        List<ParamGroup> groups = ParamGroups.layerDecay(p.shapes(), p.trainableNames(), 0.05, 0.65, 12,
                ParamGroups.VIT_NO_WEIGHT_DECAY);
        Map<String, ParamGroup> byParam = new LinkedHashMap<>();
        groups.forEach(g -> g.paramNames().forEach(n -> byParam.put(n, g)));
        assertEquals(p.trainableNames(), byParam.keySet(), "every parameter in exactly one group");
        assertEquals(28, groups.size()); // layers 0..13, decay and no_decay each

        // lr_scale = 0.65^(13 − layer): patch embed 3.70e-3, block 0 5.69e-3, block 11 0.65, head 1.0
        assertEquals(3.70e-3, byParam.get("patch_embed.proj.weight").lrScale(), 0.005e-3);
        assertEquals(0.003697205891018715, byParam.get("cls_token").lrScale(), 1e-15); // 0.65^13
        assertEquals(0.003697205891018715, byParam.get("pos_embed").lrScale(), 1e-15);
        assertEquals(5.69e-3, byParam.get("blocks.0.attn.qkv.weight").lrScale(), 0.005e-3);
        assertEquals(0.005688009063105715, byParam.get("blocks.0.norm1.weight").lrScale(), 1e-15); // 0.65^12
        assertEquals(0.65, byParam.get("blocks.11.mlp.fc2.weight").lrScale(), 1e-12);
        assertEquals(1.0, byParam.get("head.weight").lrScale());
        assertEquals(1.0, byParam.get("fc_norm.weight").lrScale());
        assertEquals(Math.pow(0.65, 13 - 6), byParam.get("blocks.5.norm1.bias").lrScale(), 1e-15);

        // no weight decay: every 1-D tensor, plus pos_embed and cls_token; decay: the matrices and the conv
        Set<String> noDecay = byParam.entrySet().stream().filter(e -> e.getValue().weightDecay() == 0)
                .map(Map.Entry::getKey).collect(Collectors.toSet());
        Set<String> expectedNoDecay = new HashSet<>(Set.of("pos_embed", "cls_token"));
        p.shapes().forEach((name, shape) -> {
            if (shape.dimension() == 1) {
                expectedNoDecay.add(name);
            }
        });
        assertEquals(expectedNoDecay, noDecay);
        assertEquals(2 + 1 + 12 * 8 + 2 + 1, noDecay.size()); // cls/pos, conv bias, 8 per block, fc_norm, head.bias
        assertEquals(0.05, byParam.get("head.weight").weightDecay());
        assertEquals(0.05, byParam.get("patch_embed.proj.weight").weightDecay());
        assertEquals("layer_0_no_decay", byParam.get("pos_embed").name());
        assertEquals("layer_13_decay", byParam.get("head.weight").name());
    }

    @Test
    void loadingAPretrainingCheckpointWithGlobalPool() {
        Map<String, ai.djl.ndarray.NDArray> checkpoint = pretrained.parameters().asMap();
        PretrainedLoader.Report r = PretrainedLoader.load(globalPool, checkpoint, "vit_base pretrain");
        assertEquals(Set.of("head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias"), Set.copyOf(r.missing()));
        assertEquals(122, r.unexpected().size());
        Set<String> expectedUnexpected = checkpoint.keySet().stream()
                .filter(k -> k.startsWith("decoder") || k.equals("mask_token") || k.startsWith("norm."))
                .collect(Collectors.toSet());
        assertEquals(expectedUnexpected, Set.copyOf(r.unexpected()));
        assertEquals(148, r.loaded().size());
        assertEquals(List.of(), r.removedHead());
        assertEquals(null, r.posEmbedGrids());
        for (String name : List.of("cls_token", "patch_embed.proj.weight", "blocks.7.attn.qkv.weight",
                "blocks.11.mlp.fc2.bias")) {
            assertArrayEquals(checkpoint.get(name).toFloatArray(), globalPool.parameters().get(name).toFloatArray(),
                    0f, name);
        }
    }

    @Test
    void loadingAPretrainingCheckpointWithClsTokenAndIntoALinearProbe() {
        Map<String, ai.djl.ndarray.NDArray> checkpoint = pretrained.parameters().asMap();
        try (VitClassifier cls = VitClassifier.create(ViTConfig.named("vit_base"), 1000, Pooling.CLS_TOKEN, manager,
                13)) {
            PretrainedLoader.Report r = PretrainedLoader.load(cls, checkpoint, "vit_base pretrain");
            assertEquals(Set.of("head.weight", "head.bias"), Set.copyOf(r.missing()));
            assertEquals(120, r.unexpected().size());
            assertEquals(150, r.loaded().size());
            assertArrayEquals(checkpoint.get("norm.weight").toFloatArray(),
                    cls.parameters().get("norm.weight").toFloatArray(), 0f);
        }
        try (LinearProbeModel probe = LinearProbeModel.create(ViTConfig.named("vit_base"), 1000, manager, 14)) {
            PretrainedLoader.Report r = PretrainedLoader.load(probe, checkpoint, "vit_base pretrain");
            assertEquals(Set.of("head.weight", "head.bias"), Set.copyOf(r.missing()));
            assertEquals(120, r.unexpected().size());
            assertEquals(150, r.loaded().size());
            assertArrayEquals(checkpoint.get("blocks.3.attn.proj.weight").toFloatArray(),
                    probe.parameters().get("blocks.3.attn.proj.weight").toFloatArray(), 0f);
            assertEquals(Set.of("head.1.weight", "head.1.bias"), probe.parameters().trainableNames());
        }
    }
}
