package io.milan.trainer.train;

import ai.djl.Device;
import io.milan.trainer.cli.CommonOptions;
import io.milan.trainer.dist.DistConfig;
import java.time.Duration;

/** Where a run executes: the process group's configuration (environment + --dist_timeout) and this one's device. */
record RunEnvironment(DistConfig dist, Device device) {

    static RunEnvironment resolve(CommonOptions c) {
        DistConfig dist = DistConfig.fromEnv(System.getenv());
        if (c.distTimeoutSeconds != null) {
            dist = dist.withTimeout(Duration.ofSeconds(c.distTimeoutSeconds));
        }
        return new RunEnvironment(dist, Devices.resolve(c.device, dist));
    }
}
