package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.ObjectStorage;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The CPU quickstart from WebDataset shards in the cluster's own S3 server (MinIO, {@link InClusterMinio}), with no
 * claim at all: a bucket of its own and a credentials Secret the test creates from MinIO's root credentials; a pod
 * of the trainer image writes the suite's Fashion-MNIST subset as shards to {@code s3://<bucket>/fashion-mnist}
 * ({@code milan-trainer shard --to s3://...}); the MilanPretrain (2 pods) streams them and keeps its checkpoints in
 * {@code s3://<bucket>/pretrain} (its output directory is an emptyDir). It must succeed with {@code status.checkpoint}
 * naming the last epoch's object, which the bucket holds, listed in the manifest with the sizes the bucket has. Then a
 * MilanFinetune from it (pretrainRef: the encoder comes from the bucket), on the same shards, writing to
 * {@code s3://<bucket>/finetune}, must succeed above an accuracy floor ({@code -Dmilan.e2e.top1Floor}, default
 * 20 %, twice chance: this class tests the storage path; QuickstartE2E holds the accuracy bar).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShardsQuickstartE2E extends E2ETestBase {
    private static final String PRETRAIN = "shards-quickstart";
    private static final String FINETUNE = "shards-quickstart-finetune";
    private static final String SECRET = "e2e-s3";
    private static final int EPOCHS = 3;
    private static final int SHARD_SIZE = 100; // samples: 15 train shards, 5 val shards
    private static final double TOP1_FLOOR = Double.parseDouble(System.getProperty("milan.e2e.top1Floor", "20"));

    private InClusterMinio minio;
    private String bucket;

    @Test
    @Order(1)
    void pretrainWithTwoPodsFromShardsKeepsItsCheckpointsInTheBucket() throws IOException {
        minio = InClusterMinio.ensure(cluster);
        bucket = namespace; // unique per run of the class, and a valid bucket name
        minio.createBucket(bucket);
        minio.credentialsSecret(client, SECRET);
        String data = "s3://" + bucket + "/fashion-mnist";
        String shardLog = runs.prepareShards(data, InClusterMinio.ENDPOINT, SECRET, SHARD_SIZE);
        shardLog.lines().filter(l -> l.startsWith("shard:"))
                .forEach(l -> System.out.println("shards quickstart: " + l));
        assertShards("fashion-mnist/train/", 10 * Runs.TRAIN_PER_CLASS);
        assertShards("fashion-mnist/val/", 10 * Runs.VAL_PER_CLASS);

        MilanPretrain run = runs.pretrain(PRETRAIN, EPOCHS, s3Input(data), s3Output("pretrain"));
        client.resources(MilanPretrain.class).resource(run).create();
        RunHistory history = new RunHistory(PRETRAIN, () -> runs.pretrainStatus(PRETRAIN), () -> runs.jobs(PRETRAIN));

        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT);
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(PRETRAIN);
        System.out.println("shards quickstart pretrain, run history:\n" + history.summary());
        System.out.println("shards quickstart pretrain: kubectl get mpt -o wide\n" + cluster.kubectl(
                Duration.ofSeconds(60), "get", "mpt", PRETRAIN, "-n", namespace, "-o", "wide").stdout());
        assertEquals(RunPhase.Succeeded, end.phase,
                "the shards quickstart pretrain did not succeed: " + end.message + context);
        assertEquals(2, end.worldSize, "worldSize" + context);
        assertEquals(0, end.restarts, "restarts" + context);
        List<Pod> pods = runs.pods(PRETRAIN);
        assertEquals(List.of("Succeeded", "Succeeded"), pods.stream().map(p -> p.getStatus().getPhase()).toList(),
                "phases of the run's pods" + context);
        assertNoClaims(pods, context);

        // status.checkpoint names the last epoch's object, and named objects while the run went on.
        String prefix = "s3://" + bucket + "/pretrain/";
        assertTrue(history.statuses().stream().anyMatch(s -> s.phase == RunPhase.Running && s.checkpoint != null
                && s.checkpoint.path != null && s.checkpoint.path.startsWith(prefix)),
                "no s3:// checkpoint under " + prefix + " was seen in status while Running" + context);
        assertEquals(EPOCHS - 1, end.checkpoint.epoch, "the last checkpoint is of the last epoch" + context);
        assertEquals(prefix + "checkpoint-" + (EPOCHS - 1) + ".safetensors", end.checkpoint.path,
                "status.checkpoint.path" + context);
        assertCheckpointInBucket("pretrain/", end);
    }

    @Test
    @Order(2)
    void finetuneFromTheBucketSucceeds() {
        RunStatus pretrain = runs.pretrainStatus(PRETRAIN);
        assertNotNull(pretrain, "the shards quickstart pretrain (previous test) does not exist");
        assertEquals(RunPhase.Succeeded, pretrain.phase, "the fine-tune needs the shards pretrain to succeed");

        MilanFinetune run = runs.finetune(FINETUNE, PRETRAIN, EPOCHS,
                s3Input("s3://" + bucket + "/fashion-mnist"), s3Output("finetune"));
        client.resources(MilanFinetune.class).resource(run).create();
        RunHistory history = new RunHistory(FINETUNE, () -> runs.finetuneStatus(FINETUNE), () -> runs.jobs(FINETUNE));

        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT);
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(FINETUNE);
        System.out.println("shards quickstart fine-tune, run history:\n" + history.summary());
        assertEquals(RunPhase.Succeeded, end.phase,
                "the shards quickstart fine-tune did not succeed: " + end.message + context);
        assertNoClaims(runs.pods(FINETUNE), context);
        assertNotNull(end.pretrainedCheckpoint, "status.pretrainedCheckpoint" + context);
        assertTrue(end.pretrainedCheckpoint.endsWith("checkpoint-" + (EPOCHS - 1) + ".safetensors"),
                "fine-tuned from the pretrain's last checkpoint " + pretrain.checkpoint.path + ", not "
                        + end.pretrainedCheckpoint + context);
        assertTrue(end.checkpoint != null && end.checkpoint.path != null
                && end.checkpoint.path.startsWith("s3://" + bucket + "/finetune/"),
                "status.checkpoint of the fine-tune is in the bucket" + context);
        assertTrue(minio.exists(bucket, InClusterMinio.split(end.checkpoint.path)[1]),
                end.checkpoint.path + " does not exist in the bucket");
        assertNotNull(end.eval, "status.eval" + context);
        System.out.printf("shards quickstart fine-tune: top-1 %.2f %% (best %.2f %% at epoch %d), top-5 %.2f %%,"
                + " from %s, checkpoint %s%n", end.eval.top1, end.eval.bestTop1, end.eval.bestEpoch, end.eval.top5,
                end.pretrainedCheckpoint, end.checkpoint.path);
        assertTrue(end.eval.top1 > TOP1_FLOOR,
                "top-1 " + end.eval.top1 + " % is not above the floor " + TOP1_FLOOR + " %" + context);
    }

    /** The split's shards and manifest are in the bucket, the manifest counting every sample once. */
    private void assertShards(String prefix, int samples) throws IOException {
        Map<String, Long> objects = minio.list(bucket, prefix);
        assertTrue(objects.containsKey(prefix + "shard-000000.tar") && objects.containsKey(prefix + "shards.json"),
                "shards and manifest under s3://" + bucket + "/" + prefix + ": " + objects.keySet());
        JsonNode manifest = new ObjectMapper().readTree(minio.getText(bucket, prefix + "shards.json"));
        assertEquals(samples, manifest.path("samples").asInt(-1), "samples in " + prefix + "shards.json");
        for (JsonNode shard : manifest.path("shards")) {
            assertEquals(shard.path("bytes").asLong(), objects.get(prefix + shard.path("name").asText()),
                    "size of " + shard.path("name").asText() + " in the bucket vs " + prefix + "shards.json");
        }
        System.out.printf("shards quickstart: s3://%s/%s: %d shards, %d samples, %d bytes%n", bucket, prefix,
                manifest.path("shards").size(), samples,
                objects.values().stream().mapToLong(Long::longValue).sum());
    }

    /** The checkpoint of status is in the bucket, and its manifest names it with the objects' sizes. */
    private void assertCheckpointInBucket(String prefix, RunStatus end) throws IOException {
        Map<String, Long> objects = minio.list(bucket, prefix);
        System.out.println("shards quickstart: objects under s3://" + bucket + "/" + prefix);
        objects.forEach((k, v) -> System.out.printf("  %10d  %s%n", v, k));
        String[] location = InClusterMinio.split(end.checkpoint.path);
        assertTrue(minio.exists(location[0], location[1]), end.checkpoint.path + " does not exist in the bucket");
        JsonNode manifest = new ObjectMapper().readTree(minio.getText(bucket, prefix + "checkpoints.json"));
        JsonNode newest = manifest.path("checkpoints").path(0);
        assertEquals(end.checkpoint.epoch, newest.path("epoch").asInt(-1),
                "the manifest's newest checkpoint:\n" + manifest);
        String last = "checkpoint-" + end.checkpoint.epoch;
        List<String> files = newest.path("files").findValuesAsText("name");
        assertEquals(List.of(last + ".optim.safetensors", last + ".safetensors"), files.stream().sorted().toList(),
                "files of the manifest's newest checkpoint:\n" + manifest);
        for (JsonNode f : newest.path("files")) {
            assertEquals(f.path("size").asLong(), objects.get(prefix + f.path("name").asText()),
                    "size of " + f.path("name").asText() + " in the bucket vs the manifest:\n" + manifest);
        }
    }

    /** Neither input nor output needs a claim: the trainer pods mount none. */
    private static void assertNoClaims(List<Pod> pods, String context) {
        for (Pod p : pods) {
            List<String> claims = p.getSpec().getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null)
                    .map(v -> v.getPersistentVolumeClaim().getClaimName()).toList();
            assertEquals(List.of(), claims, "claims of trainer pod " + p.getMetadata().getName() + context);
        }
    }

    /** A dataset prefix (train/ and val/ shards) in the bucket. */
    private static StorageLocation s3Input(String url) {
        StorageLocation location = new StorageLocation();
        location.s3 = s3(url);
        return location;
    }

    /** Checkpoints under {@code s3://<bucket>/<prefix>}, the local working copy in the pod's emptyDir. */
    private StorageLocation s3Output(String prefix) {
        StorageLocation output = new StorageLocation("/output", null);
        output.s3 = s3("s3://" + bucket + "/" + prefix);
        return output;
    }

    /** The in-cluster server, with the credentials Secret this test made. */
    private static ObjectStorage s3(String url) {
        ObjectStorage s3 = new ObjectStorage();
        s3.url = url;
        s3.endpoint = InClusterMinio.ENDPOINT;
        s3.credentialsSecret = SECRET;
        return s3;
    }
}
