package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import io.milan.testsupport.CommandResult;
import io.milan.testsupport.Kwok;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator under real Kueue (v0.17.0, started in the local cluster by {@link TestCluster#ensureKueue()}): a
 * ClusterQueue of 8 GPUs, runs of 8 GPUs each (one pod of 8). Pods of these runs behave like the trainer under a
 * real kubelet when deleted: they end Failed with exit code 143 (SIGTERM, no handler) before they go (the kwok
 * stage selected by the env var {@code KWOK_SIGTERM_EXIT_CODE}). A timeline of the runs' phases and restarts and of
 * the Workloads' conditions is printed as it changes.
 */
@WithLocalCluster
class KueueIT {
    private static final String QUEUE = "gpus";
    private static final String WORKLOAD_API = "kueue.x-k8s.io/v1beta2";
    private static final Duration QUIET = Duration.ofSeconds(15);

    private static KubernetesClient client;
    private static TestCluster cluster;
    private static InProcessOperator operator;
    private static String prefix;
    private static Timeline timeline;

    @BeforeAll
    static void start(KubernetesClient c, TestCluster tc) {
        client = c;
        cluster = tc;
        cluster.ensureKueue();
        prefix = cluster.namespace();
        apply("""
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: ResourceFlavor
                metadata: {name: %1$s-gpu}
                ---
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: ClusterQueue
                metadata: {name: %1$s}
                spec:
                  namespaceSelector:
                    matchLabels: {kubernetes.io/metadata.name: %1$s}
                  preemption:
                    withinClusterQueue: LowerPriority
                  resourceGroups:
                  - coveredResources: [nvidia.com/gpu]
                    flavors:
                    - name: %1$s-gpu
                      resources:
                      - {name: nvidia.com/gpu, nominalQuota: 8}
                ---
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: LocalQueue
                metadata: {name: %2$s, namespace: %1$s}
                spec: {clusterQueue: %1$s}
                ---
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: WorkloadPriorityClass
                metadata: {name: %1$s-low}
                value: 10
                ---
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: WorkloadPriorityClass
                metadata: {name: %1$s-high}
                value: 1000
                """.formatted(prefix, QUEUE));
        operator = InProcessOperator.startRestricted(client, cluster.namespace());
        timeline = new Timeline();
        timeline.start();
    }

    @AfterAll
    static void stop() {
        if (timeline != null) {
            timeline.stop();
        }
        if (operator != null) {
            operator.close();
        }
        if (cluster != null && prefix != null) {
            cluster.kubectl("delete", "--ignore-not-found", "--wait=false", "clusterqueue/" + prefix,
                    "resourceflavor/" + prefix + "-gpu", "workloadpriorityclass/" + prefix + "-low",
                    "workloadpriorityclass/" + prefix + "-high");
        }
    }

    /** Each scenario starts with an empty queue: its runs go, and with them their Jobs and Workloads. */
    @AfterEach
    void deleteRuns() {
        client.resources(MilanPretrain.class).delete();
        Await.until("runs, Jobs and Workloads of the scenario gone", Cluster.TIMEOUT,
                () -> client.resources(MilanPretrain.class).list().getItems().size()
                        + client.batch().v1().jobs().list().getItems().size() + workloads().size(), n -> n == 0);
    }

    @Test
    void aSecondRunWaitsQueuedUntilTheFirstEndsThenIsAdmitted() {
        timeline.mark("queueing: two runs of 8 GPUs, a queue of 8");
        client.resource(run("first", null)).create();
        awaitPhase(client, MilanPretrain.class, "first", RunPhase.Running);
        client.resource(run("second", null)).create();
        RunStatus queued = awaitPhase(client, MilanPretrain.class, "second", RunPhase.Queued);
        assertTrue(queued.message.contains(QUEUE), queued.message);
        Map<String, String> waiting = conditions(workloadOf("second-a1"));
        assertEquals("False", waiting.getOrDefault("QuotaReserved", "False"), "no quota for the second: " + waiting);
        assertTrue(Cluster.podsOf(client, "second-a1").isEmpty(), "no pods before admission");
        Job waitingJob = Cluster.job(client, "second-a1");
        assertEquals(Boolean.TRUE, waitingJob.getSpec().getSuspend(), "created suspended, as Kueue expects");
        assertEquals(QUEUE, waitingJob.getMetadata().getLabels().get("kueue.x-k8s.io/queue-name"));
        Duration held = Duration.ofSeconds(5);
        pause(held);
        assertEquals(RunPhase.Queued, Cluster.status(client, MilanPretrain.class, "second").phase,
                "still Queued " + held.toSeconds() + " s later, while the first runs");

        Cluster.completeAllPods(client, "first-a1", 1);
        awaitPhase(client, MilanPretrain.class, "first", RunPhase.Succeeded);
        RunStatus admitted = awaitPhase(client, MilanPretrain.class, "second", RunPhase.Running);
        assertEquals("second-a1", admitted.podGroup, "the queued Job itself runs");
        assertEquals(0, admitted.restarts);
        assertEquals("True", conditions(workloadOf("second-a1")).get("Admitted"));
    }

    @Test
    void aPreemptedRunGoesBackToQueuedWithoutARestartAndResumesTheSameJob() {
        timeline.mark("preemption: a high-priority run evicts a running low-priority one");
        client.resource(run("low", prefix + "-low")).create();
        awaitPhase(client, MilanPretrain.class, "low", RunPhase.Running);

        client.resource(run("urgent", prefix + "-high")).create();
        awaitPhase(client, MilanPretrain.class, "urgent", RunPhase.Running);
        RunStatus evicted = awaitStatus(client, MilanPretrain.class, "low", "Queued after its eviction",
                s -> s.phase == RunPhase.Queued);
        pause(Duration.ofSeconds(3)); // what the operator does next with the pods that ended with 143
        RunStatus settled = Cluster.status(client, MilanPretrain.class, "low");
        assertEquals(RunPhase.Queued, settled.phase, "an evicted run waits for Kueue: " + settled.message);
        assertEquals(0, settled.restarts, "a preemption is not a gang failure: " + settled.message);
        assertEquals("low-a1", settled.podGroup, "the same Job waits to be admitted again");
        assertEquals(1, evicted.attempt);
        assertTrue(Cluster.podsOf(client, "low-a1").stream().noneMatch(KueueIT::active), "its pods are gone");

        Cluster.completeAllPods(client, "urgent-a1", 1);
        awaitPhase(client, MilanPretrain.class, "urgent", RunPhase.Succeeded);
        RunStatus resumed = awaitPhase(client, MilanPretrain.class, "low", RunPhase.Running);
        assertEquals(0, resumed.restarts, "restarts unchanged after the resume");
        assertEquals("low-a1", resumed.podGroup, "Kueue resumed the same Job");
        assertEquals(1, resumed.attempt);
        assertEquals("True", conditions(workloadOf("low-a1")).get("Admitted"));
        Job job = Cluster.job(client, "low-a1");
        List<String> args = job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
        assertEquals("auto", args.get(args.indexOf("--resume") + 1), "the trainer resumes from its checkpoint");
    }

    @Test
    void endedRunsLeaveNothingInTheQueueAndNoPodRestarting() {
        timeline.mark("ended runs: one fails while Running, one while Queued (spec.activeDeadlineSeconds)");
        MilanPretrain holder = run("holder", null);
        holder.getSpec().activeDeadlineSeconds = 20L;
        client.resource(holder).create();
        awaitPhase(client, MilanPretrain.class, "holder", RunPhase.Running);
        MilanPretrain waiting = run("waiting", null);
        waiting.getSpec().activeDeadlineSeconds = 8L;
        client.resource(waiting).create();
        awaitPhase(client, MilanPretrain.class, "waiting", RunPhase.Queued);

        RunStatus failedQueued = awaitPhase(client, MilanPretrain.class, "waiting", RunPhase.Failed);
        assertEquals("Failed", failedQueued.phase.name());
        RunStatus failedRunning = awaitPhase(client, MilanPretrain.class, "holder", RunPhase.Failed);
        assertTrue(failedRunning.message.contains("activeDeadlineSeconds"), failedRunning.message);

        // Watch the ended runs' Jobs for a while: a Job that is suspended and unsuspended again changes its
        // generation each time; a pod that Kueue's unsuspend lets the Job controller create shows up here.
        Map<String, Long> before = generations();
        List<String> seenPods = new ArrayList<>();
        long end = System.nanoTime() + QUIET.toNanos();
        while (System.nanoTime() < end) {
            for (String job : List.of("holder-a1", "waiting-a1")) {
                Cluster.podsOf(client, job).stream().filter(KueueIT::active)
                        .map(p -> p.getMetadata().getName() + "@" + p.getMetadata().getUid().substring(0, 8))
                        .filter(p -> !seenPods.contains(p)).forEach(seenPods::add);
            }
            pause(Duration.ofMillis(250));
        }
        Map<String, Long> after = generations();
        Map<String, Long> unsuspends = new LinkedHashMap<>();
        after.forEach((job, g) -> unsuspends.put(job, g - before.getOrDefault(job, g)));
        System.out.printf("KueueIT: over %d s after both ended: Job spec changes %s (generation before %s, after %s),"
                + " pods started %s, Workloads %s%n", QUIET.toSeconds(), unsuspends, before, after, seenPods,
                describeWorkloads());
        assertTrue(unsuspends.values().stream().allMatch(n -> n <= 1), "the ended runs' Jobs are left alone, not"
                + " suspended and unsuspended again and again: spec changes in " + QUIET.toSeconds() + " s "
                + unsuspends);
        assertTrue(seenPods.isEmpty(), "no pod of an ended run starts again: " + seenPods);
        List<String> live = workloads().stream().filter(w -> !"True".equals(conditions(w).get("Finished")))
                .map(w -> w.getMetadata().getName() + " " + conditions(w)).toList();
        assertTrue(live.isEmpty(), "nothing of the ended runs is admitted or pending in the queue: " + live);
    }

    // ---- helpers ----

    /** A run of one pod with 8 GPUs in the test queue; its pods end Failed with 143 when deleted. */
    private static MilanPretrain run(String name, String priorityClass) {
        MilanPretrain run = TestRuns.pretrain(name, 1);
        run.getSpec().gpusPerNode = 8;
        run.getSpec().queueName = QUEUE;
        run.getSpec().env = List.of(new EnvVar(Kwok.SIGTERM_EXIT_ENV, "143", null));
        if (priorityClass != null) {
            run.getMetadata().setLabels(Map.of("kueue.x-k8s.io/priority-class", priorityClass));
        }
        return run;
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static boolean active(Pod p) {
        String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
        return !"Succeeded".equals(phase) && !"Failed".equals(phase);
    }

    private static Map<String, Long> generations() {
        Map<String, Long> g = new LinkedHashMap<>();
        client.batch().v1().jobs().list().getItems()
                .forEach(j -> g.put(j.getMetadata().getName(), j.getMetadata().getGeneration()));
        return g;
    }

    private static List<GenericKubernetesResource> workloads() {
        return client.genericKubernetesResources(WORKLOAD_API, "Workload").list().getItems();
    }

    private static GenericKubernetesResource workloadOf(String jobName) {
        return Await.until("the Workload of Job " + jobName, Cluster.TIMEOUT,
                () -> workloads().stream().filter(w -> w.getMetadata().getOwnerReferences().stream()
                        .anyMatch(o -> jobName.equals(o.getName()))).findFirst().orElse(null), Objects::nonNull);
    }

    /** A Workload's conditions, type to status. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> conditions(GenericKubernetesResource w) {
        Map<String, String> out = new LinkedHashMap<>();
        Object status = w.getAdditionalProperties().get("status");
        if (status instanceof Map<?, ?> s && s.get("conditions") instanceof List<?> list) {
            for (Object o : list) {
                Map<String, Object> c = (Map<String, Object>) o;
                out.put(String.valueOf(c.get("type")), String.valueOf(c.get("status")));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static String describeWorkloads() {
        return workloads().stream().map(w -> {
            String job = w.getMetadata().getOwnerReferences().stream().map(o -> o.getName()).findFirst().orElse("?");
            Object spec = w.getAdditionalProperties().get("spec");
            Object active = spec instanceof Map<?, ?> m ? ((Map<String, Object>) m).get("active") : null;
            Object status = w.getAdditionalProperties().get("status");
            StringBuilder s = new StringBuilder(job).append(active == Boolean.FALSE ? " (inactive)" : "").append(" {");
            if (status instanceof Map<?, ?> st && st.get("conditions") instanceof List<?> list) {
                s.append(list.stream().map(o -> {
                    Map<String, Object> c = (Map<String, Object>) o;
                    return c.get("type") + "=" + c.get("status")
                            + ("True".equals(c.get("status")) && c.get("reason") != null ? "/" + c.get("reason") : "");
                }).collect(Collectors.joining(" ")));
            }
            return s.append("}").toString();
        }).sorted().collect(Collectors.joining(", ", "[", "]"));
    }

    private static void apply(String yaml) {
        try {
            Path file = Files.createTempFile("kueue-it", ".yaml");
            Files.writeString(file, yaml);
            CommandResult r = cluster.kubectl("apply", "--server-side", "-f", file.toString());
            Files.delete(file);
            if (!r.succeeded()) {
                throw new IllegalStateException("kubectl apply of the Kueue objects failed: " + r.describe());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Prints, as they change, each run's phase/restarts/attempt/Job and each Workload's conditions. */
    private static final class Timeline {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final long t0 = System.nanoTime();
        private final Thread thread = new Thread(this::loop, "kueue-it-timeline");
        private String last = "";

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        void mark(String scenario) {
            System.out.printf("KueueIT %6.1f s: --- %s ---%n", seconds(), scenario);
        }

        void stop() {
            running.set(false);
            thread.interrupt();
        }

        private double seconds() {
            return (System.nanoTime() - t0) / 1e9;
        }

        private void loop() {
            while (running.get()) {
                try {
                    String runs = client.resources(MilanPretrain.class).list().getItems().stream()
                            .filter(r -> r.getStatus() != null && r.getStatus().phase != null)
                            .map(r -> r.getMetadata().getName() + " " + r.getStatus().phase + " restarts="
                                    + r.getStatus().restarts + " " + r.getStatus().podGroup)
                            .sorted().collect(Collectors.joining(", ", "runs [", "]"));
                    String now = runs + " workloads " + describeWorkloads();
                    if (!now.equals(last)) {
                        System.out.printf("KueueIT %6.1f s: %s%n", seconds(), now);
                        last = now;
                    }
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the next poll tries again; a closing client ends the test anyway
                }
            }
        }
    }
}
