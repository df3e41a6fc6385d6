package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.VolumeProjectionBuilder;
import java.util.List;

/**
 * The trainer's ServiceAccount token, mounted by the operator instead of the kubelet's automount
 * ({@code automountServiceAccountToken: false}): the same files at the same path (token, ca.crt, namespace, where
 * the reporter's Kubernetes client looks for them), but only in the trainer container, not in a user's extra
 * containers, and valid for {@value #EXPIRATION_SECONDS} s. The kubelet's own token is valid for about an hour too
 * but, unless the API server runs with {@code --service-account-extend-token-expiration=false}, accepted for a year;
 * a token asked for with any other lifetime is not extended. The kubelet renews it at 80 % of its life and the
 * client re-reads the file every minute (fabric8's TokenRefreshInterceptor), so a run outlives its tokens.
 * It is still in every pod of the run (one Indexed Job, one pod template); the status-writers admission policy lets
 * only rank 0's write status (docs/tenancy.md).
 */
public final class TrainerToken {
    /** Where a pod's ServiceAccount credentials are, for every Kubernetes client library. */
    public static final String DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
    public static final long EXPIRATION_SECONDS = 3600;
    static final String VOLUME = "milan-token";
    /** The cluster's CA bundle, published in every namespace by kube-controller-manager. */
    static final String ROOT_CA = "kube-root-ca.crt";

    private TrainerToken() {
    }

    static List<Volume> volumes() {
        return List.of(new VolumeBuilder().withName(VOLUME).withNewProjected()
                .withSources(
                        new VolumeProjectionBuilder().withNewServiceAccountToken().withPath("token")
                                .withExpirationSeconds(EXPIRATION_SECONDS).endServiceAccountToken().build(),
                        new VolumeProjectionBuilder().withNewConfigMap().withName(ROOT_CA)
                                .addNewItem().withKey("ca.crt").withPath("ca.crt").endItem().endConfigMap().build(),
                        new VolumeProjectionBuilder().withNewDownwardAPI().addNewItem().withPath("namespace")
                                .withNewFieldRef().withApiVersion("v1").withFieldPath("metadata.namespace").endFieldRef()
                                .endItem().endDownwardAPI().build())
                .endProjected().build());
    }

    static List<VolumeMount> mounts() {
        return List.of(new VolumeMountBuilder().withName(VOLUME).withMountPath(DIR).withReadOnly(true).build());
    }
}
