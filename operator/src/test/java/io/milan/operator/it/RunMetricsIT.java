package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.search.Search;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.testsupport.Await;
import io.milan.testsupport.WithLocalCluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The per-namespace metrics a platform dashboard reads (issue 22, item 6): runs by namespace, queue and phase, and
 * per run the devices held, the device-seconds used and the trainer's reported throughput, from the real API
 * server's objects through the operator's informer caches.
 */
@WithLocalCluster
class RunMetricsIT extends RestrictedOperatorIT {
    @Test
    void aRunningRunShowsItsDevicesUsageAndThroughputUnderItsNamespace() {
        String ns = client.getNamespace();
        client.resource(TestRuns.pretrain("metered", 2)).create();
        awaitPhase(client, MilanPretrain.class, "metered", RunPhase.Running);

        assertEquals(1.0, await("milan.runs", Search.in(operator.registry).name("milan.runs")
                .tag("namespace", ns).tag("queue", "none").tag("phase", "Running"), v -> v == 1.0));
        assertEquals(2.0, await("milan.run.devices", run("milan.run.devices", ns), v -> v == 2.0),
                "two CPU pods, one device each");
        double early = await("device-seconds start", run("milan.run.device.seconds", ns), v -> v >= 0.0);
        double later = await("device-seconds grow", run("milan.run.device.seconds", ns), v -> v >= early + 2.0);
        assertTrue(later > early, later + " after " + early);

        // The trainer's report (here written as the trainer's status writer would) becomes the run's throughput.
        client.resources(MilanPretrain.class).withName("metered").subresource("status").patch(
                PatchContext.of(PatchType.JSON_MERGE),
                "{\"status\":{\"progress\":{\"attempt\":1,\"globalStep\":10,\"imagesPerSecond\":123.5,\"trainLoss\":0.42}}}");
        assertEquals(123.5, await("images/s", run("milan.run.images.per.second", ns), v -> v == 123.5));
        assertEquals(0.42, await("train loss", run("milan.run.train.loss", ns), v -> v == 0.42));

        // Suspended, the run holds nothing and reports no throughput; its device-seconds stay counted.
        client.resources(MilanPretrain.class).withName("metered")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":true}}");
        awaitPhase(client, MilanPretrain.class, "metered", RunPhase.Suspended);
        assertEquals(0.0, await("devices released", run("milan.run.devices", ns), v -> v == 0.0));
        assertEquals(0.0, await("no throughput", run("milan.run.images.per.second", ns), v -> v == 0.0));
        // status.activeSeconds keeps whole seconds: the closed stretch may lose under a second per device.
        double kept = await("usage kept", run("milan.run.device.seconds", ns), v -> true);
        assertTrue(kept >= later - 2.0, kept + " device-seconds after suspending, " + later + " before");
        assertEquals(1.0, await("suspended count", Search.in(operator.registry).name("milan.runs")
                .tag("namespace", ns).tag("phase", "Suspended"), v -> v == 1.0));
    }

    private static Search run(String name, String namespace) {
        return Search.in(operator.registry).name(name).tag("namespace", namespace).tag("name", "metered")
                .tag("kind", "MilanPretrain").tag("queue", "none").tag("resource", "cpu");
    }

    private static double await(String what, Search search, java.util.function.DoublePredicate ok) {
        return Await.until(what, Duration.ofSeconds(30), () -> {
            Gauge g = search.gauge();
            return g == null ? Double.NaN : g.value();
        }, v -> !Double.isNaN(v) && ok.test(v));
    }
}
