package io.milan.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milan.api.TrainerExitCodes;
import io.milan.trainer.cli.MilanTrainer;
import io.milan.trainer.model.ViTConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `milan-trainer bench` runs real steps of a tiny model and reports every phase (no assertion on speed). */
class BenchCommandTest {

    @Test
    void pretrainStepReportsEveryPhase() {
        String out = runBench("--model", "vit_tiny", "--input_size", "32", "--teacher", "encoder");
        List<String> phases = List.of(StepBench.TEACHER, StepBench.MASKING, StepBench.ENCODER, StepBench.DECODER,
                StepBench.BACKWARD, StepBench.OPTIMIZER);
        JsonObject json = checkReport(out, phases);
        // The FLOPs the table reports are the counter's for this shape: 32 px, patch 16 → L = 4, 1 visible.
        BenchSettings s = new BenchSettings("vit_tiny", tiny32(), 8, 1, 0, false, 0.75, true, true,
                false, 0, "off");
        double encoder = FlopCount.encoderForward(s.encoder(), 1);
        double decoder = FlopCount.decoderForward(s.decoder(192), 192, 4, 1);
        double teacher = FlopCount.encoderForwardAll(s.encoder());
        assertEquals(8 * (teacher + 3 * (encoder + decoder)) / 1e9, json.get("gflop_per_step").getAsDouble(), 1e-9);
    }

    @Test
    void encoderOnlyReportsForwardBackwardOptimizer() {
        String out = runBench("--model", "vit_tiny", "--input_size", "32", "--encoder-only");
        checkReport(out, List.of(StepBench.FORWARD, StepBench.BACKWARD, StepBench.OPTIMIZER));
    }

    @Test
    void bf16AutocastRunsTheSameStepAndSaysSo() {
        String out = runBench("--model", "vit_tiny", "--input_size", "32", "--teacher", "encoder", "--amp", "bf16");
        JsonObject json = checkReport(out, List.of(StepBench.TEACHER, StepBench.MASKING, StepBench.ENCODER,
                StepBench.DECODER, StepBench.BACKWARD, StepBench.OPTIMIZER));
        assertEquals("bf16", json.get("amp").getAsString());
        assertTrue(out.contains("amp bfloat16 autocast"), out);
    }

    @Test
    void badTeacherIsAUsageError() {
        assertEquals(TrainerExitCodes.CONFIGURATION, MilanTrainer.run("bench", "--teacher", "dino"));
    }

    private static JsonObject checkReport(String out, List<String> phases) {
        for (String phase : phases) {
            assertTrue(out.lines().anyMatch(l -> l.startsWith(phase + " ")), "no row for '" + phase + "':\n" + out);
        }
        assertTrue(out.contains("img/s: ") && out.contains("MFU: "), out);
        String line = out.lines().filter(l -> l.startsWith(BenchReport.JSON_PREFIX)).findFirst().orElseThrow();
        JsonObject json = JsonParser.parseString(line.substring(BenchReport.JSON_PREFIX.length())).getAsJsonObject();
        JsonObject ms = json.getAsJsonObject("phase_ms");
        assertEquals(phases, List.copyOf(ms.keySet()), "phases in step order");
        assertTrue(Double.isFinite(json.get("img_per_s").getAsDouble()) && json.get("peak_gflops").getAsDouble() > 0,
                line);
        assertTrue(json.get("step_peak_bytes").getAsLong() > 0, "a step holds its activations: " + line);
        assertTrue(out.contains("step memory: "), out);
        return json;
    }

    private static String runBench(String... flags) {
        String[] common = {"bench", "--steps", "1", "--warmup", "0", "--peak_size", "64", "--peak_reps", "1"};
        String[] args = new String[common.length + flags.length];
        System.arraycopy(common, 0, args, 0, common.length);
        System.arraycopy(flags, 0, args, common.length, flags.length);
        PrintStream previous = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = MilanTrainer.run(args);
        } finally {
            System.setOut(previous);
        }
        String out = buffer.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        return out;
    }

    /** The encoder `--model vit_tiny --input_size 32` builds. */
    private static ViTConfig tiny32() {
        ViTConfig t = ViTConfig.named("vit_tiny");
        return new ViTConfig(32, 16, 3, t.dim(), t.depth(), t.heads(), t.mlpRatio(), 0);
    }
}
