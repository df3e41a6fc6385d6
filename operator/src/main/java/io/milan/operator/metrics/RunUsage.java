package io.milan.operator.metrics;

import io.fabric8.kubernetes.client.CustomResource;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import io.milan.operator.lifecycle.ActiveTime;
import java.time.Clock;

/** What one run uses, read from its spec and status: the values behind the per-run gauges of {@link RunMetrics}. */
final class RunUsage {
    private RunUsage() {
    }

    /** Devices the run's pod group holds while it is active (admitted, unsuspended); 0 otherwise. */
    static Double devices(CustomResource<? extends RunSpec, RunStatus> run, Clock clock) {
        return active(run) ? (double) run.getSpec().worldSize() : 0.0;
    }

    /** Devices x active time so far, counting the open stretch up to now: the run's GPU-seconds. */
    static Double deviceSeconds(CustomResource<? extends RunSpec, RunStatus> run, Clock clock) {
        if (run.getStatus() == null || run.getSpec() == null) {
            return 0.0;
        }
        double seconds = ActiveTime.total(run.getStatus(), clock.instant()).toMillis() / 1000.0;
        return seconds * run.getSpec().worldSize();
    }

    /** The group's images per second from the trainer's last report; 0 while the run is not active. */
    static Double imagesPerSecond(CustomResource<? extends RunSpec, RunStatus> run, Clock clock) {
        if (!active(run) || run.getStatus().progress == null || run.getStatus().progress.imagesPerSecond == null) {
            return 0.0;
        }
        return run.getStatus().progress.imagesPerSecond;
    }

    /** The current epoch's mean training loss; absent (NaN) before the first report. */
    static Double trainLoss(CustomResource<? extends RunSpec, RunStatus> run, Clock clock) {
        var progress = run.getStatus() == null ? null : run.getStatus().progress;
        return progress == null || progress.trainLoss == null ? Double.NaN : progress.trainLoss;
    }

    private static boolean active(CustomResource<? extends RunSpec, RunStatus> run) {
        return run.getSpec() != null && run.getStatus() != null && ActiveTime.isRunning(run.getStatus());
    }
}
