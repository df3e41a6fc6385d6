package io.milan.trainer.bench;

import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * libtorch's profiler over the last measured step, one Chrome trace per phase ({@code <dir>/<phase>.json}, e.g.
 * {@code backward.json}): every aten op with its input shapes and duration, forward and autograd alike. For
 * finding which ops a phase loses time in against PyTorch (torch_bench.py --profile writes the same per phase).
 * The profiler's own cost inflates the step it covers, so that step's timings are not representative.
 */
final class OpProfile {

    private final Path dir;
    private boolean active;

    /** No profiling when {@code dir} is null. */
    OpProfile(Path dir) {
        this.dir = dir;
    }

    /** Starts profiling when {@code last} (the last measured step) and a directory was given. */
    void startStep(boolean last) {
        if (dir != null && last) {
            try {
                Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("--profile: cannot create directory " + dir + ": " + e, e);
            }
            JniUtils.startProfile(false, true, false);
            active = true;
        }
    }

    /** Writes the trace of {@code phase} (just ended) and, unless it was the step's last, profiles the next. */
    void phaseEnded(String phase, boolean lastOfStep) {
        if (!active) {
            return;
        }
        JniUtils.stopProfile(dir.resolve(phase.replaceAll("[^A-Za-z0-9]+", "_").toLowerCase(Locale.ROOT)
                + ".json").toString());
        active = !lastOfStep;
        if (active) {
            JniUtils.startProfile(false, true, false);
        }
    }
}
