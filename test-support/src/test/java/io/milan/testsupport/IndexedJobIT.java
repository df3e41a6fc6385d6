package io.milan.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
  * The pod group shape the operator uses: an Indexed Job whose pods get stable hostnames under a
  * headless Service, published in the Service's EndpointSlices (what cluster DNS would serve).
  */
@WithLocalCluster
class IndexedJobIT {
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    static final String JOB = "milan-run";
    static final String SERVICE = "milan-run-workers";

    @Test
    void indexedJobPodsGetStableHostnamesPublishedByTheHeadlessService(KubernetesClient client, TestCluster cluster) {
        client.services().resource(new ServiceBuilder().withNewMetadata().withName(SERVICE).endMetadata()
                .withNewSpec().withClusterIP("None").addToSelector("batch.kubernetes.io/job-name", JOB)
                .addNewPort().withName("rendezvous").withPort(29500).endPort().endSpec().build()).create();
        client.batch().v1().jobs().resource(new JobBuilder().withNewMetadata().withName(JOB).endMetadata()
                .withNewSpec().withCompletionMode("Indexed").withCompletions(2).withParallelism(2).withBackoffLimit(0)
                .withNewTemplate().withNewSpec().withSubdomain(SERVICE).withRestartPolicy("Never")
                .addNewContainer().withName("trainer").withImage("milan-trainer:test")
                .withNewResources().addToLimits("nvidia.com/gpu", new Quantity(Integer.toString(cluster.gpusPerNode())))
                .endResources().endContainer().endSpec().endTemplate().endSpec().build()).create();

        List<Pod> pods = Await.until("2 Running pods of Job " + JOB, TIMEOUT,
                () -> client.pods().withLabel("batch.kubernetes.io/job-name", JOB).list().getItems(),
                ps -> ps.size() == 2 && ps.stream().allMatch(p -> "Running".equals(p.getStatus().getPhase())));

        Map<String, String> hostnameByIndex = new HashMap<>();
        Map<String, String> ipByHostname = new HashMap<>();
        Set<String> nodes = new HashSet<>();
        for (Pod pod : pods) {
            String index = pod.getMetadata().getAnnotations().get("batch.kubernetes.io/job-completion-index");
            assertNotNull(index, pod.getMetadata().getName() + " has a completion index");
            assertEquals(SERVICE, pod.getSpec().getSubdomain());
            hostnameByIndex.put(index, pod.getSpec().getHostname());
            ipByHostname.put(pod.getSpec().getHostname(), pod.getStatus().getPodIP());
            nodes.add(pod.getSpec().getNodeName());
        }
        assertEquals(Map.of("0", JOB + "-0", "1", JOB + "-1"), hostnameByIndex, "stable hostnames by index");
        assertEquals(2, nodes.size(), "each pod takes all GPUs of its own node: " + nodes);

        // The EndpointSlice controller publishes each pod under its hostname, with its IP, ready.
        List<Endpoint> endpoints = Await.until("EndpointSlices of " + SERVICE + " listing both pods ready", TIMEOUT,
                () -> client.discovery().v1().endpointSlices().withLabel("kubernetes.io/service-name", SERVICE).list()
                        .getItems().stream().map(EndpointSlice::getEndpoints).filter(e -> e != null)
                        .flatMap(List::stream).toList(),
                eps -> eps.size() == 2 && eps.stream().allMatch(e -> e.getConditions() != null
                        && Boolean.TRUE.equals(e.getConditions().getReady()) && e.getHostname() != null));
        Map<String, String> published = endpoints.stream()
                .collect(Collectors.toMap(Endpoint::getHostname, e -> e.getAddresses().get(0)));
        assertEquals(ipByHostname, published, "hostname -> address in the EndpointSlices");

        // Both ranks finish: the Job completes.
        for (Pod pod : pods) {
            Kwok.endPod(client, pod.getMetadata().getName(), "Succeeded");
        }
        Job job = client.batch().v1().jobs().withName(JOB).waitUntilCondition(j -> j != null && j.getStatus() != null
                && j.getStatus().getConditions() != null && j.getStatus().getConditions().stream()
                        .anyMatch(c -> "Complete".equals(c.getType()) && "True".equals(c.getStatus())),
                60, TimeUnit.SECONDS);
        assertEquals(2, job.getStatus().getSucceeded());
        assertEquals("0,1", job.getStatus().getCompletedIndexes(), "completed indexes");
    }
}
