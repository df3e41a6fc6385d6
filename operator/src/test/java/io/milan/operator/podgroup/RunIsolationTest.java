package io.milan.operator.podgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.milan.api.MilanPretrain;
import io.milan.operator.Fixtures;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A multi-process run's data plane is its own: a NetworkPolicy of its pods and a secret per attempt. */
class RunIsolationTest {
    @Test
    void eachAttemptGetsItsOwnRandomImmutableSecretMountedReadOnlyWithItsPathInTheEnv() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml"); // 2 CPU pods
        RenderInput in = Fixtures.input(run, 2);
        Secret secret = RunIsolation.secret(in);
        assertEquals("quickstart-a2-rendezvous", secret.getMetadata().getName());
        assertEquals(Boolean.TRUE, secret.getImmutable());
        assertEquals(run.getMetadata().getUid(), secret.getMetadata().getOwnerReferences().get(0).getUid());
        byte[] token = Base64.getDecoder().decode(secret.getData().get(RunIsolation.SECRET_KEY));
        assertEquals(32, token.length);
        assertNotEquals(secret.getData(), RunIsolation.secret(in).getData(), "random, not derived from the run");

        PodSpec pod = JobRenderer.render(in).getSpec().getTemplate().getSpec();
        Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(RunIsolation.SECRET_VOLUME))
                .findFirst().orElseThrow();
        assertEquals("quickstart-a2-rendezvous", volume.getSecret().getSecretName(), "this attempt's Secret");
        assertEquals(0440, volume.getSecret().getDefaultMode());
        Container trainer = pod.getContainers().get(0);
        assertTrue(trainer.getVolumeMounts().stream().anyMatch(m -> m.getName().equals(RunIsolation.SECRET_VOLUME)
                && m.getMountPath().equals("/var/run/milan/rendezvous") && m.getReadOnly()));
        assertTrue(trainer.getEnv().stream().anyMatch(e -> e.getName().equals("MILAN_RENDEZVOUS_SECRET_FILE")
                && e.getValue().equals("/var/run/milan/rendezvous/token")));
    }

    @Test
    void thePolicyAdmitsOnlyTheRunsOwnPodsAndSelectsExactlyThem() {
        RenderInput in = Fixtures.input(Fixtures.pretrain("quickstart-cpu-pretrain.yaml"), 1);
        NetworkPolicy policy = RunIsolation.networkPolicy(in);
        var own = policy.getSpec().getPodSelector().getMatchLabels();
        assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes(), "egress stays open (API server, storage)");
        assertEquals(1, policy.getSpec().getIngress().size());
        var from = policy.getSpec().getIngress().get(0).getFrom();
        assertEquals(1, from.size());
        assertEquals(own, from.get(0).getPodSelector().getMatchLabels());
        assertEquals(null, from.get(0).getNamespaceSelector(), "the run's namespace only");
        assertEquals(List.of(), policy.getSpec().getIngress().get(0).getPorts(), "all ports: the collectives'"
                + " are ephemeral");
        var podLabels = JobRenderer.render(in).getSpec().getTemplate().getMetadata().getLabels();
        own.forEach((k, v) -> assertEquals(v, podLabels.get(k), k));
        assertEquals(HeadlessService.render(in).getSpec().getSelector(), own, "the same pods the Service selects");
    }

    @Test
    void aSingleProcessRunHasNoRendezvousToProtect() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().nodes = 1;
        RenderInput in = Fixtures.input(run, 1);
        PodSpec pod = JobRenderer.render(in).getSpec().getTemplate().getSpec();
        assertTrue(pod.getVolumes().stream().noneMatch(v -> v.getName().equals(RunIsolation.SECRET_VOLUME)));
        assertTrue(pod.getContainers().get(0).getEnv().stream()
                .noneMatch(e -> e.getName().equals("MILAN_RENDEZVOUS_SECRET_FILE")));
    }
}
