package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged operator ({@code java -jar operator/target/quarkus-app/quarkus-run.jar}) as it is deployed: it runs
 * under the least-privilege RBAC of {@code src/main/kubernetes/rbac.yaml} (a ServiceAccount token, not admin),
 * with leader election on, reports ready, reconciles a run and exports its metrics.
 */
@WithLocalCluster
class OperatorAppIT {
    private static KubernetesClient client;
    private static PackagedOperator packaged;
    private static Process process;
    private static Path log;
    private static int port;

    @BeforeAll
    static void startPackagedOperator(KubernetesClient c, TestCluster cluster) throws Exception {
        client = c;
        packaged = PackagedOperator.install(client, cluster.namespace());
        PackagedOperator.Replica replica = packaged.start("milan-operator-0", "operator-app-it");
        process = replica.process();
        log = replica.log();
        port = replica.port();
    }

    @AfterAll
    static void stop() throws Exception {
        if (packaged != null) {
            packaged.close();
        }
    }

    @Test
    void theJarStartsReportsReadyReconcilesAndExportsMetrics() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String ready = Await.until("GET /q/health/ready answers 200 (log: " + log.toAbsolutePath() + ")",
                Duration.ofSeconds(120), () -> get(http, "/q/health/ready"), r -> r.startsWith("200 "));
        assertTrue(ready.contains("\"UP\""), ready);

        client.resource(TestRuns.pretrain("packaged", 1)).create();
        var running = awaitPhase(client, MilanPretrain.class, "packaged", RunPhase.Running);
        assertEquals("packaged-a1", running.podGroup);
        assertNotNull(client.rbac().roles().withName("packaged-trainer").get(),
                "the operator could grant the trainer's Role under its own RBAC");
        // Leadership is kept: the Lease is renewed (a renewal the RBAC refused would make the operator exit).
        String firstRenewal = Await.until("leader election Lease", Duration.ofSeconds(30),
                () -> client.leases().withName("milan-operator").get(), l -> l != null && l.getSpec().getRenewTime()
                        != null).getSpec().getRenewTime().toString();
        Await.until("Lease renewed after " + firstRenewal, Duration.ofSeconds(30),
                () -> client.leases().withName("milan-operator").get().getSpec().getRenewTime().toString(),
                renewal -> !renewal.equals(firstRenewal));

        String metrics = Await.until("run gauge in /q/metrics", Duration.ofSeconds(60),
                () -> get(http, "/q/metrics"),
                m -> m.lines().anyMatch(l -> l.matches("milan_runs\\{kind=\"MilanPretrain\",namespace=\"[^\"]+\","
                        + "phase=\"Running\",queue=\"none\"} 1\\.0")));
        assertTrue(metrics.contains("milan_reconcile_seconds_count{kind=\"MilanPretrain\",namespace="),
                "reconcile timer by namespace");
        assertTrue(metrics.contains("milan_run_device_seconds{"), "GPU-seconds per run");
        assertTrue(metrics.contains("milan_reconcile_seconds_bucket"), "reconcile histogram");
        // A gang restart creates the attempt's children again: the per-run Service, ServiceAccount, Role and
        // RoleBinding already exist (409), and the operator reads them to check that they are this run's.
        Cluster.endPod(client, Cluster.awaitRunningPods(client, "packaged-a1", 1).get(0), "Failed", 1);
        RunStatus second = awaitStatus(client, MilanPretrain.class, "packaged", "attempt 2 running (log: " + log
                + ")", s -> s.attempt != null && s.attempt == 2 && s.phase == RunPhase.Running);
        assertEquals("packaged-a2", second.podGroup);
        assertTrue(process.isAlive(), "still running");
        String output = Files.readString(log);
        assertFalse(output.contains("is forbidden"), "the operator needed a permission rbac.yaml lacks; see " + log);
    }

    private static String get(HttpClient http, String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body();
        } catch (IOException e) {
            throw new IllegalStateException("operator not answering on " + port + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
