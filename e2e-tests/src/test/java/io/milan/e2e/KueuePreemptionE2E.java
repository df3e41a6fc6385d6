package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.TrainerExitCodes;
import io.milan.testsupport.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Kueue preemption on real nodes: Kueue v0.17.0 (e2e/kind/cluster.sh kueue, out of cluster against the Kind API
 * server) with a ClusterQueue whose CPU and memory quota fits exactly one 2-pod run. A low-priority run is admitted
 * and trains; a high-priority run arrives and Kueue preempts the low one: it suspends the low run's Job, the Job
 * controller deletes its pods, and the real kubelet SIGTERMs the trainers, which stop together at a step boundary,
 * write a mid-epoch checkpoint and exit with the disrupted code (75). The low run goes back to Queued (reason Evicted)
 * with restarts 0 and its Job kept; once the high run Succeeded, Kueue admits the same Job again, the trainers resume
 * from the checkpoint they wrote (not from scratch), and the low run Succeeds. The runs' phases, restarts, progress
 * and the Workloads' conditions over time are printed.
 */
class KueuePreemptionE2E extends E2ETestBase {
    private static final String LOW = "low";
    private static final String HIGH = "high";
    private static final String QUEUE = "e2e";
    private static final int LOW_EPOCHS = 4;
    private static final int HIGH_EPOCHS = 2;
    private static final String WORKLOAD_API = "kueue.x-k8s.io/v1beta2";
    /** Rank 0's termination message: {"phase":"disrupted","globalStep":412,"checkpointSaved":"checkpoint-..."}. */
    private static final Pattern GLOBAL_STEP = Pattern.compile("\"globalStep\"\\s*:\\s*(\\d+)");
    private static final Pattern SAVED = Pattern.compile("\"checkpointSaved\"\\s*:\\s*\"([^\"]+)\"");

    /** How each pod of the low run ended, by pod name: exit code, reason, termination message. */
    private final Map<String, ContainerStateTerminated> ended = new ConcurrentHashMap<>();
    private SharedIndexInformer<Pod> podWatch;

    @Test
    void aPreemptedRunStopsOnSigtermWaitsQueuedAndResumesFromItsCheckpoint() {
        requireKueue();
        applyQueue();
        watchLowPods();
        runs.prepareData();
        client.resources(MilanPretrain.class).resource(queued(runs.pretrain(LOW, LOW_EPOCHS), "low")).create();
        RunHistory history = new RunHistory(LOW, () -> runs.pretrainStatus(LOW), () -> runs.jobs(LOW),
                this::alongside);

        RunStatus before = history.until("admitted; a checkpoint, and the next epoch under way", Runs.RUN_TIMEOUT,
                RunHistory.midEpochAfterCheckpoint(LOW_EPOCHS));
        assertTrue(conditions(workloadOf(LOW + "-a1")).getOrDefault("Admitted", "").startsWith("True"),
                "the low run's Workload is admitted\n" + history.summary());
        System.out.printf("high-priority run arrives; low at epoch %d step %d (globalStep %d), last checkpoint:"
                + " epoch %d%n", before.progress.epoch, before.progress.step, before.progress.globalStep,
                before.checkpoint.epoch);
        client.resources(MilanPretrain.class).resource(queued(runs.pretrain(HIGH, HIGH_EPOCHS), "high")).create();

        RunStatus evicted = history.until("Queued after Kueue preempted it", Duration.ofMinutes(5),
                s -> s.phase == RunPhase.Queued);
        Await.until("both pods of " + LOW + "-a1 ended and gone", Duration.ofMinutes(3),
                () -> runs.pods(LOW).isEmpty() && ended.size() >= 2, Boolean::booleanValue);
        String atEviction = "\nhistory:\n" + history.summary();
        System.out.printf("the low run's pods ended: %s%n", describe(ended));
        assertEquals("Evicted", reason(evicted), "the run waits for Kueue, evicted: " + evicted.message + atEviction);
        assertEquals(0, evicted.restarts, "a preemption is not a gang failure" + atEviction);
        assertEquals(1, evicted.attempt, atEviction);
        assertEquals(LOW + "-a1", evicted.podGroup, "the same Job waits for admission" + atEviction);
        assertTrue(conditions(workloadOf(LOW + "-a1")).getOrDefault("Evicted", "").startsWith("True"),
                "Kueue evicted the Workload" + atEviction);
        for (var e : ended.entrySet()) {
            assertEquals(TrainerExitCodes.DISRUPTED, e.getValue().getExitCode(), e.getKey() + " stopped on SIGTERM at a"
                    + " step boundary with the disrupted exit code: " + describe(ended) + atEviction);
        }
        String summary = ended.entrySet().stream().filter(e -> e.getKey().startsWith(LOW + "-a1-0-"))
                .map(e -> e.getValue().getMessage()).filter(Objects::nonNull).findFirst()
                .orElseThrow(() -> new AssertionError("rank 0 left no termination message: " + describe(ended)));
        Matcher step = GLOBAL_STEP.matcher(summary);
        Matcher saved = SAVED.matcher(summary);
        assertTrue(summary.contains("\"disrupted\"") && step.find() && saved.find(), "rank 0 stopped and saved a"
                + " checkpoint: " + summary);
        long stoppedAt = Long.parseLong(step.group(1));
        System.out.printf("rank 0 stopped after global step %d and saved %s%n", stoppedAt, saved.group(1));

        // The low run's history goes on meanwhile: it must stay Queued while the high run holds the quota.
        List<String> notQueued = new java.util.ArrayList<>();
        history.until(HIGH + " finished", Runs.RUN_TIMEOUT, s -> {
            RunStatus h = runs.pretrainStatus(HIGH);
            if (h != null && h.phase == RunPhase.Running && s.phase != RunPhase.Queued) {
                notQueued.add(s.phase + " while " + HIGH + " was Running");
            }
            return finished(h);
        });
        RunStatus high = runs.pretrainStatus(HIGH);
        assertEquals(RunPhase.Succeeded, high.phase, "the high-priority run: " + high.message + atEviction);
        assertTrue(notQueued.isEmpty(), "the low run waits Queued while the high one runs: " + notQueued
                + "\n" + history.summary());
        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT);
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(LOW);
        System.out.printf("KueuePreemptionE2E history (low run | high run | Workloads):%n%s%n", history.summary());

        assertEquals(RunPhase.Succeeded, end.phase, "the preempted run did not succeed: " + end.message + context);
        assertEquals(0, end.restarts, "restarts stay 0" + context);
        assertEquals(1, end.attempt, "one attempt: Kueue resumed the same Job" + context);
        assertEquals(List.of(LOW + "-a1"), List.copyOf(history.jobNames()), "one Job" + context);
        assertNull(end.lastFailure, "the eviction did not end the attempt" + context);
        assertTrue(history.statuses().stream().noneMatch(s -> s.phase == RunPhase.Restarting),
                "never Restarting" + context);
        QuickstartE2E.assertNonDecreasing(history.progressEpochs(), context);

        // Resumed, not restarted: the progress the trainers wrote after the re-admission starts where they stopped.
        List<RunStatus> seen = history.statuses();
        int queuedAt = seen.indexOf(evicted);
        RunStatus readmitted = seen.subList(queuedAt, seen.size()).stream().filter(s -> s.phase == RunPhase.Running)
                .findFirst().orElseThrow(() -> new AssertionError("never Running again after the eviction" + context));
        Instant runningAgain = Instant.parse(readmitted.conditions.stream().filter(c -> "Running".equals(c.getType()))
                .findFirst().orElseThrow().getLastTransitionTime());
        RunStatus resumed = seen.stream().filter(s -> s.progress != null && s.progress.updateTime != null
                && s.progress.globalStep != null && !Instant.parse(s.progress.updateTime).isBefore(runningAgain))
                .findFirst().orElseThrow(() -> new AssertionError("no progress after the re-admission" + context));
        System.out.printf("after the re-admission the first progress seen is epoch %d, global step %d (stopped after"
                + " %d)%n", resumed.progress.epoch, resumed.progress.globalStep, stoppedAt);
        assertTrue(resumed.progress.globalStep >= stoppedAt, "the resumed trainers continue from step " + stoppedAt
                + ", first progress at global step " + resumed.progress.globalStep + context);
        assertTrue(resumed.progress.epoch >= before.progress.epoch, "the resumed trainers are in epoch "
                + resumed.progress.epoch + ", the run was preempted in epoch " + before.progress.epoch + context);
        Pod rank0 = runs.pods(LOW).stream().filter(p -> p.getMetadata().getName().startsWith(LOW + "-a1-0-"))
                .findFirst().orElseThrow(() -> new AssertionError("no rank-0 pod of " + LOW + "-a1" + context));
        String log = runs.fullLog(rank0);
        String resumeLine = log.lines().filter(l -> l.contains("Resuming")).findFirst()
                .orElseThrow(() -> new AssertionError("rank 0 does not say it resumed:\n" + log));
        System.out.printf("rank 0 after the re-admission: %s%n", resumeLine.strip());
        assertTrue(resumeLine.contains("step " + stoppedAt + ")"), "rank 0 resumes from the step it stopped after ("
                + stoppedAt + "): " + resumeLine);
    }

    // ---- Kueue objects ----

    private void requireKueue() {
        if (cluster.admin.apiextensions().v1().customResourceDefinitions().withName("clusterqueues.kueue.x-k8s.io")
                .get() == null) {
            throw new IllegalStateException("Kueue is not installed in the " + cluster.description + " (no"
                    + " clusterqueues.kueue.x-k8s.io CRD); start it with e2e/kind/cluster.sh kueue (e2e/kind/suite.sh"
                    + " does)");
        }
    }

    /** A ClusterQueue whose quota is exactly one 2-pod run, preempting lower priorities, and its LocalQueue. */
    private void applyQueue() {
        String cpu = times(2, Runs.CPU_REQUEST);
        String memory = times(2, Runs.MEMORY_REQUEST);
        apply("""
                apiVersion: kueue.x-k8s.io/v1beta2
                kind: ResourceFlavor
                metadata: {name: %1$s}
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
                  - coveredResources: [cpu, memory]
                    flavors:
                    - name: %1$s
                      resources:
                      - {name: cpu, nominalQuota: "%3$s"}
                      - {name: memory, nominalQuota: "%4$s"}
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
                """.formatted(namespace, QUEUE, cpu, memory));
        System.out.printf("ClusterQueue %s: cpu %s, memory %s (one run of 2 pods x %s cpu, %s memory)%n", namespace,
                cpu, memory, Runs.CPU_REQUEST, Runs.MEMORY_REQUEST);
    }

    private static String times(int n, String quantity) {
        BigDecimal amount = Quantity.getAmountInBytes(new Quantity(quantity)).multiply(BigDecimal.valueOf(n));
        return amount.stripTrailingZeros().toPlainString();
    }

    /** The run in the test's LocalQueue with the WorkloadPriorityClass {@code <namespace>-<priority>}. */
    private MilanPretrain queued(MilanPretrain run, String priority) {
        run.getSpec().queueName = QUEUE;
        run.getMetadata().setLabels(Map.of("kueue.x-k8s.io/priority-class", namespace + "-" + priority));
        return run;
    }

    private void apply(String yaml) {
        try {
            Path file = Files.createTempFile("kueue-e2e", ".yaml");
            Files.writeString(file, yaml);
            try {
                cluster.kubectl(Duration.ofMinutes(1), "apply", "--server-side", "-f", file.toString());
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    void deleteQueue() {
        if (podWatch != null) {
            podWatch.close();
        }
        if (client != null && !Boolean.getBoolean("milan.e2e.keep")) {
            client.resources(MilanPretrain.class).delete();
            cluster.kubectl(Duration.ofMinutes(1), "delete", "--ignore-not-found", "--wait=false",
                    "clusterqueue/" + namespace, "resourceflavor/" + namespace, "workloadpriorityclass/" + namespace
                            + "-low", "workloadpriorityclass/" + namespace + "-high");
        }
    }

    // ---- what is observed ----

    /** Records how each pod of the low run ended: its pods go right after, so only a watch sees that. */
    private void watchLowPods() {
        podWatch = client.pods().withLabel("milan.io/run", LOW).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                record(pod);
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                record(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean unknownFinalState) {
                record(pod);
            }
        });
    }

    private void record(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return;
        }
        pod.getStatus().getContainerStatuses().stream()
                .map(c -> c.getState() == null ? null : c.getState().getTerminated())
                .filter(t -> t != null && t.getExitCode() != null && t.getExitCode() != 0).findFirst()
                .ifPresent(t -> ended.put(pod.getMetadata().getName(), t));
    }

    private static String describe(Map<String, ContainerStateTerminated> ended) {
        return ended.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + " exit " + e.getValue().getExitCode() + " (" + e.getValue().getReason() + ")"
                        + (e.getValue().getMessage() == null ? "" : " " + e.getValue().getMessage().strip()))
                .collect(Collectors.joining("; ", "[", "]"));
    }

    /** The high run's phase and every Workload's conditions, for the time line. */
    private String alongside() {
        RunStatus high = runs.pretrainStatus(HIGH);
        String workloads = workloads().stream().map(w -> owner(w) + "{" + conditions(w).entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")) + "}")
                .sorted().collect(Collectors.joining(" "));
        return "high " + (high == null || high.phase == null ? "-" : high.phase + " restarts=" + high.restarts)
                + " | workloads " + workloads;
    }

    private List<GenericKubernetesResource> workloads() {
        return client.genericKubernetesResources(WORKLOAD_API, "Workload").list().getItems();
    }

    private GenericKubernetesResource workloadOf(String job) {
        return Await.until("the Workload of Job " + job, Duration.ofMinutes(1),
                () -> workloads().stream().filter(w -> job.equals(owner(w))).findFirst().orElse(null),
                Objects::nonNull);
    }

    private static String owner(GenericKubernetesResource w) {
        return w.getMetadata().getOwnerReferences().stream().map(o -> o.getName()).findFirst().orElse("?");
    }

    /** A Workload's conditions: type to status, with the reason of a True one ("Evicted" -> "True/Preempted"). */
    @SuppressWarnings("unchecked")
    private static Map<String, String> conditions(GenericKubernetesResource w) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        Object status = w.getAdditionalProperties().get("status");
        if (status instanceof Map<?, ?> s && s.get("conditions") instanceof List<?> list) {
            for (Object o : list) {
                Map<String, Object> c = (Map<String, Object>) o;
                String value = String.valueOf(c.get("status"));
                out.put(String.valueOf(c.get("type")), "True".equals(value) && c.get("reason") != null
                        ? value + "/" + c.get("reason") : value);
            }
        }
        return out;
    }

    private static String reason(RunStatus s) {
        return s.conditions.stream().filter(c -> s.phase.name().equals(c.getType()) && "True".equals(c.getStatus()))
                .map(c -> c.getReason()).findFirst().orElse(null);
    }

    private static boolean finished(RunStatus s) {
        return s != null && RunHistory.finished(s);
    }
}
