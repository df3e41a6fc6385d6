package io.milan.operator.config;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import io.milan.operator.metrics.RunMetrics;
import io.milan.operator.reconcile.RunLifecycle;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** Builds the operator's plain objects from Quarkus configuration (see docs/operator.md for the properties). */
public class OperatorBeans {
    private static final Logger LOG = Logger.getLogger(OperatorBeans.class);

    @Produces
    @Singleton
    OperatorSettings settings(
            @ConfigProperty(name = "milan.trainer.image", defaultValue = OperatorSettings.DEFAULT_TRAINER_IMAGE)
            String image,
            @ConfigProperty(name = "milan.trainer.run-as-user", defaultValue = "10001") long runAsUser,
            @ConfigProperty(name = "milan.trainer.run-as-group", defaultValue = "10001") long runAsGroup,
            @ConfigProperty(name = "milan.trainer.fs-group", defaultValue = "10001") long fsGroup) {
        return new OperatorSettings(image, runAsUser, runAsGroup, fsGroup);
    }

    @Produces
    @Singleton
    RunMetrics metrics(MeterRegistry registry) {
        return new RunMetrics(registry);
    }

    @Produces
    @Singleton
    RunLifecycle lifecycle(OperatorSettings settings, RunMetrics metrics) {
        return new RunLifecycle(settings, Clock.systemUTC(), metrics);
    }

    /**
     * Leader election for running more than one replica: one replica reconciles, the others wait on the Lease.
     * Off unless {@code milan.leader-election.enabled=true}; a null configuration turns it off in the operator SDK.
     * The Lease lives in the operator's own namespace unless one is configured.
     */
    @Produces
    @Dependent
    LeaderElectionConfiguration leaderElection(
            @ConfigProperty(name = "milan.leader-election.enabled", defaultValue = "false") boolean enabled,
            @ConfigProperty(name = "milan.leader-election.lease-name", defaultValue = "milan-operator")
            String leaseName,
            @ConfigProperty(name = "milan.leader-election.lease-namespace") Optional<String> leaseNamespace) {
        if (!enabled) {
            return null;
        }
        LOG.infof("leader election on: lease %s in %s", leaseName,
                leaseNamespace.orElse("the operator's namespace"));
        return leaseNamespace.map(ns -> new LeaderElectionConfiguration(leaseName, ns))
                .orElseGet(() -> new LeaderElectionConfiguration(leaseName));
    }
}
