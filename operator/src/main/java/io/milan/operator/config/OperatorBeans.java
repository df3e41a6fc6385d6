package io.milan.operator.config;

import io.micrometer.core.instrument.MeterRegistry;
import io.milan.operator.metrics.RunMetrics;
import io.milan.operator.reconcile.RunLifecycle;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Builds the operator's plain objects from Quarkus configuration (see docs/operator.md for the properties); leader
 * election is {@link LeaderElection}'s.
 */
public class OperatorBeans {
    @Produces
    @Singleton
    OperatorSettings settings(
            @ConfigProperty(name = "milan.trainer.image", defaultValue = OperatorSettings.DEFAULT_TRAINER_IMAGE)
            String image,
            @ConfigProperty(name = "milan.trainer.run-as-user", defaultValue = "10001") long runAsUser,
            @ConfigProperty(name = "milan.trainer.run-as-group", defaultValue = "10001") long runAsGroup,
            @ConfigProperty(name = "milan.trainer.fs-group", defaultValue = "10001") long fsGroup,
            @ConfigProperty(name = "milan.network-policy.enabled", defaultValue = "true") boolean networkPolicy) {
        return new OperatorSettings(image, runAsUser, runAsGroup, fsGroup, networkPolicy);
    }

    @Produces
    @Singleton
    RunMetrics metrics(MeterRegistry registry) {
        return new RunMetrics(registry, Clock.systemUTC());
    }

    @Produces
    @Singleton
    RunLifecycle lifecycle(OperatorSettings settings, RunMetrics metrics) {
        return new RunLifecycle(settings, Clock.systemUTC(), metrics);
    }
}
