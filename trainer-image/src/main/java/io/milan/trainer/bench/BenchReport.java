package io.milan.trainer.bench;

import com.google.gson.Gson;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Prints a {@link StepResult} as a table, then one JSON line ({@value #JSON_PREFIX}) for scripts. */
public final class BenchReport {

    public static final String JSON_PREFIX = "BENCH_JSON ";

    private BenchReport() {
    }

    /**
     * @param title       first line (what ran)
     * @param peakGflops  measured GEMM peak, or NaN when not measured
     * @param peakText    how the peak was measured
     */
    public static void print(PrintStream out, String title, StepResult r, double peakGflops, String peakText,
            Map<String, Object> context) {
        out.println(title);
        out.printf(Locale.ROOT, "%-24s %10s %7s %12s %10s%n", "phase", "ms/step", "share", "GFLOP/step", "GFLOP/s");
        double total = r.stepMillis();
        r.phaseMillis().forEach((phase, ms) -> {
            Double flops = r.phaseFlops().get(phase);
            out.printf(Locale.ROOT, "%-24s %10.1f %6.1f%% %12s %10s%n", phase, ms, 100 * ms / total,
                    flops == null ? "-" : String.format(Locale.ROOT, "%.2f", flops / 1e9),
                    flops == null ? "-" : String.format(Locale.ROOT, "%.1f", flops / 1e9 / (ms / 1000)));
        });
        out.printf(Locale.ROOT, "%-24s %10.1f %6.1f%% %12.2f %10.1f%n", "total", total, 100.0,
                r.flopsPerStep() / 1e9, r.achievedGflops());
        double mfu = r.achievedGflops() / peakGflops;
        out.printf(Locale.ROOT, "img/s: %.2f   achieved: %.1f GFLOP/s   GEMM peak: %s   MFU: %s   (last loss %.4f)%n",
                r.imagesPerSecond(), r.achievedGflops(),
                Double.isNaN(peakGflops) ? "not measured" : String.format(Locale.ROOT, "%.1f GFLOP/s (%s)",
                        peakGflops, peakText),
                Double.isNaN(peakGflops) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * mfu), r.lastLoss());
        out.printf(Locale.ROOT, "step memory: %.2f GiB at the step's peak above its start (%s)%n",
                r.stepPeakBytes() / (double) (1L << 30), r.memoryMethod());
        out.println("FLOPs counted: 2 x MACs of every matmul (Linear, patch-embedding conv, q.k^T and attn.v) in"
                + " the forward of teacher/encoder/decoder; backward = 2 x the forward of the trainable parts;"
                + " LayerNorm, softmax, GELU, gathers, loss and optimizer not counted (their time is).");
        Map<String, Object> json = new LinkedHashMap<>(context);
        json.put("img_per_s", r.imagesPerSecond());
        json.put("step_ms", total);
        json.put("phase_ms", r.phaseMillis());
        json.put("gflop_per_step", r.flopsPerStep() / 1e9);
        json.put("achieved_gflops", r.achievedGflops());
        json.put("peak_gflops", Double.isNaN(peakGflops) ? null : peakGflops);
        json.put("mfu", Double.isNaN(peakGflops) ? null : mfu);
        json.put("step_peak_bytes", r.stepPeakBytes());
        out.println(JSON_PREFIX + new Gson().toJson(json));
    }
}
