package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.scheduling.v1.PriorityClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.milan.api.GangScheduler;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.WithLocalCluster;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pod Security enforcement, scheduling pass-through on real nodes, and a gang scheduler that is not installed. */
@WithLocalCluster
class SchedulingIT extends RestrictedOperatorIT {

    @Test
    void theNamespaceRefusesNonCompliantPodsYetTheRunsPodsAreAdmitted() {
        KubernetesClientException refused = assertThrows(KubernetesClientException.class,
                () -> client.pods().resource(new PodBuilder().withNewMetadata().withName("root-pod").endMetadata()
                        .withNewSpec().addNewContainer().withName("c").withImage("busybox").endContainer().endSpec()
                        .build()).create());
        assertEquals(403, refused.getCode());
        assertTrue(refused.getMessage().contains("restricted"), refused.getMessage());

        client.resource(TestRuns.pretrain("compliant", 2)).create();
        awaitPhase(client, MilanPretrain.class, "compliant", RunPhase.Running);
        assertEquals(2, Cluster.podsOf(client, "compliant-a1").size());
    }

    @Test
    void nodeSelectorTolerationsAndPriorityReachTheScheduledPods() {
        String priorityClass = "milan-it-" + namespace;
        client.scheduling().v1().priorityClasses().resource(new PriorityClassBuilder().withNewMetadata()
                .withName(priorityClass).endMetadata().withValue(1000).build()).create();
        try {
            MilanPretrain run = TestRuns.pretrain("placed", 1);
            run.getSpec().gpusPerNode = 2;
            run.getSpec().nodeSelector = Map.of("type", "kwok");
            run.getSpec().tolerations = List.of(new TolerationBuilder().withKey("nvidia.com/gpu")
                    .withOperator("Exists").withEffect("NoSchedule").build());
            run.getSpec().priorityClassName = priorityClass;
            client.resource(run).create();
            awaitPhase(client, MilanPretrain.class, "placed", RunPhase.Running);

            Pod pod = Cluster.podsOf(client, "placed-a1").get(0);
            assertEquals(Map.of("type", "kwok"), pod.getSpec().getNodeSelector());
            assertTrue(pod.getSpec().getTolerations().stream().anyMatch(t -> "nvidia.com/gpu".equals(t.getKey())));
            assertEquals(priorityClass, pod.getSpec().getPriorityClassName());
            assertEquals(1000, pod.getSpec().getPriority(), "resolved by the API server's priority admission");
            assertNotNull(pod.getSpec().getNodeName(), "scheduled onto a fake GPU node");
            assertEquals("2", pod.getSpec().getContainers().get(0).getResources().getRequests()
                    .get("nvidia.com/gpu").getAmount());
        } finally {
            client.scheduling().v1().priorityClasses().withName(priorityClass).delete();
        }
    }

    @Test
    void aGangSchedulerWithoutItsCrdFailsTheRunWithAClearMessage() {
        MilanPretrain run = TestRuns.pretrain("gang", 2);
        run.getSpec().gangScheduler = GangScheduler.VOLCANO;
        client.resource(run).create();

        RunStatus failed = awaitPhase(client, MilanPretrain.class, "gang", RunPhase.Failed);
        assertEquals("GangSchedulerMissing", RunLifecycleIT.reason(failed, "Failed"));
        assertTrue(failed.message.contains("podgroups.scheduling.volcano.sh/v1beta1"), failed.message);
        assertTrue(Cluster.jobsOfRun(client, "gang").isEmpty(), "no Job without its PodGroup");
    }
}
