package io.milan.testsupport;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
  * The cluster shared by all test classes of one JVM: either started with e2e/local-cluster.sh
  * (stopped again by {@link #close()}) or an existing one named by {@code KUBECONFIG}.
  */
final class SharedCluster implements AutoCloseable {
    static final String FIELD_MANAGER = "milan-test-support";
    private static final Duration UP_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration DOWN_TIMEOUT = Duration.ofMinutes(2);

    final Optional<Path> repoRoot;
    /** The local cluster's work dir; empty when attached to an existing cluster. */
    final Optional<Path> workDir;
    /** A kubeconfig path, or in attach mode the value of KUBECONFIG (may list several files). */
    final String kubeconfig;
    final Config config;
    final KubernetesClient admin;
    final Optional<Path> kubectl;
    /** Fake node layout of a local cluster; empty when attached. */
    final Optional<LocalNodes> localNodes;

    private SharedCluster(Optional<Path> repoRoot, Optional<Path> workDir, String kubeconfig, Config config,
            Optional<Path> kubectl, Optional<LocalNodes> localNodes) {
        this.repoRoot = repoRoot;
        this.workDir = workDir;
        this.kubeconfig = kubeconfig;
        this.config = config;
        this.kubectl = kubectl;
        this.localNodes = localNodes;
        this.admin = new KubernetesClientBuilder().withConfig(config).build();
    }

    /** Attaches to KUBECONFIG when set, otherwise starts a local cluster; then installs the CRDs. */
    static SharedCluster start() {
        Optional<Path> root = RepoRoot.fromWorkingDirectory();
        String env = System.getenv("KUBECONFIG");
        SharedCluster cluster;
        if (env != null && !env.isBlank()) {
            cluster = new SharedCluster(root, Optional.empty(), env, Config.autoConfigure(null),
                    Kubectl.find(root, Optional.empty()), Optional.empty());
        } else {
            Path repo = root.orElseThrow(() -> new IllegalStateException(
                    "cannot start the local test cluster: no directory at or above " + System.getProperty("user.dir")
                            + " contains " + RepoRoot.MARKER + "; run the tests inside the Milan repository,"
                            + " or set KUBECONFIG to use an existing cluster"));
            cluster = startLocal(repo);
        }
        try {
            if (cluster.repoRoot.isPresent()) {
                installCrds(cluster.admin, cluster.repoRoot.get().resolve("crds/manifests"));
            }
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private static SharedCluster startLocal(Path repo) {
        long pid = ProcessHandle.current().pid();
        return startLocal(repo, repo.resolve("e2e/.work/junit-" + pid), Map.of());
    }

    /** Runs local-cluster.sh up in {@code dir}; {@code env} adds to the inherited environment. */
    static SharedCluster startLocal(Path repo, Path dir, Map<String, String> env) {
        long pid = ProcessHandle.current().pid();
        List<String> cmd = new ArrayList<>(List.of(repo.resolve(RepoRoot.MARKER).toString(), "up",
                "--dir", dir.toString(), "--owner-pid", Long.toString(pid)));
        String nodes = System.getProperty("milan.cluster.nodes");
        String gpus = System.getProperty("milan.cluster.gpus");
        if (nodes != null) {
            cmd.addAll(List.of("--nodes", nodes));
        }
        if (gpus != null) {
            cmd.addAll(List.of("--gpus", gpus));
        }
        CommandResult up = Commands.run(cmd, env, repo, UP_TIMEOUT);
        if (!up.succeeded()) {
            throw new IllegalStateException("the local test cluster did not start (" + String.join(" ", cmd)
                    + " exited with " + up.exitCode() + "):\n" + up.stderr() + up.stdout());
        }
        try {
            Map<String, String> info = readEnvFile(dir.resolve("cluster.env"));
            Path kubeconfig = Path.of(info.get("KUBECONFIG"));
            Config config = Config.fromKubeconfig(kubeconfig.toFile());
            LocalNodes layout = new LocalNodes(Integer.parseInt(info.get("NODES")), Integer.parseInt(info.get("GPUS")));
            Optional<Path> kubectl = Kubectl.find(Optional.of(repo), Optional.of(Path.of(info.get("BIN_DIR"))));
            return new SharedCluster(Optional.of(repo), Optional.of(dir), kubeconfig.toString(), config, kubectl,
                    Optional.of(layout));
        } catch (RuntimeException e) {
            // The cluster runs but cannot be used: stop it now (its logs stay in dir).
            CommandResult down = down(repo, dir);
            if (!down.succeeded()) {
                e.addSuppressed(new IllegalStateException(down.describe()));
            }
            throw e;
        }
    }

    private static CommandResult down(Path repo, Path dir) {
        return Commands.run(List.of(repo.resolve(RepoRoot.MARKER).toString(), "down", "--dir", dir.toString()),
                Map.of(), repo, DOWN_TIMEOUT);
    }

    private static Map<String, String> readEnvFile(Path file) {
        Map<String, String> env = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    env.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("local-cluster.sh up succeeded but " + file + " is unreadable", e);
        }
        for (String key : List.of("KUBECONFIG", "BIN_DIR", "NODES", "GPUS")) {
            if (!env.containsKey(key)) {
                throw new IllegalStateException(file + " lacks " + key + "; is e2e/local-cluster.sh out of date?");
            }
        }
        return env;
    }

    /** Server-side applies every CRD in {@code dir} (*.yaml, *.yml), then waits until each is Established. */
    static List<String> installCrds(KubernetesClient client, Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted(Comparator.naturalOrder()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        List<String> names = new ArrayList<>();
        for (Path file : files) {
            CustomResourceDefinition crd;
            try {
                crd = client.apiextensions().v1().customResourceDefinitions().load(file.toFile()).item();
            } catch (KubernetesClientException e) {
                throw new IllegalStateException(file + " is not a CustomResourceDefinition: " + e.getMessage(), e);
            }
            if (crd == null || crd.getMetadata() == null || crd.getMetadata().getName() == null) {
                throw new IllegalStateException(file + " holds no named CustomResourceDefinition");
            }
            crd.getMetadata().setResourceVersion(null);
            client.apiextensions().v1().customResourceDefinitions().resource(crd)
                    .fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
            names.add(crd.getMetadata().getName());
        }
        for (String name : names) {
            client.apiextensions().v1().customResourceDefinitions().withName(name).waitUntilCondition(
                    c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                            && c.getStatus().getConditions().stream()
                                    .anyMatch(cond -> "Established".equals(cond.getType())
                                            && "True".equals(cond.getStatus())),
                    60, TimeUnit.SECONDS);
        }
        return names;
    }

    @Override
    public void close() {
        admin.close();
        if (workDir.isEmpty()) {
            return;
        }
        Path dir = workDir.get();
        CommandResult down = down(repoRoot.orElseThrow(), dir);
        if (!down.succeeded()) {
            throw new IllegalStateException("stopping the local test cluster failed; processes may be left running. "
                    + down.describe());
        }
        if (!Boolean.getBoolean("milan.cluster.keep")) {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the cluster work dir " + dir, e);
        }
    }

    /** The fake GPU nodes of a local cluster. */
    record LocalNodes(int count, int gpusPerNode) {}
}
