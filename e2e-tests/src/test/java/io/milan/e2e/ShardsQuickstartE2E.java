package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.milan.api.MilanPretrain;
import io.milan.api.ObjectStorage;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The CPU quickstart on object storage, against the cluster's own S3 server (MinIO, {@link InClusterMinio}): a bucket
 * of its own, a credentials Secret the test creates from MinIO's root credentials, and a MilanPretrain with 2 pods
 * whose output is {@code s3://<bucket>/pretrain} without any claim (the pods' output directory is an emptyDir).
 * It must succeed with {@code status.checkpoint} naming the last epoch's object, and the bucket must hold that
 * checkpoint (model and optimizer files) and the manifest naming it, with the sizes the manifest records.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShardsQuickstartE2E extends E2ETestBase {
    private static final String PRETRAIN = "s3-quickstart";
    private static final String SECRET = "e2e-s3";
    private static final int EPOCHS = 3;

    @Test
    @Order(1)
    void pretrainWithTwoPodsKeepsItsCheckpointsInTheBucket() throws Exception {
        InClusterMinio minio = InClusterMinio.ensure(cluster);
        String bucket = namespace; // unique per run of the class, and a valid bucket name
        minio.createBucket(bucket);
        minio.credentialsSecret(client, SECRET);
        runs.prepareData();

        StorageLocation output = new StorageLocation("/output", null);
        output.s3 = s3("s3://" + bucket + "/pretrain");
        MilanPretrain run = runs.pretrain(PRETRAIN, EPOCHS, Runs.preparedData(), output);
        client.resources(MilanPretrain.class).resource(run).create();
        RunHistory history = new RunHistory(PRETRAIN, () -> runs.pretrainStatus(PRETRAIN), () -> runs.jobs(PRETRAIN));

        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT);
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(PRETRAIN);
        System.out.println("s3 quickstart pretrain, run history:\n" + history.summary());
        System.out.println("s3 quickstart pretrain: kubectl get mpt -o wide\n" + cluster.kubectl(Duration.ofSeconds(60),
                "get", "mpt", PRETRAIN, "-n", namespace, "-o", "wide").stdout());
        assertEquals(RunPhase.Succeeded, end.phase,
                "the s3 quickstart pretrain did not succeed: " + end.message + context);
        assertEquals(2, end.worldSize, "worldSize" + context);
        assertEquals(0, end.restarts, "restarts" + context);
        List<Pod> pods = runs.pods(PRETRAIN);
        assertEquals(List.of("Succeeded", "Succeeded"), pods.stream().map(p -> p.getStatus().getPhase()).toList(),
                "phases of the run's pods" + context);
        // The output needs no claim: the pods mount only the dataset's.
        List<String> claims = pods.get(0).getSpec().getVolumes().stream()
                .filter(v -> v.getPersistentVolumeClaim() != null)
                .map(v -> v.getPersistentVolumeClaim().getClaimName()).distinct().toList();
        assertEquals(List.of(Runs.DATA_CLAIM), claims, "claims of a trainer pod" + context);

        // status.checkpoint names the last epoch's object, and said so while the run went on.
        String prefix = "s3://" + bucket + "/pretrain/";
        assertTrue(history.statuses().stream().anyMatch(s -> s.phase == RunPhase.Running && s.checkpoint != null
                && s.checkpoint.path != null && s.checkpoint.path.startsWith(prefix)),
                "no s3:// checkpoint under " + prefix + " was seen in status while Running" + context);
        assertEquals(EPOCHS - 1, end.checkpoint.epoch, "the last checkpoint is of the last epoch" + context);
        assertEquals(prefix + "checkpoint-" + (EPOCHS - 1) + ".safetensors", end.checkpoint.path,
                "status.checkpoint.path" + context);

        // The bucket holds it, and its manifest names it with the objects' sizes.
        Map<String, Long> objects = minio.list(bucket, "pretrain/");
        System.out.println("s3 quickstart pretrain: objects under " + prefix);
        objects.forEach((k, v) -> System.out.printf("  %10d  %s%n", v, k));
        String[] location = InClusterMinio.split(end.checkpoint.path);
        assertTrue(minio.exists(location[0], location[1]), end.checkpoint.path + " does not exist in the bucket");
        JsonNode manifest = new ObjectMapper().readTree(minio.getText(bucket, "pretrain/checkpoints.json"));
        JsonNode newest = manifest.path("checkpoints").path(0);
        assertEquals(EPOCHS - 1, newest.path("epoch").asInt(-1), "the manifest's newest checkpoint:\n" + manifest);
        List<String> files = newest.path("files").findValuesAsText("name");
        String last = "checkpoint-" + (EPOCHS - 1);
        assertEquals(List.of(last + ".optim.safetensors", last + ".safetensors"), files.stream().sorted().toList(),
                "files of the manifest's newest checkpoint:\n" + manifest);
        for (JsonNode f : newest.path("files")) {
            assertEquals(f.path("size").asLong(), objects.get("pretrain/" + f.path("name").asText()),
                    "size of " + f.path("name").asText() + " in the bucket vs the manifest:\n" + manifest);
        }
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
