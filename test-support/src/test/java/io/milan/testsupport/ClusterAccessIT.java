package io.milan.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-class namespace, service-account tokens signed by the cluster, RBAC, and kubectl. */
@WithLocalCluster
class ClusterAccessIT {

    @Test
    void eachClassGetsItsOwnFreshNamespaceAndAClientDefaultingToIt(KubernetesClient client, TestCluster cluster) {
        assertEquals(cluster.namespace(), client.getNamespace());
        Namespace ns = client.namespaces().withName(cluster.namespace()).get();
        assertNotNull(ns, "namespace " + cluster.namespace() + " exists");
        assertEquals("cluster-access-it", ns.getMetadata().getLabels().get(TestCluster.NAMESPACE_LABEL));
        assertTrue(client.pods().list().getItems().isEmpty(), "fresh namespace has no pods");
    }

    @Test
    void serviceAccountTokensAuthenticateAndRbacDecides(KubernetesClient client, TestCluster cluster) {
        client.serviceAccounts().resource(new ServiceAccountBuilder().withNewMetadata().withName("trainer")
                .endMetadata().build()).create();
        TokenRequest issued = client.serviceAccounts().withName("trainer").tokenRequest(
                new TokenRequestBuilder().withNewSpec().withExpirationSeconds(600L).endSpec().build());
        String token = issued.getStatus().getToken();
        assertFalse(token == null || token.isBlank(), "the API server issued a token");

        Config admin = cluster.config();
        Config asTrainer = new ConfigBuilder(Config.empty()).withMasterUrl(admin.getMasterUrl())
                .withCaCertData(admin.getCaCertData()).withOauthToken(token).withNamespace(cluster.namespace()).build();
        try (KubernetesClient trainer = new KubernetesClientBuilder().withConfig(asTrainer).build()) {
            KubernetesClientException denied = assertThrows(KubernetesClientException.class,
                    () -> trainer.pods().list());
            assertEquals(403, denied.getCode(), denied.getMessage());
            assertTrue(denied.getMessage().contains("system:serviceaccount:" + cluster.namespace() + ":trainer"),
                    denied.getMessage());

            client.rbac().roles().resource(new RoleBuilder().withNewMetadata().withName("pod-reader").endMetadata()
                    .addNewRule().withApiGroups("").withResources("pods").withVerbs("list").endRule().build()).create();
            client.rbac().roleBindings().resource(new RoleBindingBuilder()
                    .withNewMetadata().withName("trainer-reads-pods").endMetadata()
                    .withNewRoleRef("rbac.authorization.k8s.io", "Role", "pod-reader")
                    .addNewSubject().withKind("ServiceAccount").withName("trainer").withNamespace(cluster.namespace())
                    .endSubject().build()).create();
            // RBAC reads roles through informers, so the grant takes effect shortly after it is written.
            // The probe throws (403) until then; Await retries it.
            List<Pod> visible = Await.until("the trainer account to be allowed to list pods", Duration.ofSeconds(30),
                    () -> trainer.pods().list().getItems(), items -> true);
            assertEquals(client.pods().list().getItems().size(), visible.size());
        }
    }

    @Test
    void kubectlTalksToTheSameCluster(KubernetesClient client, TestCluster cluster) {
        CommandResult result = cluster.kubectl("get", "nodes", "-l", "type=kwok", "-o", "name").orThrow();
        List<String> names = Arrays.stream(result.stdout().split("\n")).filter(s -> !s.isBlank()).sorted().toList();
        List<String> expected = client.nodes().withLabel("type", "kwok").list().getItems().stream()
                .map(n -> "node/" + n.getMetadata().getName()).sorted().toList();
        assertEquals(cluster.fakeNodeCount(), expected.size());
        assertEquals(expected, names);
    }
}
