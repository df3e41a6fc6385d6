package io.milan.operator.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The packaged operator ({@code java -jar operator/target/quarkus-app/quarkus-run.jar}) as it is deployed: its
 * least-privilege RBAC ({@code src/main/kubernetes/rbac.yaml}) installed in a test namespace, and replicas started as
 * processes that authenticate with the ServiceAccount's token (not admin), with leader election on and the Lease in
 * that namespace. {@link #close()} stops the replicas (SIGTERM, then SIGKILL after 30 s) and removes the
 * cluster-scoped RBAC.
 */
final class PackagedOperator implements AutoCloseable {
    static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
    /** The Lease's name (milan.leader-election.lease-name's default). */
    static final String LEASE = "milan-operator";

    private final KubernetesClient client;
    private final String namespace;
    private final List<HasMetadata> clusterScoped = new ArrayList<>();
    private final List<Replica> replicas = new ArrayList<>();
    private final Path kubeconfig;

    /** One operator process. */
    record Replica(String name, Process process, int port, Path log) {
    }

    private PackagedOperator(KubernetesClient client, String namespace) throws IOException {
        this.client = client;
        this.namespace = namespace;
        assertTrue(Files.isRegularFile(JAR), JAR.toAbsolutePath() + " missing: run ./mvnw -pl operator package");
        PodSecurity.enforceRestricted(client, namespace);
        installRbac();
        kubeconfig = kubeconfigFor(token());
    }

    /** Installs the operator's RBAC in {@code namespace}, which also gets the restricted Pod Security profile. */
    static PackagedOperator install(KubernetesClient client, String namespace) throws IOException {
        return new PackagedOperator(client, namespace);
    }

    /**
     * Starts a replica watching the namespace. {@code name} is its HOSTNAME (a pod's name), which begins its
     * leader-election identity; its output goes to {@code target/<logPrefix>-<name>.log}.
     */
    Replica start(String name, String logPrefix) throws IOException {
        int port = freePort();
        Path log = Path.of("target", logPrefix + "-" + name + ".log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString());
        pb.environment().put("HOSTNAME", name);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        pb.environment().put("QUARKUS_OPERATOR_SDK_NAMESPACES", namespace);
        pb.environment().put("MILAN_LEADER_ELECTION_ENABLED", "true");
        pb.environment().put("MILAN_LEADER_ELECTION_LEASE_NAMESPACE", namespace);
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Replica replica = new Replica(name, pb.start(), port, log);
        replicas.add(replica);
        return replica;
    }

    @Override
    public void close() throws InterruptedException {
        for (Replica r : replicas) {
            r.process().destroy();
        }
        for (Replica r : replicas) {
            if (!r.process().waitFor(30, TimeUnit.SECONDS)) {
                r.process().destroyForcibly();
            }
        }
        for (HasMetadata r : clusterScoped) {
            client.resource(r).delete();
        }
    }

    /** rbac.yaml with the operator namespace set to the test's and cluster-scoped names made unique. */
    private void installRbac() throws IOException {
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

    private String token() {
        return client.serviceAccounts().inNamespace(namespace).withName("milan-operator")
                .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
                .getStatus().getToken();
    }

    private Path kubeconfigFor(String token) throws IOException {
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
