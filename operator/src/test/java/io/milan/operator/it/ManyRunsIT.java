package io.milan.operator.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.testsupport.Await;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Twenty runs created at once: every one reaches Running with exactly one Job. */
@WithLocalCluster
class ManyRunsIT {
    private static final int RUNS = 20;

    @Test
    void twentyRunsAtOnceAllRunWithOneJobEach(KubernetesClient client, TestCluster cluster) {
        PodSecurity.enforceRestricted(client, cluster.namespace());
        try (InProcessOperator operator = InProcessOperator.start(client, cluster.namespace())) {
            List<String> names = IntStream.range(0, RUNS).mapToObj(i -> "many-" + i).toList();
            names.parallelStream().forEach(name -> {
                MilanPretrain run = TestRuns.pretrain(name, 1);
                run.getSpec().gpusPerNode = 1;
                client.resource(run).create();
            });

            Await.until(RUNS + " runs Running", Duration.ofSeconds(180),
                    () -> client.resources(MilanPretrain.class).list().getItems().stream()
                            .filter(r -> r.getStatus() != null && r.getStatus().phase == RunPhase.Running).count(),
                    n -> n == RUNS);
            List<Job> jobs = client.batch().v1().jobs().withLabel("milan.io/kind", "pretrain").list().getItems();
            assertEquals(RUNS, jobs.size(), "one Job per run");
            Set<String> expected = names.stream().map(n -> n + "-a1").collect(Collectors.toSet());
            assertEquals(expected, jobs.stream().map(j -> j.getMetadata().getName()).collect(Collectors.toSet()));
            assertEquals(RUNS, client.pods().withLabel("milan.io/kind", "pretrain").list().getItems().size(),
                    "one pod per run");
            assertEquals(RUNS, operator.runs("MilanPretrain", "Running"));
        }
    }
}
