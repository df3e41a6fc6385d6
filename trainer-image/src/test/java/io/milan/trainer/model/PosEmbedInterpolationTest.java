package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** MAE's interpolate_pos_embed against torch 1.13's F.interpolate(bicubic, align_corners=False), float32/64. */
class PosEmbedInterpolationTest {

    @Test
    void matchesTorchBicubicForUpAndDownsampling() throws IOException {
        JsonObject golden;
        try (InputStream in = getClass().getResourceAsStream("/finetune/golden.json")) {
            golden = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
        int cases = 0;
        for (JsonElement e : golden.getAsJsonArray("pos_embed")) {
            JsonObject c = e.getAsJsonObject();
            int grid = c.get("grid").getAsInt();
            int dim = c.get("dim").getAsInt();
            int to = c.get("new_grid").getAsInt();
            float[] out = PosEmbedInterpolation.resize(floats(c, "table"), 1, dim, grid, to);
            // ours is the float64 value rounded once; torch's float32 kernel is up to ~1.7e-6 away from it
            assertWithin(floats(c, "expected"), out, 2.5e-6, grid + "→" + to + " vs torch float32");
            assertWithin(floats(c, "expected_float64"), out, 1.5e-7, grid + "→" + to + " vs torch float64");
            cases++;
        }
        assertEquals(4, cases);
    }

    @Test
    void theSameGridAndTheClsRowAreKept() {
        float[] table = new float[(1 + 9) * 2];
        for (int i = 0; i < table.length; i++) {
            table[i] = i * 0.5f - 3;
        }
        // align_corners=False at scale 1: source = destination, t = 0, weights (0, 1, 0, 0): exact copy
        assertArrayEquals(table, PosEmbedInterpolation.resize(table, 1, 2, 3, 3), 0f);
        float[] up = PosEmbedInterpolation.resize(table, 1, 2, 3, 5);
        assertArrayEquals(new float[] {table[0], table[1]}, new float[] {up[0], up[1]}, 0f);
        // a constant table stays constant (the cubic weights sum to 1)
        float[] flat = new float[(1 + 16) * 3];
        java.util.Arrays.fill(flat, 3, flat.length, 0.75f);
        for (float v : java.util.Arrays.copyOfRange(PosEmbedInterpolation.resize(flat, 1, 3, 4, 7), 3, 3 + 49 * 3)) {
            assertEquals(0.75f, v, 1e-6);
        }
        assertThrows(IllegalArgumentException.class, () -> PosEmbedInterpolation.resize(table, 1, 2, 4, 5));
    }

    private static void assertWithin(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < actual.length; i++) {
            assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), what + ", value " + i);
        }
    }

    private static float[] floats(JsonObject c, String key) {
        var a = c.getAsJsonArray(key);
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }
}
