package io.milan.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Top-k and timm.utils.accuracy on known logits. */
class TopKTest {

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
    void accuracyOnKnownLogitsByHand() {
        // 4 samples, 6 classes. Ranks of the label: sample 0 → 1st, 1 → 3rd, 2 → 6th, 3 → 5th.
        float[] logits = {
            0.1f, 9.0f, 0.2f, 0.3f, 0.4f, 0.5f, // label 1: top-1
            5.0f, 4.0f, 3.0f, 2.0f, 1.0f, 0.0f, // label 2: 3rd
            1.0f, 2.0f, 3.0f, 4.0f, 5.0f, -7.f, // label 5: last
            0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.0f, // label 4: 5th
        };
        long[] labels = {1, 2, 5, 4};
        TopK top = TopK.of(manager.create(logits, new Shape(4, 6)), 5);
        assertArrayEquals(new long[] {1, 5, 4, 3, 2}, top.classes()[0]);
        assertArrayEquals(new float[] {9.0f, 0.5f, 0.4f, 0.3f, 0.2f}, top.logits()[0]);
        assertEquals(1, top.correct(labels, 1));
        assertEquals(3, top.correct(labels, 5));
        assertEquals(25.0, top.accuracy(labels, 1));
        assertEquals(75.0, top.accuracy(labels, 5));
        assertEquals(50.0, top.accuracy(labels, 3));
    }

    @Test
    void matchesTorchTopkIncludingTies() throws IOException {
        JsonObject g;
        try (InputStream in = getClass().getResourceAsStream("/finetune/golden.json")) {
            g = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject()
                    .getAsJsonObject("topk");
        }
        int classes = g.get("classes").getAsInt();
        float[] logits = floats(g.getAsJsonArray("logits"));
        int rows = logits.length / classes;
        TopK top = TopK.of(manager.create(logits, new Shape(rows, classes)), 5);
        long[] indices = longs(g.getAsJsonArray("indices"));
        float[] values = floats(g.getAsJsonArray("values"));
        for (int r = 0; r < rows; r++) {
            assertArrayEquals(java.util.Arrays.copyOfRange(indices, r * 5, r * 5 + 5), top.classes()[r], "row " + r);
            assertArrayEquals(java.util.Arrays.copyOfRange(values, r * 5, r * 5 + 5), top.logits()[r], 0f, "row " + r);
        }
    }

    @Test
    void fewerClassesThanKKeepsThemAll() {
        TopK top = TopK.of(manager.create(new float[] {0.3f, 0.9f, 0.1f}, new Shape(1, 3)), 5);
        assertArrayEquals(new long[] {1, 0, 2}, top.classes()[0]);
        assertEquals(100.0, top.accuracy(new long[] {2}, 5));
        assertThrows(IllegalArgumentException.class, () -> top.correct(new long[] {0, 1}, 1));
        assertThrows(IllegalArgumentException.class, () -> TopK.of(manager.zeros(new Shape(3)), 1));
    }

    static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }

    static long[] longs(JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }
}
