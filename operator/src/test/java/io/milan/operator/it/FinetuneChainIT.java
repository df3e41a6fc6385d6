package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.CheckpointStatus;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.ObjectStorage;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import io.milan.api.report.RunReference;
import io.milan.api.report.StatusReporter;
import io.milan.testsupport.Await;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A fine-tune that references a pretrain waits for it, then starts from the checkpoint the pretrain reported. */
@WithLocalCluster
class FinetuneChainIT {
    private static KubernetesClient client;
    private static TestCluster cluster;
    private static InProcessOperator operator;

    @BeforeAll
    static void start(KubernetesClient c, TestCluster tc) {
        client = c;
        cluster = tc;
        operator = InProcessOperator.startRestricted(client, cluster.namespace());
    }

    @AfterAll
    static void stop() {
        operator.close();
        Claims.deleteVolumes(client, cluster.namespace());
    }

    @Test
    void theFinetuneWaitsForItsPretrainThenStartsFromItsFinalCheckpoint() {
        Claims.createBound(client, cluster.namespace(), "pt-output");
        MilanPretrain pretrain = TestRuns.pretrain("encoder", 1);
        pretrain.getSpec().output = new StorageLocation("/output", "pt-output");
        client.resource(TestRuns.finetune("classifier", "encoder")).create();

        RunStatus waiting = awaitStatus(client, MilanFinetune.class, "classifier", "waiting for the pretrain",
                s -> s.phase == RunPhase.Pending && s.message != null && s.message.contains("does not exist"));
        assertTrue(waiting.message.contains("MilanPretrain encoder"), waiting.message);

        client.resource(pretrain).create();
        awaitPhase(client, MilanPretrain.class, "encoder", RunPhase.Running);
        RunStatus stillWaiting = awaitStatus(client, MilanFinetune.class, "classifier", "waiting on phase Running",
                s -> s.message != null && s.message.contains("(phase: Running)"));
        assertEquals(RunPhase.Pending, stillWaiting.phase);
        assertTrue(Cluster.jobsOfRun(client, "classifier-ft").isEmpty(), "no pod group while waiting");

        // The pretrain's trainer reports its last checkpoint, then its pods complete.
        reportCheckpoint("encoder", 2, "/output/checkpoint-2.safetensors");
        Cluster.completeAllPods(client, "encoder-a1", 1);
        awaitPhase(client, MilanPretrain.class, "encoder", RunPhase.Succeeded);

        RunStatus started = awaitStatus(client, MilanFinetune.class, "classifier", "pod group created",
                s -> s.podGroup != null);
        assertEquals("/milan/pretrained/checkpoint-2.safetensors", started.pretrainedCheckpoint);
        Job job = Cluster.job(client, "classifier-ft-a1");
        var pod = job.getSpec().getTemplate().getSpec();
        List<String> args = pod.getContainers().get(0).getArgs();
        assertEquals(List.of("launch", "--nproc_per_node", "1", "finetune"), args.subList(0, 4));
        assertEquals("/milan/pretrained/checkpoint-2.safetensors", args.get(args.indexOf("--finetune") + 1));
        Volume pretrained = pod.getVolumes().stream().filter(v -> v.getName().equals("pretrained")).findFirst()
                .orElseThrow();
        assertEquals("pt-output", pretrained.getPersistentVolumeClaim().getClaimName());
        assertEquals(Boolean.TRUE, pretrained.getPersistentVolumeClaim().getReadOnly());
        awaitPhase(client, MilanFinetune.class, "classifier", RunPhase.Running);
    }

    @Test
    void aRestartedFinetuneStartsFromTheRecordedCheckpointAfterItsPretrainIsGone() {
        Claims.createBound(client, cluster.namespace(), "gone-output");
        MilanPretrain pretrain = TestRuns.pretrain("gone", 1);
        pretrain.getSpec().output = new StorageLocation("/output", "gone-output");
        client.resource(pretrain).create();
        MilanFinetune finetune = TestRuns.finetune("survivor", "gone");
        finetune.getSpec().restartPolicy.maxRestarts = 1;
        client.resource(finetune).create();
        awaitPhase(client, MilanPretrain.class, "gone", RunPhase.Running);
        reportCheckpoint("gone", 1, "/output/checkpoint-1.safetensors");
        Cluster.completeAllPods(client, "gone-a1", 1);
        awaitPhase(client, MilanFinetune.class, "survivor", RunPhase.Running);

        // The pretrain goes (its ttlSecondsAfterFinished, or a user); its output claim is the user's and stays.
        client.resource(pretrain).delete();
        Await.until("MilanPretrain gone deleted", Cluster.TIMEOUT,
                () -> Cluster.get(client, MilanPretrain.class, "gone"), p -> p == null);
        Cluster.endPod(client, Cluster.awaitRunningPods(client, "survivor-ft-a1", 1).get(0), "Failed", 1);

        RunStatus second = awaitStatus(client, MilanFinetune.class, "survivor", "attempt 2 running",
                s -> s.attempt != null && s.attempt == 2 && s.phase == RunPhase.Running);
        assertEquals("/milan/pretrained/checkpoint-1.safetensors", second.pretrainedCheckpoint);
        var pod = Cluster.job(client, "survivor-ft-a2").getSpec().getTemplate().getSpec();
        List<String> args = pod.getContainers().get(0).getArgs();
        assertEquals("/milan/pretrained/checkpoint-1.safetensors", args.get(args.indexOf("--finetune") + 1));
        assertEquals("gone-output", pod.getVolumes().stream().filter(v -> v.getName().equals("pretrained"))
                .findFirst().orElseThrow().getPersistentVolumeClaim().getClaimName());
    }

    /**
     * Everything in object storage: a pretrain streaming its dataset from a bucket keeps its checkpoints only in
     * another; the fine-tune referencing it starts from the final checkpoint's object, read with the pretrain's
     * connection and Secret (its own variables, no volume), recorded in its status.
     */
    @Test
    void aFinetuneStartsFromThePretrainsCheckpointInItsBucket() {
        MilanPretrain pretrain = TestRuns.pretrain("bucket-encoder", 1);
        pretrain.getSpec().dataset = new StorageLocation();
        pretrain.getSpec().dataset.s3 = s3("s3://datasets/fashion-mnist", "datasets-read-only");
        pretrain.getSpec().output = new StorageLocation("/milan/output", null);
        pretrain.getSpec().output.s3 = s3("s3://milan/bucket-encoder", "milan-s3");
        client.resource(pretrain).create();
        client.resource(TestRuns.finetune("bucket-classifier", "bucket-encoder")).create();
        awaitPhase(client, MilanPretrain.class, "bucket-encoder", RunPhase.Running);
        var pretrainPod = Cluster.job(client, "bucket-encoder-a1").getSpec().getTemplate().getSpec();
        List<String> pretrainArgs = pretrainPod.getContainers().get(0).getArgs();
        assertEquals("s3://datasets/fashion-mnist", pretrainArgs.get(pretrainArgs.indexOf("--data_path") + 1));
        assertEquals("datasets-read-only", secretOf(pretrainPod.getContainers().get(0).getEnv(),
                "MILAN_S3_DATASET_SECRET_ACCESS_KEY"));
        assertTrue(pretrainPod.getVolumes().stream().noneMatch(v -> v.getName().equals("dataset")));

        reportCheckpoint("bucket-encoder", 2, "s3://milan/bucket-encoder/checkpoint-2.safetensors");
        Cluster.completeAllPods(client, "bucket-encoder-a1", 1);
        awaitPhase(client, MilanPretrain.class, "bucket-encoder", RunPhase.Succeeded);

        RunStatus started = awaitStatus(client, MilanFinetune.class, "bucket-classifier", "pod group created",
                s -> s.podGroup != null);
        assertEquals("s3://milan/bucket-encoder/checkpoint-2.safetensors", started.pretrainedCheckpoint);
        assertEquals("milan-s3", started.pretrainedVolume.s3.credentialsSecret, "recorded for later attempts");
        var pod = Cluster.job(client, "bucket-classifier-ft-a1").getSpec().getTemplate().getSpec();
        List<String> args = pod.getContainers().get(0).getArgs();
        assertEquals("s3://milan/bucket-encoder/checkpoint-2.safetensors", args.get(args.indexOf("--finetune") + 1));
        var env = pod.getContainers().get(0).getEnv();
        assertEquals("milan-s3", secretOf(env, "MILAN_S3_PRETRAINED_ACCESS_KEY_ID"));
        assertEquals("http://minio.storage:9000", env.stream().filter(e -> e.getName()
                .equals("MILAN_S3_PRETRAINED_ENDPOINT")).findFirst().orElseThrow().getValue());
        assertTrue(pod.getVolumes().stream().noneMatch(v -> v.getName().equals("pretrained")), "nothing to mount");
        awaitPhase(client, MilanFinetune.class, "bucket-classifier", RunPhase.Running);
    }

    private static ObjectStorage s3(String url, String secret) {
        ObjectStorage s = new ObjectStorage();
        s.url = url;
        s.endpoint = "http://minio.storage:9000";
        s.credentialsSecret = secret;
        return s;
    }

    private static String secretOf(List<EnvVar> env, String name) {
        return env.stream().filter(e -> e.getName().equals(name)).findFirst().orElseThrow().getValueFrom()
                .getSecretKeyRef().getName();
    }

    @Test
    void aFailedPretrainFailsTheFinetuneWaitingForIt() {
        MilanPretrain pretrain = TestRuns.pretrain("broken-encoder", 1);
        pretrain.getSpec().restartPolicy.maxRestarts = 0;
        client.resource(pretrain).create();
        client.resource(TestRuns.finetune("orphan", "broken-encoder")).create();
        awaitPhase(client, MilanPretrain.class, "broken-encoder", RunPhase.Running);

        Cluster.endPod(client, Cluster.awaitRunningPods(client, "broken-encoder-a1", 1).get(0), "Failed", 2);
        awaitPhase(client, MilanPretrain.class, "broken-encoder", RunPhase.Failed);
        RunStatus failed = awaitPhase(client, MilanFinetune.class, "orphan", RunPhase.Failed);
        assertTrue(failed.message.startsWith("MilanPretrain broken-encoder failed"), failed.message);
        assertEquals("PretrainFailed", RunLifecycleIT.reason(failed, "Failed"));
    }

    /** As the pretrain's trainer does, under its own identity: reports its latest checkpoint in the run's status. */
    private static void reportCheckpoint(String pretrain, int epoch, String path) {
        try (StatusReporter reporter = TrainerIdentity.reporterFor(client, cluster.namespace(),
                new RunReference("MilanPretrain", pretrain, cluster.namespace()))) {
            CheckpointStatus last = new CheckpointStatus();
            last.epoch = epoch;
            last.path = path;
            last.time = "2026-01-01T00:00:00Z";
            reporter.checkpoint(last);
            reporter.flush(Duration.ofSeconds(30));
        }
    }
}
