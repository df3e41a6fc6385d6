package io.milan.operator.podgroup;

import static io.milan.operator.podgroup.JobRendererTest.after;
import static io.milan.operator.podgroup.JobRendererTest.container;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.milan.api.MilanPretrain;
import io.milan.api.ObjectStorage;
import io.milan.api.StorageLocation;
import io.milan.operator.Fixtures;
import io.milan.operator.validation.SpecValidator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * spec.output.s3 and the inputs' s3: the trainer's flags and environment, credentials only as Secret references.
 */
class ObjectStorageOutputTest {

    @Test
    void anS3OutputBecomesTheCheckpointUriAndSecretReferences() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().output = new StorageLocation("/milan/output", null);
        run.getSpec().output.s3 = s3("s3://milan/runs/quickstart", "http://minio.storage:9000", "milan-s3");
        Container c = container(JobRenderer.render(Fixtures.input(run, 1)));

        assertEquals("s3://milan/runs/quickstart", after(c.getArgs(), "--checkpoint_uri"));
        assertEquals("/milan/output", after(c.getArgs(), "--output_dir"), "the local working copy");
        Map<String, EnvVar> env = c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, Function.identity()));
        assertEquals("http://minio.storage:9000", env.get(ObjectStorage.ENV_ENDPOINT).getValue());
        assertEquals("true", env.get(ObjectStorage.ENV_PATH_STYLE).getValue());
        for (String[] ref : new String[][] {{ObjectStorage.ENV_ACCESS_KEY_ID, "AWS_ACCESS_KEY_ID"},
                {ObjectStorage.ENV_SECRET_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY"}}) {
            EnvVar v = env.get(ref[0]);
            assertNull(v.getValue(), "no value in the pod spec, only a reference");
            assertEquals("milan-s3", v.getValueFrom().getSecretKeyRef().getName());
            assertEquals(ref[1], v.getValueFrom().getSecretKeyRef().getKey());
        }
        assertFalse(RunVolumes.outputIsEphemeral(run.getSpec()), "checkpoints survive in the bucket");
        assertEquals(List.of(), SpecValidator.validate(run.getSpec(), null));
    }

    @Test
    void withoutASecretTheDefaultChainApplies() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().output = new StorageLocation("/milan/output", null);
        run.getSpec().output.s3 = s3("s3://milan/run", null, null);
        Container c = container(JobRenderer.render(Fixtures.input(run, 1)));
        assertTrue(c.getEnv().stream().noneMatch(e -> e.getName().startsWith("MILAN_S3_")), c.getEnv().toString());
        assertEquals("s3://milan/run", after(c.getArgs(), "--checkpoint_uri"));
    }

    @Test
    void inputsInObjectStorageBecomeUrlsWithTheirOwnVariablesAndNoMounts() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().dataset = new StorageLocation();
        run.getSpec().dataset.s3 = s3("s3://datasets/fmnist-shards", "http://minio.storage:9000", "datasets-ro");
        run.getSpec().teacher.weights = new StorageLocation();
        run.getSpec().teacher.weights.s3 = s3("s3://models/clip-vit-base-patch16", null, null);
        run.getSpec().output = new StorageLocation("/milan/output", null);
        run.getSpec().output.s3 = s3("s3://milan/run", "http://minio.storage:9000", "milan-s3");
        assertEquals(List.of(), SpecValidator.validate(run.getSpec(), null));
        Container c = container(JobRenderer.render(Fixtures.input(run, 1)));

        assertEquals("s3://datasets/fmnist-shards", after(c.getArgs(), "--data_path"));
        assertEquals("s3://models/clip-vit-base-patch16", after(c.getArgs(), "--teacher_path"));
        Map<String, EnvVar> env = c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, Function.identity()));
        assertEquals("http://minio.storage:9000", env.get("MILAN_S3_DATASET_ENDPOINT").getValue());
        assertEquals("datasets-ro", env.get("MILAN_S3_DATASET_ACCESS_KEY_ID").getValueFrom().getSecretKeyRef()
                .getName(), "the dataset's own Secret, not the output's");
        assertEquals("milan-s3", env.get(ObjectStorage.ENV_ACCESS_KEY_ID).getValueFrom().getSecretKeyRef().getName());
        // The teacher names no Secret: only its region is set, so the trainer uses the default chain for it
        // rather than falling back to the output's credentials.
        assertEquals("us-east-1", env.get("MILAN_S3_TEACHER_REGION").getValue());
        assertTrue(env.keySet().stream().noneMatch(n -> n.startsWith("MILAN_S3_TEACHER_ACCESS")), env.keySet()
                .toString());
        assertTrue(c.getVolumeMounts().stream().noneMatch(m -> m.getName().equals("dataset")
                || m.getName().equals("teacher")), "nothing to mount for an input in object storage");
    }

    @Test
    void anInputWithBothPathAndS3AndOverridesOfTheVariablesAreRefused() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().dataset.s3 = s3("s3://milan/data", null, null);
        run.getSpec().env = List.of(new EnvVar(ObjectStorage.ENV_ACCESS_KEY_ID, "x", null),
                new EnvVar("MILAN_S3_DATASET_SECRET_ACCESS_KEY", "x", null));
        List<String> errors = SpecValidator.validate(run.getSpec(), null);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("spec.dataset sets both path and s3")),
                errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.contains("spec.env[0].name " + ObjectStorage.ENV_ACCESS_KEY_ID)),
                errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.contains("spec.env[1].name MILAN_S3_DATASET_SECRET_ACCESS_KEY")),
                errors.toString());
    }

    private static ObjectStorage s3(String url, String endpoint, String secret) {
        ObjectStorage s = new ObjectStorage();
        s.url = url;
        s.endpoint = endpoint;
        s.pathStyle = endpoint != null ? Boolean.TRUE : null;
        s.credentialsSecret = secret;
        return s;
    }
}
