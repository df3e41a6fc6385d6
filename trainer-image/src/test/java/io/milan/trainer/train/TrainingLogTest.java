package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Expected strings were produced by CPython 3.11's repr() and json.dumps() on the same values. */
class TrainingLogTest {

    @TempDir
    Path dir;

    @Test
    void floatsAreFormattedLikePythonRepr() {
        double[] values = {0.0, -0.0, 1.0, 0.1 + 0.2, 1e-4, 1e-5, 1.5e-5, 1e15, 1e16, 123456789.0, 1e22, 5e-324,
            1.7976931348623157e308, Math.pow(2, -20), Math.pow(2, 60), 0.30000001192092896, 2.4e-3, 4e-4, -3.25e-7,
            Math.pow(2, -1022), 9007199254740993.0, 1.0 / 3, 2.0 / 3, 100.0, 85.4};
        List<String> python = List.of("0.0", "-0.0", "1.0", "0.30000000000000004", "0.0001", "1e-05", "1.5e-05",
                "1000000000000000.0", "1e+16", "123456789.0", "1e+22", "5e-324", "1.7976931348623157e+308",
                "9.5367431640625e-07", "1.152921504606847e+18", "0.30000001192092896", "0.0024", "0.0004", "-3.25e-07",
                "2.2250738585072014e-308", "9007199254740992.0", "0.3333333333333333", "0.6666666666666666", "100.0",
                "85.4");
        for (int i = 0; i < values.length; i++) {
            assertEquals(python.get(i), TrainingLog.floatRepr(values[i]), "value #" + i);
        }
    }

    @Test
    void linesMatchTheReferenceAndAreAppended() throws IOException {
        TrainingLog log = new TrainingLog(dir.resolve("out"));
        log.append(TrainingLog.pretrainStats(0, 1.2e-05, 0.9865432109876543));
        log.append(TrainingLog.finetuneStats(99, 0.00039999999999999996, 2.5, 0.7, 85.4, 97.512, 86567656L));
        assertEquals(List.of(
                "{\"train_lr\": 1.2e-05, \"train_loss\": 0.9865432109876543, \"epoch\": 0}",
                "{\"train_lr\": 0.00039999999999999996, \"train_loss\": 2.5, \"test_loss\": 0.7, \"test_acc1\": 85.4,"
                        + " \"test_acc5\": 97.512, \"epoch\": 99, \"n_parameters\": 86567656}"),
                Files.readAllLines(dir.resolve("out/log.txt")));
        assertEquals(dir.resolve("out/log.txt"), log.file());
    }

    @Test
    void specialValuesAndStringsLikeJsonDumps() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", Double.NaN);
        m.put("b", Double.POSITIVE_INFINITY);
        m.put("c", "ü\"\n");
        m.put("d", true);
        assertEquals("{\"a\": NaN, \"b\": Infinity, \"c\": \"\\u00fc\\\"\\n\", \"d\": true}", TrainingLog.toJson(m));
    }

    @Test
    void progressLine() {
        ProgressLine line = new ProgressLine(3, 400, 120, 625, 2.4e-4, 0.61234, 0.64, 312.46, 95.7);
        assertEquals("Epoch: [3/400]  [120/625]  eta: 0:01:35  lr: 0.000240  loss: 0.6123 (0.6400)  img/s: 312.5",
                line.format());
        assertEquals("Epoch: [0/1]  [   7/1251]  eta: 1 day, 2:03:04  lr: 0.000000  loss: 1.0000 (1.0000)  img/s: 0.0",
                new ProgressLine(0, 1, 7, 1251, 0, 1, 1, 0, 86400 + 7384.9).format());
        // With fp16 loss scaling: the scale and the steps skipped so far.
        assertEquals("Epoch: [3/400]  [120/625]  eta: 0:01:35  lr: 0.000240  loss: 0.6123 (0.6400)  img/s: 312.5"
                + "  loss_scale: 32768  skipped: 2",
                new ProgressLine(3, 400, 120, 625, 2.4e-4, 0.61234, 0.64, 312.46, 95.7, 32768, 2).format());
        assertEquals("3 days, 0:00:00", ProgressLine.timedelta(3 * 86400));
        assertEquals("?", ProgressLine.timedelta(Double.NaN));
    }
}
