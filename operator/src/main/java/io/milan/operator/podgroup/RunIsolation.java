package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.milan.operator.naming.Labels;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Keeps a run's data plane to its own pods (issue 22). The rendezvous (rank 0's TCPStore) and the collectives
 * (Gloo/NCCL connections on ephemeral ports) accept any peer that reaches them, so:
 * <ul>
 * <li>a NetworkPolicy per run admits ingress to the trainer pods only from the run's own pods, on any port (the
 * collectives' ports are not known in advance); egress is left open (the API server, object storage);</li>
 * <li>a Secret per attempt holds 32 random bytes, mounted read-only into the pods; every rank proves it before the
 * group is used (the trainer's dist/RendezvousAuth), so a pod of an older attempt or another run that does reach
 * the port is refused by name. It protects where no CNI enforces NetworkPolicy.</li>
 * </ul>
 * Single-process runs have no rendezvous and get neither.
 */
public final class RunIsolation {
    public static final String SECRET_KEY = "token";
    public static final String SECRET_VOLUME = "rendezvous-secret";
    public static final String SECRET_DIR = "/var/run/milan/rendezvous";
    /** Read by the trainer (dist/RendezvousAuth.SECRET_FILE_ENV). */
    public static final String SECRET_FILE_ENV = "MILAN_RENDEZVOUS_SECRET_FILE";
    private static final int SECRET_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private RunIsolation() {
    }

    /** Whether the run has a rendezvous to protect: more than one trainer process. */
    public static boolean hasRendezvous(RenderInput in) {
        return in.spec().worldSize() > 1;
    }

    /** The attempt's secret: new random bytes every attempt, immutable, owned by the run. */
    public static Secret secret(RenderInput in) {
        byte[] token = new byte[SECRET_BYTES];
        RANDOM.nextBytes(token);
        return new SecretBuilder()
                .withMetadata(in.childMetadata(in.names().rendezvousSecret(in.attempt())))
                .withType("Opaque")
                .withImmutable(true)
                .withData(Map.of(SECRET_KEY, Base64.getEncoder().encodeToString(token)))
                .build();
    }

    /** Ingress to the run's trainer pods from the run's own pods only. */
    public static NetworkPolicy networkPolicy(RenderInput in) {
        Map<String, String> runPods = Map.of(Labels.KIND, in.kind().label, Labels.RUN, in.names().base());
        return new NetworkPolicyBuilder()
                .withMetadata(in.childMetadata(in.names().networkPolicy()))
                .withNewSpec()
                    .withNewPodSelector().withMatchLabels(runPods).endPodSelector()
                    .withPolicyTypes("Ingress")
                    .addNewIngress().addNewFrom().withNewPodSelector().withMatchLabels(runPods).endPodSelector()
                        .endFrom().endIngress()
                .endSpec()
                .build();
    }

    static List<Volume> volumes(RenderInput in) {
        if (!hasRendezvous(in)) {
            return List.of();
        }
        // 0440: the trainer's group (fsGroup) reads it; nobody writes it.
        return List.of(new VolumeBuilder().withName(SECRET_VOLUME).withNewSecret()
                .withSecretName(in.names().rendezvousSecret(in.attempt())).withDefaultMode(0440).endSecret().build());
    }

    static List<VolumeMount> mounts(RenderInput in) {
        return hasRendezvous(in) ? List.of(new VolumeMountBuilder().withName(SECRET_VOLUME).withMountPath(SECRET_DIR)
                .withReadOnly(true).build()) : List.of();
    }

    static List<EnvVar> env(RenderInput in) {
        return hasRendezvous(in) ? List.of(new EnvVarBuilder().withName(SECRET_FILE_ENV)
                .withValue(SECRET_DIR + "/" + SECRET_KEY).build()) : List.of();
    }
}
