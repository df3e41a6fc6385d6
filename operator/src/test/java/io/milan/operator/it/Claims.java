package io.milan.operator.it;

import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.testsupport.Await;

/**
 * Statically bound claims: the local cluster has no provisioner, so each claim gets a PersistentVolume made for
 * it (pods only reference the claim, which the restricted profile allows).
 */
final class Claims {
    private static final String OWNER_LABEL = "milan.io/it-namespace";

    private Claims() {
    }

    static PersistentVolumeClaim createBound(KubernetesClient client, String namespace, String claim) {
        String pv = "it-" + namespace + "-" + claim;
        client.persistentVolumes().resource(new PersistentVolumeBuilder()
                .withNewMetadata().withName(pv).addToLabels(OWNER_LABEL, namespace).endMetadata()
                .withNewSpec()
                    .addToCapacity("storage", new Quantity("1Gi"))
                    .withAccessModes("ReadWriteMany")
                    .withStorageClassName("")
                    .withPersistentVolumeReclaimPolicy("Retain")
                    .withNewHostPath().withPath("/tmp/" + pv).endHostPath()
                    .withNewClaimRef().withNamespace(namespace).withName(claim).endClaimRef()
                .endSpec().build()).create();
        client.persistentVolumeClaims().inNamespace(namespace).resource(new PersistentVolumeClaimBuilder()
                .withNewMetadata().withName(claim).endMetadata()
                .withNewSpec()
                    .withAccessModes("ReadWriteMany")
                    .withStorageClassName("")
                    .withVolumeName(pv)
                    .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources()
                .endSpec().build()).create();
        return Await.until("claim " + claim + " bound", Cluster.TIMEOUT,
                () -> client.persistentVolumeClaims().inNamespace(namespace).withName(claim).get(),
                c -> c != null && c.getStatus() != null && "Bound".equals(c.getStatus().getPhase()));
    }

    /** The PersistentVolumes are cluster-scoped: remove those made for this namespace. */
    static void deleteVolumes(KubernetesClient client, String namespace) {
        client.persistentVolumes().withLabel(OWNER_LABEL, namespace).delete();
    }
}
