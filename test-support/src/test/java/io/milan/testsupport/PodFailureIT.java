package io.milan.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** kwok ends pods as Failed on request (annotation kwok.milan.io/phase), and the Job controller reacts. */
@WithLocalCluster
class PodFailureIT {
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    static Job job(String name, int backoffLimit, Map<String, String> podAnnotations) {
        return new JobBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withBackoffLimit(backoffLimit).withCompletions(1).withParallelism(1)
                .withNewTemplate().withNewMetadata().withAnnotations(podAnnotations).endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                .addNewContainer().withName("trainer").withImage("milan-trainer:test").endContainer()
                .endSpec().endTemplate().endSpec().build();
    }

    static Optional<JobCondition> condition(Job job, String type) {
        return job == null || job.getStatus() == null || job.getStatus().getConditions() == null ? Optional.empty()
                : job.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    static List<Pod> podsOf(KubernetesClient client, String job) {
        return client.pods().withLabel("batch.kubernetes.io/job-name", job).list().getItems();
    }

    @Test
    void podAnnotatedToFailEndsFailedWithItsExitCodeAndTheJobFails(KubernetesClient client) {
        client.batch().v1().jobs().resource(job("fails", 0,
                Map.of(Kwok.PHASE, "Failed", Kwok.EXIT_CODE, "3"))).create();

        Job job = Await.until("Job fails to have condition Failed=True", TIMEOUT,
                () -> client.batch().v1().jobs().withName("fails").get(),
                j -> condition(j, "Failed").map(c -> "True".equals(c.getStatus())).orElse(false));
        assertEquals("BackoffLimitExceeded", condition(job, "Failed").orElseThrow().getReason());
        assertEquals(1, job.getStatus().getFailed());

        List<Pod> pods = podsOf(client, "fails");
        assertEquals(1, pods.size(), "backoffLimit 0: no replacement pod");
        Pod pod = pods.get(0);
        assertEquals("Failed", pod.getStatus().getPhase());
        assertEquals(3, pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getExitCode());
    }

    @Test
    void runningPodAnnotatedToFailIsReplacedByTheJob(KubernetesClient client) {
        client.batch().v1().jobs().resource(job("retries", 2, Map.of())).create();
        Pod first = Await.until("the first pod of Job retries Running", TIMEOUT, () -> podsOf(client, "retries"),
                ps -> ps.size() == 1 && "Running".equals(ps.get(0).getStatus().getPhase())).get(0);

        Kwok.endPod(client, first.getMetadata().getName(), "Failed");

        Await.until(first.getMetadata().getName() + " Failed", TIMEOUT,
                () -> client.pods().withName(first.getMetadata().getName()).get(),
                p -> "Failed".equals(p.getStatus().getPhase()));
        List<Pod> pods = Await.until("a replacement pod Running next to the failed one", TIMEOUT,
                () -> podsOf(client, "retries"),
                ps -> ps.size() == 2 && ps.stream().anyMatch(p -> "Running".equals(p.getStatus().getPhase())));
        Pod replacement = pods.stream().filter(p -> "Running".equals(p.getStatus().getPhase()))
                .findFirst().orElseThrow();
        assertNotEquals(first.getMetadata().getUid(), replacement.getMetadata().getUid());

        Job job = Await.until("Job retries counting the failure", TIMEOUT,
                () -> client.batch().v1().jobs().withName("retries").get(),
                j -> j.getStatus() != null && Integer.valueOf(1).equals(j.getStatus().getFailed())
                        && Integer.valueOf(1).equals(j.getStatus().getActive()));
        assertEquals(Optional.empty(), condition(job, "Failed").filter(c -> "True".equals(c.getStatus())),
                "one failure is within backoffLimit 2");
    }
}
