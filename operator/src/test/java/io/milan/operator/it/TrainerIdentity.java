package io.milan.operator.it;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.authentication.BoundObjectReference;
import io.fabric8.kubernetes.api.model.authentication.BoundObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.milan.api.report.RunReference;
import io.milan.api.report.StatusReporter;
import io.milan.operator.naming.ChildNames;
import io.milan.operator.reconcile.RunKind;
import io.milan.testsupport.Await;
import java.time.Duration;

/**
 * A client that authenticates as a run's trainer ServiceAccount, as the reporter inside a trainer pod does with
 * its mounted token: what it may do is exactly what the per-run Role grants.
 */
final class TrainerIdentity {
    private TrainerIdentity() {
    }

    static KubernetesClient clientFor(KubernetesClient admin, String namespace, String runName) {
        return clientFor(admin, namespace, RunKind.PRETRAIN, runName);
    }

    static KubernetesClient clientFor(KubernetesClient admin, String namespace, RunKind kind, String runName) {
        return clientForAccount(admin, namespace, ChildNames.of(kind, runName).trainerAccount());
    }

    /**
     * A client authenticated as the ServiceAccount {@code account} with a token bound to no pod (as a user may mint
     * one with {@code kubectl create token}): a run's own account, or one a run names in its spec.
     */
    static KubernetesClient clientForAccount(KubernetesClient admin, String namespace, String account) {
        return clientWithToken(admin, namespace, token(admin, namespace, account, null));
    }

    /**
     * A client with a token of the pod's ServiceAccount bound to that pod, as the kubelet mounts it in the pod: the
     * API server names the pod in the request's user extra ({@code authentication.kubernetes.io/pod-name}).
     */
    static KubernetesClient clientForPod(KubernetesClient admin, Pod pod) {
        return clientWithToken(admin, pod.getMetadata().getNamespace(), token(admin, pod.getMetadata().getNamespace(),
                pod.getSpec().getServiceAccountName(), new BoundObjectReferenceBuilder().withApiVersion("v1")
                        .withKind("Pod").withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid())
                        .build()));
    }

    private static String token(KubernetesClient admin, String namespace, String account, BoundObjectReference pod) {
        Await.until("ServiceAccount " + account, Cluster.TIMEOUT,
                () -> admin.serviceAccounts().inNamespace(namespace).withName(account).get(),
                (ServiceAccount sa) -> sa != null);
        return admin.serviceAccounts().inNamespace(namespace).withName(account)
                .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L)
                        .withBoundObjectRef(pod).endSpec().build())
                .getStatus().getToken();
    }

    private static KubernetesClient clientWithToken(KubernetesClient admin, String namespace, String token) {
        Config base = admin.getConfiguration();
        Config asTrainer = new ConfigBuilder(Config.empty())
                .withMasterUrl(base.getMasterUrl())
                .withCaCertData(base.getCaCertData())
                .withCaCertFile(base.getCaCertFile())
                .withTrustCerts(base.isTrustCerts())
                .withOauthToken(token)
                .withNamespace(namespace)
                .withRequestRetryBackoffLimit(0)
                .build();
        return new KubernetesClientBuilder().withConfig(asTrainer).build();
    }

    /** The real reporter, writing as the run's trainer; progress at most every 200 ms. */
    static StatusReporter reporterFor(KubernetesClient admin, String namespace, RunReference run) {
        return StatusReporter.forRun(run, clientFor(admin, namespace,
                "MilanFinetune".equals(run.kind()) ? RunKind.FINETUNE : RunKind.PRETRAIN, run.name()), Duration.ofMillis(200));
    }
}
