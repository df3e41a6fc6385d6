package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.milan.api.CheckpointStatus;
import io.milan.api.EvalStatus;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.Progress;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import io.milan.api.report.KubernetesStatusSink;
import io.milan.api.report.RunReference;
import io.milan.api.report.StatusReporter;
import io.milan.api.report.TrainerFields;
import io.milan.testsupport.WithLocalCluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The two writers of a run's status together: the real reporter, authenticated as the run's trainer, writes
 * progress, eval and checkpoint while the operator drives the run through its phases; neither erases the other's
 * fields, and the API server refuses a report older than the one it holds.
 */
@WithLocalCluster
class ProgressReportingIT extends RestrictedOperatorIT {

    @Test
    void progressFromTheTrainerAndPhasesFromTheOperatorLiveSideBySide() {
        MilanFinetune run = TestRuns.finetune("probe", "unused");
        run.getSpec().pretrained.pretrainRef = null;
        run.getSpec().pretrained.checkpoint = new StorageLocation("/opt/milan/encoder.safetensors", null);
        client.resource(run).create();
        awaitPhase(client, MilanFinetune.class, "probe", RunPhase.Running);

        try (StatusReporter reporter = TrainerIdentity.reporterFor(client, namespace,
                new RunReference("MilanFinetune", "probe", namespace))) {
            reporter.epochEnd(progress(1, 0, 50, 0.9), eval(0, 61.5));
            reporter.checkpoint(checkpoint(0));
            Progress scaled = progress(1, 1, 75, 0.7);
            scaled.skippedSteps = 3L;
            scaled.lossScale = 16384.0;
            reporter.progress(scaled);
            reporter.flush(Duration.ofSeconds(30));

            RunStatus mid = awaitStatus(client, MilanFinetune.class, "probe", "progress at step 75",
                    s -> s.progress != null && s.progress.globalStep == 75);
            assertEquals(RunPhase.Running, mid.phase, "the operator's phase survives the trainer's writes");
            assertEquals(61.5, mid.eval.top1);
            assertEquals("/output/checkpoint-0.safetensors", mid.checkpoint.path);
            assertEquals(1, mid.attempt);
            assertEquals(3L, mid.progress.skippedSteps, "fp16 loss scaling's skipped steps are kept by the schema");
            assertEquals(16384.0, mid.progress.lossScale);

            Cluster.completeAllPods(client, "probe-ft-a1", 1);
            reporter.epochEnd(progress(1, 1, 100, 0.5), eval(1, 70.25));
            reporter.flush(Duration.ofSeconds(30));
        }
        RunStatus done = awaitStatus(client, MilanFinetune.class, "probe", "Succeeded with the last report",
                s -> s.phase == RunPhase.Succeeded && s.progress != null && s.progress.globalStep == 100);
        assertEquals(70.25, done.eval.top1, "the operator's writes never erase the trainer's fields");
        assertEquals(0, done.checkpoint.epoch);
        assertNotNull(done.completionTime);

        MilanFinetune stored = Cluster.get(client, MilanFinetune.class, "probe");
        String trainerFields = fieldsOf(stored, "milan-trainer");
        String operatorFields = fieldsOf(stored, "milan-operator");
        assertTrue(trainerFields.contains("f:progress") && trainerFields.contains("f:eval"), trainerFields);
        assertFalse(trainerFields.contains("f:phase"), "the trainer owns only its fields: " + trainerFields);
        assertTrue(operatorFields.contains("f:phase"), operatorFields);
        assertFalse(operatorFields.contains("f:progress") || operatorFields.contains("f:eval")
                || operatorFields.contains("f:checkpoint"), "the operator never sends trainer fields: "
                + operatorFields);
    }

    @Test
    void anOlderReportIsRefusedByTheApiServer() throws Exception {
        client.resource(TestRuns.pretrain("ordered", 1)).create();
        awaitPhase(client, MilanPretrain.class, "ordered", RunPhase.Running);
        RunReference ref = new RunReference("MilanPretrain", "ordered", namespace);
        try (KubernetesClient trainer = TrainerIdentity.clientFor(client, namespace, "ordered")) {
            KubernetesStatusSink sink = new KubernetesStatusSink(trainer);
            sink.apply(ref, new TrainerFields(progress(2, 1, 100, 0.5), null, null));

            KubernetesClientException stale = assertThrows(KubernetesClientException.class,
                    () -> sink.apply(ref, new TrainerFields(progress(2, 0, 40, 0.9), null, null)));
            assertEquals(422, stale.getCode());
            assertTrue(stale.getMessage().contains("older than the report already recorded"), stale.getMessage());
            KubernetesClientException straggler = assertThrows(KubernetesClientException.class,
                    () -> sink.apply(ref, new TrainerFields(progress(1, 5, 900, 0.1), null, null)));
            assertEquals(422, straggler.getCode(), "a higher step of an older attempt is older too");

            sink.apply(ref, new TrainerFields(progress(3, 0, 10, 1.0), null, null));
        }
        RunStatus s = Cluster.status(client, MilanPretrain.class, "ordered");
        assertEquals(3, s.progress.attempt);
        assertEquals(10L, s.progress.globalStep);
    }

    @Test
    void theTrainerMayWriteOnlyItsOwnRunsStatus() throws Exception {
        client.resource(TestRuns.pretrain("mine", 1)).create();
        client.resource(TestRuns.pretrain("theirs", 1)).create();
        awaitPhase(client, MilanPretrain.class, "theirs", RunPhase.Running);
        try (KubernetesClient trainer = TrainerIdentity.clientFor(client, namespace, "mine")) {
            KubernetesStatusSink sink = new KubernetesStatusSink(trainer);
            sink.apply(new RunReference("MilanPretrain", "mine", namespace),
                    new TrainerFields(progress(1, 0, 1, 1.0), null, null));

            KubernetesClientException other = assertThrows(KubernetesClientException.class, () -> sink.apply(
                    new RunReference("MilanPretrain", "theirs", namespace),
                    new TrainerFields(progress(1, 0, 1, 1.0), null, null)));
            assertEquals(403, other.getCode());
            KubernetesClientException spec = assertThrows(KubernetesClientException.class,
                    () -> trainer.resources(MilanPretrain.class).withName("mine")
                            .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"epochs\":99}}"));
            assertEquals(403, spec.getCode(), "the trainer cannot change its spec");
            KubernetesClientException pods = assertThrows(KubernetesClientException.class,
                    () -> trainer.pods().list());
            assertEquals(403, pods.getCode());
        }
    }

    private static String fieldsOf(MilanFinetune run, String manager) {
        return run.getMetadata().getManagedFields().stream()
                .filter(m -> manager.equals(m.getManager()) && "status".equals(m.getSubresource()))
                .map(ManagedFieldsEntry::getFieldsV1)
                .map(f -> f.getAdditionalProperties().toString())
                .findFirst().orElse("");
    }

    static Progress progress(int attempt, int epoch, long globalStep, double loss) {
        Progress p = new Progress();
        p.attempt = attempt;
        p.epoch = epoch;
        p.totalEpochs = 2;
        p.globalStep = globalStep;
        p.step = globalStep % 50;
        p.stepsPerEpoch = 50L;
        p.percent = (double) globalStep;
        p.trainLoss = loss;
        p.updateTime = "2026-01-01T00:00:00Z";
        return p;
    }

    static EvalStatus eval(int epoch, double top1) {
        EvalStatus e = new EvalStatus();
        e.epoch = epoch;
        e.top1 = top1;
        e.top5 = 99.0;
        e.bestTop1 = top1;
        e.bestEpoch = epoch;
        return e;
    }

    static CheckpointStatus checkpoint(int epoch) {
        CheckpointStatus c = new CheckpointStatus();
        c.epoch = epoch;
        c.path = "/output/checkpoint-" + epoch + ".safetensors";
        c.time = "2026-01-01T00:00:00Z";
        return c;
    }
}
