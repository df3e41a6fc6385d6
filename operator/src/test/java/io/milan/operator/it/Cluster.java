package io.milan.operator.it;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.Await;
import io.milan.testsupport.Kwok;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** What the integration tests read from and do to the cluster. */
final class Cluster {
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    private Cluster() {
    }

    static <R extends CustomResource<?, RunStatus>> R get(KubernetesClient client, Class<R> type, String name) {
        return client.resources(type).withName(name).get();
    }

    static <R extends CustomResource<?, RunStatus>> RunStatus status(KubernetesClient client, Class<R> type,
            String name) {
        R run = get(client, type, name);
        return run == null ? null : run.getStatus();
    }

    /** Waits until the run's status satisfies the condition; returns that status. */
    static <R extends CustomResource<?, RunStatus>> RunStatus awaitStatus(KubernetesClient client, Class<R> type,
            String name, String what, Predicate<RunStatus> condition) {
        return Await.until(type.getSimpleName() + " " + name + ": " + what, TIMEOUT,
                () -> status(client, type, name), s -> s != null && condition.test(s));
    }

    static <R extends CustomResource<?, RunStatus>> RunStatus awaitPhase(KubernetesClient client, Class<R> type,
            String name, RunPhase phase) {
        return awaitStatus(client, type, name, "phase " + phase, s -> s.phase == phase);
    }

    static Job job(KubernetesClient client, String name) {
        return client.batch().v1().jobs().withName(name).get();
    }

    static List<Job> jobsOfRun(KubernetesClient client, String runBase) {
        return client.batch().v1().jobs().withLabel("milan.io/run", runBase).list().getItems();
    }

    /** Pods of a Job, by completion index. */
    static List<Pod> podsOf(KubernetesClient client, String jobName) {
        return client.pods().withLabel("batch.kubernetes.io/job-name", jobName).list().getItems().stream()
                .sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList();
    }

    static List<Pod> awaitRunningPods(KubernetesClient client, String jobName, int count) {
        return Await.until(count + " running pods of Job " + jobName, TIMEOUT, () -> podsOf(client, jobName),
                pods -> pods.stream().filter(p -> "Running".equals(p.getStatus().getPhase())).count() == count);
    }

    /** Makes kwok end the pod in {@code phase} (Succeeded or Failed), as a finished or crashed trainer would. */
    static void endPod(KubernetesClient client, Pod pod, String phase, int exitCode) {
        client.pods().withName(pod.getMetadata().getName()).edit(p -> {
            p.getMetadata().getAnnotations().putAll(Map.of(Kwok.PHASE, phase, Kwok.EXIT_CODE,
                    String.valueOf(exitCode)));
            return p;
        });
    }

    static void completeAllPods(KubernetesClient client, String jobName, int count) {
        awaitRunningPods(client, jobName, count).forEach(p -> endPod(client, p, "Succeeded", 0));
    }

    static String nameOf(HasMetadata r) {
        return r.getMetadata().getName();
    }
}
