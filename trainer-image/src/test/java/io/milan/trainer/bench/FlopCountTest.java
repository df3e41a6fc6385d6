package io.milan.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.ViTConfig;
import org.junit.jupiter.api.Test;

/** The analytic FLOP counts against values worked out by hand (2 × MACs of every matmul). */
class FlopCountTest {

    /** 8 px images, patch 4 → L = 4 patches; width 8, 1 block, 2 heads, MLP 32. */
    private static final ViTConfig TINY = new ViTConfig(8, 4, 3, 8, 1, 2, 4, 0);

    @Test
    void encoderOnAllTokens() {
        // T = 5 tokens. conv 2·4·8·(3·4·4) = 3072; qkv 2·5·8·24 = 1920; q·kᵀ 2·5·5·8 = 400; attn·v 400;
        // proj 2·5·8·8 = 640; MLP 2·(2·5·8·32) = 5120.
        assertEquals(3072 + 1920 + 400 + 400 + 640 + 5120, FlopCount.encoderForwardAll(TINY));
    }

    @Test
    void maskedEncoderEmbedsEveryPatchButRunsTheBlocksOnClsAndVisible() {
        // 1 visible → T = 2. conv on all 4 patches 3072; qkv 2·2·8·24 = 768; q·kᵀ + attn·v 2·(2·2·2·8) = 128;
        // proj 2·2·8·8 = 256; MLP 2·(2·2·8·32) = 2048.
        assertEquals(3072 + 768 + 128 + 256 + 2048, FlopCount.encoderForward(TINY, 1));
    }

    @Test
    void promptingDecoderQueriesOnlyTheMaskTokens() {
        DecoderConfig d = new DecoderConfig(8, 1, 2, 4, 6, true);
        // encoder width 8, L = 4, 1 visible: decoder_embed on 1+1 tokens 2·2·8·8 = 256; M = 3 queries, S = 5 keys:
        // q 2·3·8·8 = 384; kv 2·5·8·16 = 1280; q·kᵀ + attn·v 2·(2·3·5·8) = 480; proj 384; MLP 2·(2·3·8·32) = 3072;
        // decoder_pred on all 5 tokens 2·5·8·6 = 480.
        assertEquals(256 + 384 + 1280 + 480 + 384 + 3072 + 480, FlopCount.decoderForward(d, 8, 4, 1));
    }

    @Test
    void maeDecoderRunsFullBlocksOverAllTokens() {
        DecoderConfig d = new DecoderConfig(8, 1, 2, 4, 6, false);
        // embed 256; a full block over 5 tokens of width 8: 1920 + 800 + 640 + 5120; head 480.
        assertEquals(256 + 1920 + 800 + 640 + 5120 + 480, FlopCount.decoderForward(d, 8, 4, 1));
    }

    @Test
    void clipViTB16TeacherAt224() {
        // 196 patches, T = 197, W = 768, MLP 3072: conv 2·196·768·768 = 231,211,008; per block qkv 697,171,968 +
        // attention 4·197²·768 = 119,221,248 + proj 232,390,656 + MLP 1,859,125,248 = 2,907,909,120 (× 12);
        // visual_projection 2·197·768·512 = 154,927,104. ≈ 17.6 GMACs, the figure usually quoted for ViT-B/16.
        assertEquals(231_211_008L + 12 * 2_907_909_120L + 154_927_104L,
                FlopCount.clipForward(224, 16, 768, 12, 3072, 512));
    }

    @Test
    void backwardIsTwiceTheForward() {
        assertEquals(2 * 11552.0, FlopCount.backward(FlopCount.encoderForwardAll(TINY)));
    }
}
