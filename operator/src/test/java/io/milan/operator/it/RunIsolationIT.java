package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.testsupport.Await;
import io.milan.testsupport.WithLocalCluster;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A multi-process run's data plane in the real API server (issue 22, item 3): the run's NetworkPolicy selects its
 * pods and admits only them, each attempt has its own rendezvous Secret mounted by its pods under the restricted
 * Pod Security profile, and a gang restart replaces the secret. The policy is enforced only by a CNI that supports
 * NetworkPolicy (kwok's pods have no network); the trainer's ProcessGroupTest shows the secret check itself.
 */
@WithLocalCluster
class RunIsolationIT extends RestrictedOperatorIT {
    @Test
    void theRunsPodsAdmitOnlyEachOtherAndEachAttemptHasItsOwnSecret() {
        client.resource(TestRuns.pretrain("fenced", 2)).create();
        awaitPhase(client, MilanPretrain.class, "fenced", RunPhase.Running);

        NetworkPolicy policy = client.network().v1().networkPolicies().withName("fenced").get();
        assertNotNull(policy, "the run's NetworkPolicy");
        Map<String, String> own = policy.getSpec().getPodSelector().getMatchLabels();
        assertEquals(own, policy.getSpec().getIngress().get(0).getFrom().get(0).getPodSelector().getMatchLabels());
        var pods = Cluster.awaitRunningPods(client, "fenced-a1", 2);
        pods.forEach(p -> own.forEach((k, v) -> assertEquals(v, p.getMetadata().getLabels().get(k), k)));
        assertEquals("MilanPretrain", policy.getMetadata().getOwnerReferences().get(0).getKind());

        Secret first = client.secrets().withName("fenced-a1-rendezvous").get();
        assertNotNull(first, "attempt 1's rendezvous Secret");
        assertEquals("fenced-a1-rendezvous", pods.get(0).getSpec().getVolumes().stream()
                .filter(v -> v.getSecret() != null).findFirst().orElseThrow().getSecret().getSecretName());

        Cluster.endPod(client, pods.get(0), "Failed", 1);
        awaitStatus(client, MilanPretrain.class, "fenced", "attempt 2 running",
                s -> s.attempt != null && s.attempt == 2 && s.phase == RunPhase.Running);
        Secret second = Await.until("attempt 2's Secret", Duration.ofSeconds(30),
                () -> client.secrets().withName("fenced-a2-rendezvous").get(), s -> s != null);
        assertNotEquals(first.getData(), second.getData(), "a new secret for the new attempt");
        Await.until("attempt 1's Secret deleted with its Job", Duration.ofSeconds(30),
                () -> client.secrets().withName("fenced-a1-rendezvous").get(), s -> s == null);
    }
}
