package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.milan.testsupport.Await;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The pod network enforces a run's NetworkPolicy (issue 22): a listener in a pod labelled as a run's trainer (rank
 * 0's TCPStore port) is reached by a pod of the same run, and no longer by a pod of another namespace carrying the
 * same labels nor by an unlabelled pod of the run's namespace once the policy exists. Before the policy all three
 * connect, so a refusal is the policy's doing and not a broken pod network. On the local Kind cluster
 * kube-network-policies enforces it (e2e/kind/cluster.sh); on a cluster whose CNI ignores NetworkPolicy this test
 * fails, as it should.
 */
class NetworkPolicyE2E extends E2ETestBase {
    private static final String RUN = "isolated";
    private static final int PORT = 29500;
    /** The labels RunIsolation.networkPolicy selects and admits: milan.io/kind and milan.io/run. */
    private static final Map<String, String> RUN_PODS = Map.of("milan.io/kind", "pretrain", "milan.io/run", RUN);
    private static final String REPLY = "rank0-listening";
    private String otherNamespace;

    @Test
    void onlyTheRunsOwnPodsReachATrainerPortOnceItsPolicyExists() {
        List<Node> nodes = E2ECluster.schedulableNodes(cluster.admin);
        String listenerNode = nodes.get(0).getMetadata().getName();
        String otherNode = nodes.get(1).getMetadata().getName();
        otherNamespace = namespace + "-other";
        cluster.admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(otherNamespace)
                .addToLabels("milan.io/e2e", "true").endMetadata().build()).create();
        cluster.admin.serviceAccounts().inNamespace(otherNamespace).withName("default")
                .waitUntilCondition(Objects::nonNull, 60, TimeUnit.SECONDS);

        String listenerSource = "import java.net.*; public class Listen { public static void main(String[] a)"
                + " throws Exception { try (ServerSocket s = new ServerSocket(" + PORT + ")) {"
                + " System.out.println(\"listening\"); for (;;) { try (Socket c = s.accept()) {"
                + " c.getOutputStream().write(\"" + REPLY + "\\n\".getBytes()); } } } } }";
        create(namespace, pod("rank-0", RUN_PODS, listenerNode, "printf '%s' \"$SOURCE\" > /tmp/Listen.java"
                + " && exec java -Xmx64m /tmp/Listen.java", listenerSource));
        create(namespace, pod("rank-1", RUN_PODS, otherNode, "exec sleep infinity", null));
        create(otherNamespace, pod("stranger", RUN_PODS, otherNode, "exec sleep infinity", null));
        create(namespace, pod("neighbour", Map.of(), listenerNode, "exec sleep infinity", null));
        for (String[] p : List.of(new String[] {namespace, "rank-0"}, new String[] {namespace, "rank-1"},
                new String[] {otherNamespace, "stranger"}, new String[] {namespace, "neighbour"})) {
            cluster.admin.pods().inNamespace(p[0]).withName(p[1]).waitUntilReady(5, TimeUnit.MINUTES);
        }
        Await.until("rank-0's listener", Duration.ofMinutes(2),
                () -> client.pods().withName("rank-0").getLog(), log -> log.contains("listening"));
        String ip = client.pods().withName("rank-0").get().getStatus().getPodIP();
        System.out.printf("listener %s:%d on %s; rank-1 and the stranger (namespace %s) on %s, the neighbour on %s%n",
                ip, PORT, listenerNode, otherNamespace, otherNode, listenerNode);

        assertEquals("connected " + REPLY, probe(namespace, "rank-1", ip), "rank-1 before the policy");
        assertEquals("connected " + REPLY, probe(otherNamespace, "stranger", ip), "the stranger before the policy");
        assertEquals("connected " + REPLY, probe(namespace, "neighbour", ip), "the neighbour before the policy");

        client.network().networkPolicies().resource(runPolicy()).create();
        // The agent sees the policy through its informer: the first refusal may take a moment.
        String stranger = Await.until("the stranger to be refused", Duration.ofMinutes(1),
                () -> probe(otherNamespace, "stranger", ip), out -> !out.startsWith("connected"));
        String neighbour = probe(namespace, "neighbour", ip);
        String rank1 = probe(namespace, "rank-1", ip);
        System.out.printf("with the policy: rank-1 %s; stranger %s; neighbour %s%n", rank1, stranger, neighbour);
        assertTrue(stranger.startsWith("no connection"), "a pod of another namespace with the run's labels: " + stranger);
        assertTrue(neighbour.startsWith("no connection"), "an unlabelled pod of the run's namespace: " + neighbour);
        assertEquals("connected " + REPLY, rank1, "a pod of the run, on another node, still reaches rank 0");
    }

    /** As RunIsolation.networkPolicy renders it: the run's pods, ingress only from the run's pods, any port. */
    private NetworkPolicy runPolicy() {
        return new NetworkPolicyBuilder().withNewMetadata().withName(RUN).endMetadata().withNewSpec()
                .withNewPodSelector().withMatchLabels(RUN_PODS).endPodSelector()
                .withPolicyTypes("Ingress")
                .addNewIngress().addNewFrom().withNewPodSelector().withMatchLabels(RUN_PODS).endPodSelector()
                .endFrom().endIngress()
                .endSpec().build();
    }

    /** A TCP connection from the pod with bash's /dev/tcp, 5 s at most: "connected REPLY" or "no connection". */
    private String probe(String ns, String pod, String ip) {
        String script = "if out=$(timeout 5 bash -c 'exec 3<>/dev/tcp/" + ip + "/" + PORT + " && head -1 <&3');"
                + " then echo \"connected $out\"; else echo \"no connection (exit $?)\"; fi";
        return cluster.kubectl(Duration.ofSeconds(60), "-n", ns, "exec", pod, "--", "bash", "-c", script)
                .stdout().strip();
    }

    private void create(String ns, Pod pod) {
        cluster.admin.pods().inNamespace(ns).resource(pod).create();
    }

    /** A trainer-image pod under the restricted Pod Security profile, on a given node. */
    private static Pod pod(String name, Map<String, String> labels, String node, String script, String source) {
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .withNewSpec().withNodeName(node).withTerminationGracePeriodSeconds(1L)
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(10001L).withRunAsGroup(10001L)
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
                .addNewContainer().withName("main").withImage(Runs.TRAINER_IMAGE).withImagePullPolicy("IfNotPresent")
                .withCommand("bash", "-c", script)
                .addNewEnv().withName("SOURCE").withValue(source == null ? "" : source).endEnv()
                .withResources(new ResourceRequirementsBuilder().addToRequests("cpu", new Quantity("10m"))
                        .addToLimits("memory", new Quantity("256Mi")).build())
                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL")
                .endCapabilities().endSecurityContext()
                .endContainer().endSpec();
        return b.build();
    }

    @AfterAll
    void deleteOtherNamespace() {
        if (otherNamespace != null && !Boolean.getBoolean("milan.e2e.keep")) {
            cluster.admin.namespaces().withName(otherNamespace).delete();
        }
    }
}
