package io.milan.trainer.checkpoint.torchfile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Files written by torch.save in PyTorch 2.7.1, both formats, read back bit for bit. */
class TorchFileTest {
    /** The first keys in each state_dict's own order (expected.safetensors is ordered by dtype and size). */
    static final List<String> MAE_ORDER = List.of("cls_token", "pos_embed", "mask_token", "decoder_pos_embed",
            "patch_embed.proj.weight", "patch_embed.proj.bias");
    static final List<String> DTYPES_ORDER = List.of("f32_scalar", "f64", "f16", "f16_tail", "bf16", "i64");

    @ParameterizedTest
    @ValueSource(strings = {"mae-tiny.pth", "mae-tiny-legacy.pth", "dtypes.pth", "dtypes-legacy.pth"})
    void everyTensorEqualsWhatPyTorchHolds(String name) throws Exception {
        Map<String, TorchFixtures.Expected> expected = TorchFixtures.expected(name.startsWith("mae") ? "mae/"
                : "dtypes/");
        try (TorchFile f = TorchFile.open(TorchFixtures.file(name))) {
            assertEquals(name.contains("legacy") ? TorchFile.Format.LEGACY : TorchFile.Format.ZIP, f.format());
            TorchFile.StateDict sd = f.stateDict();
            assertEquals(new TreeSet<>(expected.keySet()), new TreeSet<>(sd.tensors().keySet()));
            assertEquals(name.startsWith("mae") ? MAE_ORDER : DTYPES_ORDER,
                    new ArrayList<>(sd.tensors().keySet()).subList(0, 6), "the state_dict's order");
            assertEquals(List.of(), sd.notTensors());
            for (Map.Entry<String, TorchTensor> e : sd.tensors().entrySet()) {
                TorchFixtures.Expected want = expected.get(e.getKey());
                TorchTensor t = e.getValue();
                assertEquals(want.dtype(), t.dtype().safetensorsName(), e.getKey() + " dtype");
                assertArrayEquals(want.shape(), t.shape(), e.getKey() + " shape");
                assertArrayEquals(want.bytes(), f.read(e.getKey(), t), e.getKey() + " bytes");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mae-tiny.pth", "mae-tiny-legacy.pth"})
    void theMaeLayoutKeepsItsOptimizerScalerEpochAndArgsAsData(String name) throws Exception {
        try (TorchFile f = TorchFile.open(TorchFixtures.file(name))) {
            Map<?, ?> root = assertInstanceOf(Map.class, f.root());
            assertEquals(List.of("model", "optimizer", "epoch", "scaler", "args"), new ArrayList<>(root.keySet()));
            assertEquals("['model']", f.stateDict().where());
            assertEquals(399L, root.get("epoch"));
            Map<?, ?> scaler = assertInstanceOf(Map.class, root.get("scaler"));
            assertEquals(65536.0, scaler.get("scale"));
            assertEquals(7L, scaler.get("_growth_tracker"));

            // args: an argparse.Namespace, never constructed, its attributes readable
            OpaqueObject args = assertInstanceOf(OpaqueObject.class, root.get("args"));
            assertEquals(new PyGlobal("argparse", "Namespace"), args.type());
            assertEquals("mae_vit_base_patch16", args.attributes().get("model"));
            assertEquals(0.75, args.attributes().get("mask_ratio"));
            assertEquals(Boolean.TRUE, args.attributes().get("use_clip"));
            assertEquals(null, args.attributes().get("lr"));

            // optimizer: AdamW's state_dict, int keys, tensors and tuples
            Map<?, ?> optimizer = assertInstanceOf(Map.class, root.get("optimizer"));
            Map<?, ?> state = assertInstanceOf(Map.class, optimizer.get("state"));
            assertEquals(List.of(0L, 1L, 2L), new ArrayList<>(state.keySet()));
            Map<?, ?> first = assertInstanceOf(Map.class, state.get(0L));
            TorchTensor expAvg = assertInstanceOf(TorchTensor.class, first.get("exp_avg"));
            assertArrayEquals(new long[] {1, 1, 16}, expAvg.shape()); // cls_token's
            assertInstanceOf(TorchTensor.class, first.get("step"));
            List<?> groups = assertInstanceOf(List.class, optimizer.get("param_groups"));
            Map<?, ?> group = assertInstanceOf(Map.class, groups.get(0));
            assertEquals(PyTuple.of(0.9, 0.95), group.get("betas"));
            assertEquals(List.of(0L, 1L, 2L), group.get("params"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mae-tiny.pth", "mae-tiny-legacy.pth"})
    void viewsShareTheirStorageAndKeepTheirStrides(String name) throws Exception {
        try (TorchFile f = TorchFile.open(TorchFixtures.file(name))) {
            Map<String, TorchTensor> t = f.stateDict().tensors();
            TorchTensor qkv = t.get("blocks.0.attn.qkv.weight");
            TorchTensor transposed = t.get("extra.qkv_t");
            TorchTensor rows = t.get("extra.qkv_rows");
            assertEquals(qkv.storage(), transposed.storage());
            assertEquals(qkv.storage(), rows.storage());
            assertArrayEquals(new long[] {1, 16}, transposed.stride());
            assertFalse(transposed.isContiguous());
            assertEquals(16 * 16 + 1, rows.storageOffset());
            assertArrayEquals(new long[] {32, 1}, rows.stride());
            assertTrue(qkv.isContiguous());
            assertEquals(TorchDtype.FLOAT16, t.get("extra.half").dtype());
            assertEquals(TorchDtype.BFLOAT16, t.get("extra.bf16").dtype());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mae-tiny.pth", "mae-tiny-legacy.pth", "dtypes.pth", "dtypes-legacy.pth"})
    void isRecognisedByItsFirstBytes(String name) throws Exception {
        assertTrue(TorchFile.looksLikeTorchFile(TorchFixtures.file(name)));
        assertFalse(TorchFile.looksLikeTorchFile(TorchFixtures.file("expected.safetensors")));
        assertNotNull(TorchFixtures.file(name));
    }
}
