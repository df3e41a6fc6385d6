package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    private static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
    private static KubernetesClient client;
    private static String namespace;
    private static final List<HasMetadata> clusterScoped = new ArrayList<>();
    private static Process process;
    private static Path log;
    private static int port;

    @BeforeAll
    static void startPackagedOperator(KubernetesClient c, TestCluster cluster) throws Exception {
        client = c;
        namespace = cluster.namespace();
        assertTrue(Files.isRegularFile(JAR), JAR.toAbsolutePath() + " missing: run ./mvnw -pl operator package");
        PodSecurity.enforceRestricted(client, namespace);
        installRbac();
        Path kubeconfig = kubeconfigFor(token());
        port = freePort();
        log = Path.of("target", "operator-app-it.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString());
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        pb.environment().put("QUARKUS_OPERATOR_SDK_NAMESPACES", namespace);
        pb.environment().put("MILAN_LEADER_ELECTION_ENABLED", "true");
        pb.environment().put("MILAN_LEADER_ELECTION_LEASE_NAMESPACE", namespace);
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        process = pb.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        for (HasMetadata r : clusterScoped) {
            client.resource(r).delete();
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
                m -> m.contains("milan_runs{kind=\"MilanPretrain\",phase=\"Running\"} 1.0"));
        assertTrue(metrics.contains("milan_reconcile_seconds_count{kind=\"MilanPretrain\"}"), "reconcile timer");
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

    /** rbac.yaml with the operator namespace set to the test's and cluster-scoped names made unique. */
    private static void installRbac() throws IOException {
        String suffix = "-" + namespace;
        try (InputStream in = Files.newInputStream(Path.of("src", "main", "kubernetes", "rbac.yaml"))) {
            for (HasMetadata r : client.load(in).items()) {
                if ("milan-system".equals(r.getMetadata().getNamespace())) {
                    r.getMetadata().setNamespace(namespace);
                }
                if (r instanceof ClusterRoleBinding b) {
                    b.getRoleRef().setName(b.getRoleRef().getName() + suffix);
                    b.getSubjects().forEach(s -> s.setNamespace(namespace));
                }
                if (r instanceof RoleBinding b) {
                    b.getSubjects().forEach(s -> s.setNamespace(namespace));
                }
                if (r.getMetadata().getNamespace() == null) {
                    r.getMetadata().setName(r.getMetadata().getName() + suffix);
                    clusterScoped.add(r);
                }
                client.resource(r).create();
            }
        }
    }

    private static String token() {
        return client.serviceAccounts().inNamespace(namespace).withName("milan-operator")
                .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
                .getStatus().getToken();
    }

    private static Path kubeconfigFor(String token) throws IOException {
        Config admin = client.getConfiguration();
        String ca = admin.getCaCertData() != null ? admin.getCaCertData()
                : Base64.getEncoder().encodeToString(Files.readAllBytes(Path.of(admin.getCaCertFile())));
        String yaml = String.join("\n",
                "apiVersion: v1",
                "kind: Config",
                "clusters:",
                "- name: it",
                "  cluster:",
                "    server: " + admin.getMasterUrl(),
                "    certificate-authority-data: " + ca,
                "users:",
                "- name: milan-operator",
                "  user:",
                "    token: " + token,
                "contexts:",
                "- name: it",
                "  context: {cluster: it, user: milan-operator, namespace: " + namespace + "}",
                "current-context: it",
                "");
        Path file = Files.createTempFile("milan-operator-", ".kubeconfig");
        file.toFile().deleteOnExit();
        Files.writeString(file, yaml, StandardCharsets.UTF_8);
        return file;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
