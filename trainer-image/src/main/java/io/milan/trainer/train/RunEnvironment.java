package io.milan.trainer.train;

import ai.djl.Device;
import io.milan.trainer.cli.CommonOptions;
import io.milan.trainer.dist.DistConfig;
import io.milan.trainer.torch.TorchOps;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a run executes: the process group's configuration (environment + --dist_timeout) and this one's device,
 * with libtorch's TF32 switches set for it (--tf32).
 */
record RunEnvironment(DistConfig dist, Device device) {

    private static final Logger LOG = LoggerFactory.getLogger(RunEnvironment.class);

    static RunEnvironment resolve(CommonOptions c) {
        DistConfig dist = DistConfig.fromEnv(System.getenv());
        if (c.distTimeoutSeconds != null) {
            dist = dist.withTimeout(Duration.ofSeconds(c.distTimeoutSeconds));
        }
        Device device = Devices.resolve(c.device, dist);
        TorchOps.Tf32 tf32 = TorchOps.configureTf32(device, c.tf32);
        if (tf32 != null) {
            LOG.info("TF32 on {}: {}", device, tf32.matmul() ? "matmuls and cuDNN convolutions (--tf32)"
                    : "cuDNN convolutions only, matmuls in full fp32 (PyTorch's defaults; --tf32 allows matmuls)");
        }
        return new RunEnvironment(dist, device);
    }
}
