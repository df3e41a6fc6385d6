package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
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

/** The fine-tuning losses against timm 0.3.2's SoftTargetCrossEntropy / LabelSmoothingCrossEntropy and torch CE. */
class ClassificationLossTest {

    private NDManager manager;
    private JsonObject golden;

    @BeforeEach
    void setUp() throws IOException {
        manager = NDManager.newBaseManager(Device.cpu());
        try (InputStream in = getClass().getResourceAsStream("/finetune/golden.json")) {
            golden = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject()
                    .getAsJsonObject("losses");
        }
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void lossesMatchTimm() {
        int classes = golden.get("classes").getAsInt();
        NDArray logits = manager.create(floats(golden.getAsJsonArray("logits")), new Shape(6, classes));
        NDArray labels = manager.create(longs(golden.getAsJsonArray("labels")));
        NDArray soft = manager.create(floats(golden.getAsJsonArray("soft_targets")), new Shape(6, classes));
        assertEquals(golden.get("soft_target_ce").getAsDouble(),
                ClassificationLoss.softTarget(logits, soft).getFloat(), 1e-6);
        assertEquals(golden.get("label_smoothing_ce").getAsDouble(),
                ClassificationLoss.labelSmoothing(logits, labels, 0.1).getFloat(), 1e-6);
        assertEquals(golden.get("label_smoothing_ce_0_3").getAsDouble(),
                ClassificationLoss.labelSmoothing(logits, labels, 0.3).getFloat(), 1e-6);
        assertEquals(golden.get("cross_entropy").getAsDouble(),
                ClassificationLoss.crossEntropy(logits, labels).getFloat(), 1e-6);
    }

    @Test
    void byHandOnTwoClasses() {
        // logits (0, ln 3): softmax (1/4, 3/4). Label 1: CE = ln(4/3);
        // smoothing s: (1−s)·ln(4/3) + s·mean(ln 4, ln(4/3)).
        NDArray logits = manager.create(new float[] {0f, (float) Math.log(3)}, new Shape(1, 2));
        NDArray label = manager.create(new long[] {1});
        double ce = Math.log(4.0 / 3);
        assertEquals(ce, ClassificationLoss.crossEntropy(logits, label).getFloat(), 1e-6);
        assertEquals(0.9 * ce + 0.1 * (Math.log(4) + ce) / 2,
                ClassificationLoss.labelSmoothing(logits, label, 0.1).getFloat(), 1e-6);
        NDArray target = manager.create(new float[] {0.5f, 0.5f}, new Shape(1, 2));
        assertEquals(0.5 * Math.log(4) + 0.5 * ce, ClassificationLoss.softTarget(logits, target).getFloat(), 1e-6);
    }

    @Test
    void badLabelsAndShapesAreNamed() {
        NDArray logits = manager.zeros(new Shape(2, 3));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ClassificationLoss.crossEntropy(logits, manager.create(new long[] {0, 3}))).getMessage()
                .contains("[0, 3)"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ClassificationLoss.crossEntropy(logits, manager.create(new long[] {0}))).getMessage()
                .contains("labels"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ClassificationLoss.softTarget(logits, manager.zeros(new Shape(2, 4)))).getMessage()
                .contains("soft targets"));
    }

    private static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }

    private static long[] longs(JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }
}
