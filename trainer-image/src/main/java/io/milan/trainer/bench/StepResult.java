package io.milan.trainer.bench;

import java.util.Map;

/**
 * Timings of one benchmark run.
 *
 * @param phaseMillis    mean ms per step of each phase, in step order
 * @param phaseFlops     FLOPs per step of the phases that have matmuls (same keys, subset)
 * @param batch          images per step
 * @param lastLoss       the last step's loss (a sanity check: finite)
 * @param stepPeakBytes  memory the last step added at its peak (activations, targets, temporaries; {@link StepMemory})
 * @param memoryMethod   how that was measured
 */
public record StepResult(Map<String, Double> phaseMillis, Map<String, Double> phaseFlops, int batch,
        double lastLoss, long stepPeakBytes, String memoryMethod) {

    public double stepMillis() {
        return phaseMillis.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    public double imagesPerSecond() {
        return batch / (stepMillis() / 1000);
    }

    public double flopsPerStep() {
        return phaseFlops.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** Counted FLOPs over the whole step time (phases without FLOPs included in the time). */
    public double achievedGflops() {
        return flopsPerStep() / (stepMillis() / 1000) / 1e9;
    }
}
