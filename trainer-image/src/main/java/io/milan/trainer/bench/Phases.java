package io.milan.trainer.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Wall time per named phase over the measured steps. A phase ends when its result is materialised (one element
 * copied to the host), so asynchronous devices (CUDA) are charged to the phase that did the work; on the CPU
 * libtorch runs eagerly and this costs nothing.
 */
public final class Phases {

    private final Map<String, List<Double>> millis = new LinkedHashMap<>();
    private final String lastPhase;
    private OpProfile profile = new OpProfile(null);
    private boolean recording;
    private long mark;

    /** Phases in this order, so the table lists them as the step runs even when a step skips one. */
    public Phases(String... names) {
        for (String name : names) {
            millis.put(name, new ArrayList<>());
        }
        lastPhase = names[names.length - 1];
    }

    /** Profiles the ops of each phase of the step started with {@code startStep(.., true)}. */
    void profile(OpProfile opProfile) {
        this.profile = opProfile;
    }

    /** Starts a step, profiling its ops (if a profile is set) when {@code profileOps}. */
    void startStep(boolean record, boolean profileOps) {
        profile.startStep(profileOps);
        startStep(record);
    }

    /** Starts a step; {@code record} false for warm-up steps. */
    public void startStep(boolean record) {
        recording = record;
        mark = System.nanoTime();
    }

    /** Ends phase {@code name} once {@code result} (may be null) is materialised, and starts the next. */
    public void end(String name, NDArray result) {
        if (result != null) {
            materialise(result);
        }
        long now = System.nanoTime();
        if (recording) {
            List<Double> list = millis.get(name);
            if (list == null) {
                throw new IllegalArgumentException("unknown phase '" + name + "'; phases are " + millis.keySet());
            }
            list.add((now - mark) / 1e6);
        }
        profile.phaseEnded(name, name.equals(lastPhase));
        mark = System.nanoTime();
    }

    /** Mean milliseconds per step of each phase (phases never timed are left out). */
    public Map<String, Double> meanMillis() {
        Map<String, Double> out = new LinkedHashMap<>();
        millis.forEach((name, list) -> {
            if (!list.isEmpty()) {
                out.put(name, list.stream().mapToDouble(Double::doubleValue).average().orElse(0));
            }
        });
        return out;
    }

    /** Forces the computation of {@code a} to finish by copying its first element to the host. */
    static void materialise(NDArray a) {
        int rank = a.getShape().dimension();
        if (rank == 0) {
            a.toByteBuffer();
            return;
        }
        long[] zeros = new long[rank];
        try (NDArray first = a.get(new NDIndex(zeros))) {
            first.toByteBuffer();
        }
    }
}
