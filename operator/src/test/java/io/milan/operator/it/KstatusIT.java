package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.testsupport.CommandResult;
import io.milan.testsupport.Commands;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What Flux sees: kstatus, the status library of Flux's {@code wait: true} health checks (sigs.k8s.io/cli-utils
 * v0.37.2, built from e2e/kstatus by e2e/build-kstatus.sh), run on runs read from the real API server with
 * {@code kubectl get -o json}, as Flux reads them.
 */
@WithLocalCluster
class KstatusIT extends RestrictedOperatorIT {
    private static TestCluster cluster;
    private static Path kstatus;

    @BeforeAll
    static void buildKstatus(TestCluster tc) {
        cluster = tc;
        Path script = cluster.repoPath("e2e/build-kstatus.sh");
        // A cache hit (about a second) when run-tests.sh has built it already; a build from the Go module proxy else.
        CommandResult built = Commands.run(List.of(script.toString()), Map.of(), null, Duration.ofMinutes(5));
        if (!built.succeeded()) {
            throw new IllegalStateException("e2e/build-kstatus.sh failed: " + built.describe());
        }
        kstatus = Path.of(built.stdout().strip().lines().reduce((a, b) -> b).orElseThrow());
    }

    /**
     * Before the operator has written anything: the run is created in a namespace no operator watches. The create
     * cannot set a status, but the schema's default makes it read back as {@code observedGeneration: 0}, so kstatus
     * sees generation 1 not yet observed. Without it kstatus finds no status at all and says Current.
     */
    @Test
    void aRunNoOperatorHasSeenYetIsInProgress() {
        String unwatched = cluster.namespace() + "-unwatched";
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(unwatched).endMetadata()
                .build()).create();
        try {
            client.resources(MilanFinetune.class).inNamespace(unwatched)
                    .resource(TestRuns.finetune("new", "some-pretrain")).create();

            Map<String, String> result = kstatus("milanfinetune/new", unwatched);
            assertEquals("InProgress", result.get("status"), result.toString());
            assertEquals("MilanFinetune generation is 1, but latest observed generation is 0",
                    result.get("message"));
        } finally {
            client.namespaces().withName(unwatched).delete();
            client.namespaces().withName(unwatched).waitUntilCondition(Objects::isNull, 120, TimeUnit.SECONDS);
        }
    }

    @Test
    void aRunningRunIsInProgress() {
        client.resource(TestRuns.pretrain("running", 1)).create();
        RunStatus running = awaitPhase(client, MilanPretrain.class, "running", RunPhase.Running);

        Map<String, String> result = kstatus("milanpretrain/running", cluster.namespace());
        assertEquals("InProgress", result.get("status"), result.toString());
        assertEquals(running.message, result.get("message"), "the Reconciling condition's message");
    }

    @Test
    void aFailedRunIsFailedWithItsFailureMessage() {
        MilanPretrain run = TestRuns.pretrain("failing", 1);
        run.getSpec().restartPolicy.maxRestarts = 0;
        client.resource(run).create();
        awaitPhase(client, MilanPretrain.class, "failing", RunPhase.Running);
        Cluster.endPod(client, Cluster.awaitRunningPods(client, "failing-a1", 1).get(0), "Failed", 1);
        RunStatus failed = awaitPhase(client, MilanPretrain.class, "failing", RunPhase.Failed);

        Map<String, String> result = kstatus("milanpretrain/failing", cluster.namespace());
        assertEquals("Failed", result.get("status"), result.toString());
        assertEquals(failed.message, result.get("message"), "the Stalled condition's message");
        assertTrue(result.get("message").contains("pod failing-a1-0"), result.get("message"));
    }

    @Test
    void aSucceededRunIsCurrent() {
        client.resource(TestRuns.pretrain("done", 1)).create();
        awaitPhase(client, MilanPretrain.class, "done", RunPhase.Running);
        Cluster.completeAllPods(client, "done-a1", 1);
        awaitPhase(client, MilanPretrain.class, "done", RunPhase.Succeeded);

        Map<String, String> result = kstatus("milanpretrain/done", cluster.namespace());
        assertEquals("Current", result.get("status"), result.toString());
    }

    /** kstatus's status and message for the object as {@code kubectl get -o json} prints it. */
    private static Map<String, String> kstatus(String object, String namespace) {
        CommandResult get = cluster.kubectl("get", object, "-n", namespace, "-o", "json").orThrow();
        try {
            Path file = Files.createTempFile("kstatus", ".json");
            try {
                Files.writeString(file, get.stdout());
                CommandResult computed = Commands.run(List.of(kstatus.toString(), file.toString()), Map.of(), null,
                        Duration.ofSeconds(30)).orThrow();
                JsonNode json = new ObjectMapper().readTree(computed.stdout());
                return Map.of("status", json.path("status").asText(), "message", json.path("message").asText());
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
