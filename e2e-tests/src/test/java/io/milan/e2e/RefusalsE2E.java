package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.milan.api.MilanPretrain;
import io.milan.api.RestartPolicy;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import io.milan.testsupport.Await;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What must not train: a manifest with a bad field is refused by the API server; a missing dataset fails the run. */
class RefusalsE2E extends E2ETestBase {

    @Test
    void aManifestWithABadFieldIsRefusedNamingTheField() {
        MilanPretrain run = runs.pretrain("bad-mask", 2);
        run.getSpec().maskRatio = 1.5;
        KubernetesClientException e = assertThrows(KubernetesClientException.class,
                () -> client.resources(MilanPretrain.class).resource(run).create());
        assertEquals(422, e.getCode(), e.getMessage());
        assertTrue(e.getMessage().contains("spec.maskRatio"), "the refusal names the field: " + e.getMessage());

        MilanPretrain warmup = runs.pretrain("bad-warmup", 2);
        warmup.getSpec().warmupEpochs = 2;
        KubernetesClientException w = assertThrows(KubernetesClientException.class,
                () -> client.resources(MilanPretrain.class).resource(warmup).create());
        assertEquals(422, w.getCode(), w.getMessage());
        assertTrue(w.getMessage().contains("spec.warmupEpochs must be less than spec.epochs"), w.getMessage());
        assertNull(client.resources(MilanPretrain.class).withName("bad-mask").get(), "nothing was stored");
    }

    @Test
    void aRunWhoseDatasetDoesNotExistEndsFailedWithAClearMessage() {
        runs.prepareData(); // the teacher is there: only the dataset is missing
        String name = "no-data";
        MilanPretrain run = runs.pretrain(name, 2);
        // A path inside the trainer image that does not exist (no claim: nothing to mount).
        run.getSpec().dataset = new StorageLocation("/opt/milan/datasets/no-such-dataset", null);
        run.getSpec().restartPolicy = new RestartPolicy();
        run.getSpec().restartPolicy.maxRestarts = 1;
        run.getSpec().restartPolicy.backoffSeconds = 1;
        client.resources(MilanPretrain.class).resource(run).create();
        RunHistory history = new RunHistory(name, () -> runs.pretrainStatus(name), () -> runs.jobs(name));

        RunStatus end = history.untilFinished(Duration.ofMinutes(10));
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(name);
        assertEquals(RunPhase.Failed, end.phase, context);
        assertTrue(end.message != null && end.message.contains("/opt/milan/datasets/no-such-dataset")
                && end.message.contains("does not exist"), "the message names the missing dataset: " + end.message
                        + context);
        // Bounded: at most maxRestarts gang restarts, then no pod runs any more (no crash loop). The last pods
        // stop shortly after Failed is recorded (they exit, or the clean-pod policy suspends their Job), so wait
        // for it instead of expecting it at the instant the phase changed.
        assertTrue(end.restarts <= 1, "restarts " + end.restarts + context);
        try {
            Await.until("no pod of " + name + " Running or Pending after Failed", Duration.ofMinutes(2),
                    () -> runs.pods(name).stream().filter(p -> "Running".equals(p.getStatus().getPhase())
                            || "Pending".equals(p.getStatus().getPhase())).map(p -> p.getMetadata().getName())
                            .toList(),
                    List::isEmpty);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + context, e);
        }
    }
}
