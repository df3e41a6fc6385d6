package io.milan.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake GPU nodes: advertised capacity, and the real scheduler placing GPU pods on them. */
@WithLocalCluster
class FakeGpuNodesIT {
    static final String GPU = "nvidia.com/gpu";
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final KubernetesClient client;
    private final TestCluster cluster;

    FakeGpuNodesIT(KubernetesClient client, TestCluster cluster) {
        this.client = client;
        this.cluster = cluster;
    }

    @AfterEach
    void deletePods() {
        // Free the GPUs for the next test: kwok removes deleted pods, the list then empties.
        client.pods().delete();
        Await.until("all pods of " + cluster.namespace() + " to be gone", TIMEOUT,
                () -> client.pods().list().getItems(), List::isEmpty);
    }

    static Pod gpuPod(String name, int gpus) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                .addNewContainer().withName("trainer").withImage("milan-trainer:test")
                .withNewResources().addToLimits(GPU, new Quantity(Integer.toString(gpus))).endResources()
                .endContainer().endSpec().build();
    }

    static Optional<PodCondition> condition(Pod pod, String type) {
        return pod.getStatus() == null || pod.getStatus().getConditions() == null ? Optional.empty()
                : pod.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    @Test
    void nodesAdvertiseTheirGpusAndAreReady() {
        List<Node> nodes = client.nodes().withLabel("type", "kwok").list().getItems();
        assertEquals(cluster.fakeNodeCount(), nodes.size(),
                "fake nodes: " + nodes.stream().map(n -> n.getMetadata().getName()).toList());
        Quantity expected = new Quantity(Integer.toString(cluster.gpusPerNode()));
        for (Node node : nodes) {
            String name = node.getMetadata().getName();
            assertEquals(expected, node.getStatus().getCapacity().get(GPU), name + " capacity");
            assertEquals(expected, node.getStatus().getAllocatable().get(GPU), name + " allocatable");
            assertTrue(node.getStatus().getConditions().stream()
                    .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())), name + " is Ready");
        }
    }

    @Test
    void podAskingForAllGpusOfANodeIsScheduledAndRuns() {
        client.pods().resource(gpuPod("eight-gpus", cluster.gpusPerNode())).create();
        Pod pod = client.pods().withName("eight-gpus")
                .waitUntilCondition(p -> p != null && "Running".equals(p.getStatus().getPhase()), 60, TimeUnit.SECONDS);
        Node node = client.nodes().withName(pod.getSpec().getNodeName()).get();
        assertNotNull(node, "the pod's node " + pod.getSpec().getNodeName() + " exists");
        assertEquals("kwok", node.getMetadata().getLabels().get("type"), "scheduled on a fake GPU node");
        assertEquals("True", condition(pod, "Ready").orElseThrow().getStatus());
        assertNotNull(pod.getStatus().getPodIP(), "kwok assigned a pod IP");
    }

    @Test
    void podAskingForMoreGpusThanANodeHasStaysPending() {
        int tooMany = cluster.gpusPerNode() + 1;
        client.pods().resource(gpuPod("too-many-gpus", tooMany)).create();
        Pod pod = Await.until("PodScheduled=False on too-many-gpus", TIMEOUT,
                () -> client.pods().withName("too-many-gpus").get(),
                p -> condition(p, "PodScheduled").map(c -> "False".equals(c.getStatus())).orElse(false));
        PodCondition scheduled = condition(pod, "PodScheduled").orElseThrow();
        assertEquals("Unschedulable", scheduled.getReason());
        assertTrue(scheduled.getMessage().contains("Insufficient " + GPU), scheduled.getMessage());
        assertEquals("Pending", pod.getStatus().getPhase());
        assertNull(pod.getSpec().getNodeName(), "not bound to any node");
    }

    @Test
    void oneFullNodePodPerNodeUntilTheClusterIsFull() {
        int n = cluster.fakeNodeCount();
        for (int i = 0; i < n; i++) {
            client.pods().resource(gpuPod("full-node-" + i, cluster.gpusPerNode())).create();
        }
        List<Pod> running = Await.until(n + " full-node pods Running", TIMEOUT, () -> client.pods().list().getItems(),
                pods -> pods.size() == n && pods.stream().allMatch(p -> "Running".equals(p.getStatus().getPhase())));
        Set<String> nodes = new HashSet<>();
        running.forEach(p -> nodes.add(p.getSpec().getNodeName()));
        assertEquals(n, nodes.size(), "each pod on its own node: " + nodes);

        client.pods().resource(gpuPod("one-too-many", 1)).create();
        Pod extra = Await.until("one-too-many to be found unschedulable", TIMEOUT,
                () -> client.pods().withName("one-too-many").get(),
                p -> condition(p, "PodScheduled").map(c -> "False".equals(c.getStatus())).orElse(false));
        assertEquals("Unschedulable", condition(extra, "PodScheduled").orElseThrow().getReason());
    }
}
