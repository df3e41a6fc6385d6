package io.milan.operator.config;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.jboss.logging.Logger;

/**
 * Gives the leader-election Lease back on shutdown, as client-go's ReleaseOnCancel does: the holder is cleared and
 * the duration set to one second, so a standby takes over at its next try instead of waiting for the Lease to
 * expire.
 */
final class LeaseRelease {
    private static final Logger LOG = Logger.getLogger(LeaseRelease.class);

    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final String identity;

    LeaseRelease(KubernetesClient client, String namespace, String name, String identity) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
        this.identity = identity;
    }

    /**
     * Clears the holder if it is still this replica. The update carries the resourceVersion read, so a Lease that
     * another replica took meanwhile is left alone (409). Never throws: the process is on its way out, and the Lease
     * then simply expires.
     */
    void release() {
        try {
            Lease lease = client.leases().inNamespace(namespace).withName(name).get();
            if (lease == null || lease.getSpec() == null || !identity.equals(lease.getSpec().getHolderIdentity())) {
                return;
            }
            lease.getSpec().setHolderIdentity(null);
            lease.getSpec().setLeaseDurationSeconds(1);
            client.resource(lease).update();
            LOG.infof("released the Lease %s", describe());
        } catch (KubernetesClientException e) {
            LOG.warnf("could not release the Lease %s (a standby takes over when it expires): %s", describe(),
                    e.getMessage());
        }
    }

    String describe() {
        return namespace + "/" + name;
    }
}
