package io.milan.e2e;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.milan.testsupport.CommandResult;
import io.milan.testsupport.Commands;
import io.milan.testsupport.Kubectl;
import io.milan.testsupport.RepoRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The cluster the suite runs on, shared by all test classes of the JVM.
 *
 * <ul>
 *   <li>{@code KUBECONFIG} set: that cluster, used as is. The operator must already run there (the chart in
 *       {@code charts/milan-operator}), and the nodes must be able to run the trainer image.
 *   <li>Otherwise: the local Kind cluster of {@code e2e/kind/cluster.sh all} (built, created, images loaded and
 *       operator installed on first use; seconds when it already runs), with Kueue ({@code cluster.sh kueue}). It
 *       is kept after the run, so the next run is warm; {@code e2e/kind/cluster.sh down} removes it.
 * </ul>
 *
 * <p>{@code MILAN_KIND_CLUSTER} (set by {@code e2e/kind/suite.sh}) names the Kind cluster that {@code KUBECONFIG}
 * points at, so that tests can add what only they need to it ({@link #kindScript}).
 */
final class E2ECluster {
    private static E2ECluster instance;

    /** Nodes a trainer pod can land on: the suite needs two, so that a run's ranks meet across nodes. */
    static final int MIN_SCHEDULABLE_NODES = 2;

    final KubernetesClient admin;
    final Optional<Path> repo;
    final String description;
    /** The local Kind cluster's name, or empty on another cluster. */
    final Optional<String> kindCluster;
    private final String kubeconfig;

    private E2ECluster(KubernetesClient admin, Optional<Path> repo, String description, String kubeconfig,
            Optional<String> kindCluster) {
        this.admin = admin;
        this.repo = repo;
        this.description = description;
        this.kubeconfig = kubeconfig;
        this.kindCluster = kindCluster;
    }

    /**
     * Runs {@code e2e/kind/cluster.sh COMMAND} on the local Kind cluster (e.g. {@code object-store}, which only the
     * tests needing it ask for); fails on another cluster.
     */
    void kindScript(String command) {
        String name = kindCluster.orElseThrow(() -> new IllegalStateException("the " + description
                + " is not the local Kind cluster (MILAN_KIND_CLUSTER unset), so e2e/kind/cluster.sh " + command
                + " cannot prepare it"));
        runClusterScript(repoPath(""), List.of(command, "--name", name, "--kubeconfig", kubeconfig));
    }

    /** Runs the real kubectl (as an administrator would) against the cluster; fails with its output if it fails. */
    CommandResult kubectl(Duration timeout, String... args) {
        Path kubectl = Kubectl.find(repo, Optional.empty()).orElseThrow(() -> new IllegalStateException(
                "kubectl not found: build it with e2e/build-k8s.sh, put kubectl on PATH or set MILAN_KUBECTL"));
        List<String> cmd = new ArrayList<>(List.of(kubectl.toString()));
        cmd.addAll(List.of(args));
        return Commands.run(cmd, Map.of("KUBECONFIG", kubeconfig), null, timeout).orThrow();
    }

    /** Nodes without a NoSchedule/NoExecute taint that are not cordoned. */
    static List<Node> schedulableNodes(KubernetesClient admin) {
        return admin.nodes().list().getItems().stream()
                .filter(n -> !Boolean.TRUE.equals(n.getSpec().getUnschedulable()))
                .filter(n -> n.getSpec().getTaints() == null || n.getSpec().getTaints().stream()
                        .noneMatch(t -> "NoSchedule".equals(t.getEffect()) || "NoExecute".equals(t.getEffect())))
                .toList();
    }

    static synchronized E2ECluster get() {
        if (instance == null) {
            instance = start();
        }
        return instance;
    }

    /** A file of the repository (examples, chart); the suite runs from its checkout. */
    Path repoPath(String relative) {
        return repo.orElseThrow(() -> new IllegalStateException("no Milan repository at or above "
                + System.getProperty("user.dir") + "; run the suite from the repository")).resolve(relative);
    }

    private static E2ECluster start() {
        Optional<Path> repo = RepoRoot.fromWorkingDirectory();
        String env = System.getenv("KUBECONFIG");
        Config config;
        String description;
        String kubeconfigPath;
        Optional<String> kind = Optional.ofNullable(System.getenv("MILAN_KIND_CLUSTER")).filter(n -> !n.isBlank());
        if (env != null && !env.isBlank()) {
            boolean found = java.util.Arrays.stream(env.split(java.io.File.pathSeparator))
                    .anyMatch(f -> !f.isBlank() && Files.isRegularFile(Path.of(f)));
            if (!found) {
                throw new IllegalStateException("KUBECONFIG=" + env + " names no existing file (relative paths are"
                        + " resolved against " + System.getProperty("user.dir") + "; use an absolute path)");
            }
            config = Config.autoConfigure(null);
            description = "KUBECONFIG=" + env;
            kubeconfigPath = env;
        } else {
            Path root = repo.orElseThrow(() -> new IllegalStateException("KUBECONFIG is not set and no Milan"
                    + " repository was found at or above " + System.getProperty("user.dir")
                    + " to create the local Kind cluster from"));
            Path kubeconfig = root.resolve("e2e/.work/kind/kubeconfig");
            runClusterScript(root, List.of("all"));
            runClusterScript(root, List.of("kueue")); // KueuePreemptionE2E's; seconds when it runs already
            kind = Optional.of(kind.orElse("milan")); // cluster.sh's default name
            config = Config.fromKubeconfig(kubeconfig.toFile());
            description = "local Kind cluster (" + kubeconfig + ")";
            kubeconfigPath = kubeconfig.toString();
        }
        KubernetesClient admin = new KubernetesClientBuilder().withConfig(config).build();
        checkOperator(admin, description);
        checkNodes(admin, description);
        return new E2ECluster(admin, repo, description, kubeconfigPath, kind);
    }

    /** e2e/kind/cluster.sh ARGS, its output passed through (a cold build prints its progress for a while). */
    private static void runClusterScript(Path root, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(root.resolve("e2e/kind/cluster.sh").toString()));
        cmd.addAll(args);
        long minutes = Long.getLong("milan.e2e.setupMinutes", 120);
        try {
            Path log = Files.createTempFile("milan-kind-", ".log");
            Process p = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not finish within " + minutes
                        + " min (-Dmilan.e2e.setupMinutes); output: " + log);
            }
            String out = Files.readString(log);
            System.out.println(out);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " exited with " + p.exitValue() + ":\n"
                        + tail(out, 4000));
            }
            Files.deleteIfExists(log);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd, e);
        }
    }

    /** The suite tests the operator as deployed: without a ready operator pod, nothing would reconcile. */
    private static void checkOperator(KubernetesClient admin, String description) {
        List<Pod> pods = Operator.pods(admin);
        if (pods.stream().noneMatch(Operator::ready)) {
            throw new IllegalStateException("no ready operator pod (label " + Operator.SELECTOR + ") in namespace "
                    + Operator.NAMESPACE + " of the " + description + "; install the chart (e2e/kind/cluster.sh"
                    + " install-operator on Kind) or set -Dmilan.e2e.operatorNamespace");
        }
    }

    private static void checkNodes(KubernetesClient admin, String description) {
        List<Node> nodes = schedulableNodes(admin);
        if (nodes.size() < MIN_SCHEDULABLE_NODES) {
            throw new IllegalStateException("the " + description + " has " + nodes.size() + " schedulable node(s) "
                    + nodes.stream().map(n -> n.getMetadata().getName()).toList() + "; the suite needs "
                    + MIN_SCHEDULABLE_NODES + " (e2e/kind/cluster.sh makes a control plane and two workers)");
        }
    }

    private static String tail(String s, int n) {
        return s.length() <= n ? s : s.substring(s.length() - n);
    }
}
