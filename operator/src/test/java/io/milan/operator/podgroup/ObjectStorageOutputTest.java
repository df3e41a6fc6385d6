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

/** spec.output.s3: the trainer's --checkpoint_uri and its environment, credentials only as Secret references. */
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
    void inputsInObjectStorageAndOverridesOfItsVariablesAreRefused() {
        MilanPretrain run = Fixtures.pretrain("quickstart-cpu-pretrain.yaml");
        run.getSpec().dataset.s3 = s3("s3://milan/data", null, null);
        run.getSpec().env = List.of(new EnvVar(ObjectStorage.ENV_ACCESS_KEY_ID, "x", null));
        List<String> errors = SpecValidator.validate(run.getSpec(), null);
        assertTrue(errors.stream().anyMatch(e -> e.startsWith("spec.dataset.s3 is not supported")), errors.toString());
        assertTrue(errors.stream().anyMatch(e -> e.contains("spec.env[0].name " + ObjectStorage.ENV_ACCESS_KEY_ID)),
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
