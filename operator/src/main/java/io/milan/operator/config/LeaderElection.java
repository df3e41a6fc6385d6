package io.milan.operator.config;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Leader election for running more than one replica: one replica reconciles, the others wait on the Lease. Off
 * unless {@code milan.leader-election.enabled=true}.
 *
 * <p>Why not the operator SDK's defaults (JOSDK 5.3): it ends leadership with {@code System.exit(1)}, and leadership
 * also ends when the operator is stopped — inside Quarkus's shutdown hook, where {@code System.exit} blocks for
 * ever, so a leader sent SIGTERM hung until SIGKILL. And it never gives the Lease back (it builds fabric8's
 * LeaderElector with releaseOnCancel off), so a standby waited out the whole lease duration. Here exiting is off in
 * the SDK and {@link #leadershipEnded()} decides: on shutdown it releases the Lease, which is safe then because
 * {@code Operator.stop()} stops the controllers and waits for running reconciles before it stops the election; when
 * leadership is lost while the operator runs (a renewal failed), the process still exits at once, as before, so two
 * replicas never reconcile together.
 */
@Singleton
public class LeaderElection {
    private static final Logger LOG = Logger.getLogger(LeaderElection.class);

    private volatile boolean shuttingDown;

    /**
     * The SDK's configuration; null turns leader election off. The Lease lives in the operator's own namespace (the
     * client's) unless {@code milan.leader-election.lease-namespace} names one. The identity is the pod name
     * (HOSTNAME) with a random suffix, so two processes on one host never share it.
     */
    @Produces
    @Dependent
    LeaderElectionConfiguration configuration(KubernetesClient client,
            @ConfigProperty(name = "milan.leader-election.enabled", defaultValue = "false") boolean enabled,
            @ConfigProperty(name = "milan.leader-election.lease-name", defaultValue = "milan-operator")
            String leaseName,
            @ConfigProperty(name = "milan.leader-election.lease-namespace") Optional<String> leaseNamespace) {
        if (!enabled) {
            return null;
        }
        String namespace = leaseNamespace.orElseGet(client::getNamespace);
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException("milan.leader-election.lease-namespace is not set and the Kubernetes"
                    + " client has no namespace to put the Lease in; set it");
        }
        String identity = Optional.ofNullable(System.getenv("HOSTNAME")).filter(h -> !h.isBlank())
                .orElse("milan-operator") + "_" + UUID.randomUUID();
        LeaseRelease lease = new LeaseRelease(client, namespace, leaseName, identity);
        LOG.infof("leader election on: lease %s in %s, identity %s", leaseName, namespace, identity);
        var callbacks = new LeaderCallbacks(
                () -> LOG.infof("leading as %s", identity),
                () -> leadershipEnded(lease),
                leader -> LOG.infof("leader is now %s", leader));
        return new LeaderElectionConfiguration(leaseName, namespace,
                LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
                LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
                LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
                identity, callbacks, false);
    }

    /**
     * Notified before the operator SDK's own shutdown observer (default priority, APPLICATION + 500) stops the
     * operator, so that {@link #leadershipEnded} knows the end of leadership is a shutdown.
     */
    void onShutdown(@Observes @Priority(Interceptor.Priority.APPLICATION) ShutdownEvent event) {
        shuttingDown = true;
    }

    private void leadershipEnded(LeaseRelease lease) {
        if (shuttingDown) {
            lease.release();
            return;
        }
        LOG.errorf("lost the Lease %s; exiting so that only the new leader reconciles", lease.describe());
        // From a thread of its own: this callback runs on the election's executor, which the shutdown that
        // System.exit starts waits for.
        new Thread(() -> System.exit(1), "milan-leadership-lost").start();
    }
}
