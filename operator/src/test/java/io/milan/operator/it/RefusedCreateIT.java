package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.operator.status.RunConditions;
import io.milan.testsupport.Await;
import io.milan.testsupport.WithLocalCluster;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A create the API server refuses with 403 (here a ResourceQuota allowing no Jobs; an admission policy or a
 * terminating namespace answer the same way): the run says so in its status and an Event, the operator sends the
 * creates again with growing delays instead of every few seconds, and the run starts once the quota allows it.
 */
@WithLocalCluster
class RefusedCreateIT extends RestrictedOperatorIT {
    private static final Pattern JOB_POSTS_REFUSED = Pattern.compile(
            "apiserver_request_total\\{[^}]*code=\"403\"[^}]*resource=\"jobs\"[^}]*verb=\"POST\"[^}]*} (\\d+)");
    @Test
    void aQuotaThatRefusesTheJobShowsInTheStatusAndIsRetriedWithGrowingDelays() {
        ResourceQuota noJobs = new ResourceQuotaBuilder().withNewMetadata().withName("no-jobs").endMetadata()
                .withNewSpec().addToHard("count/jobs.batch", new Quantity("0")).endSpec().build();
        client.resource(noJobs).create();
        Await.until("quota no-jobs counted by the controller manager", Cluster.TIMEOUT,
                () -> client.resourceQuotas().withName("no-jobs").get(),
                q -> q.getStatus() != null && q.getStatus().getHard() != null
                        && q.getStatus().getHard().containsKey("count/jobs.batch"));

        client.resource(TestRuns.pretrain("quota", 1)).create();
        RunStatus refused = awaitStatus(client, MilanPretrain.class, "quota", "PodGroupRefused",
                s -> RunConditions.find(s.conditions, RunConditions.POD_GROUP_REFUSED) != null);
        Condition condition = RunConditions.find(refused.conditions, RunConditions.POD_GROUP_REFUSED);
        assertEquals("True", condition.getStatus());
        assertEquals("Forbidden", condition.getReason());
        assertTrue(condition.getMessage().contains("exceeded quota: no-jobs"), condition.getMessage());
        assertTrue(refused.message.contains("exceeded quota: no-jobs") && refused.message.contains("sending it again"),
                refused.message);
        assertEquals(RunPhase.Pending, refused.phase);
        Await.until("a PodGroupRefused Warning Event", Cluster.TIMEOUT, () -> client.v1().events().list().getItems()
                .stream().filter(e -> "quota".equals(e.getInvolvedObject().getName())
                        && "PodGroupRefused".equals(e.getReason()) && "Warning".equals(e.getType()))
                .map(Event::getMessage).findFirst().orElse(null), m -> m != null && m.contains("exceeded quota"));

        // The API server's own count of refused Job creates, over 40 s: with delays of 5, 5, 10, 20 s at most
        // five; a create re-sent on every reconcile (every ~2 s) made about twenty.
        long before = refusedJobPosts();
        sleep(Duration.ofSeconds(40));
        long refusedCreates = refusedJobPosts() - before;
        System.out.println("RefusedCreateIT: " + refusedCreates + " refused Job creates in 40 s; status: "
                + Cluster.status(client, MilanPretrain.class, "quota").message);
        assertTrue(refusedCreates >= 1 && refusedCreates <= 8, refusedCreates + " refused Job creates in 40 s");

        client.resource(noJobs).delete();
        RunStatus running = awaitStatus(client, MilanPretrain.class, "quota", "Running once the quota is gone",
                s -> s.phase == RunPhase.Running);
        assertEquals("quota-a1", running.podGroup);
        assertNull(RunConditions.find(running.conditions, RunConditions.POD_GROUP_REFUSED), "cleared once created");
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** apiserver_request_total for POSTs of Jobs answered 403, from the API server's /metrics. */
    private static long refusedJobPosts() {
        String metrics = client.raw(client.getMasterUrl().toString().replaceAll("/$", "") + "/metrics");
        long total = 0;
        Matcher m = JOB_POSTS_REFUSED.matcher(metrics);
        while (m.find()) {
            total += Long.parseLong(m.group(1));
        }
        return total;
    }
}
