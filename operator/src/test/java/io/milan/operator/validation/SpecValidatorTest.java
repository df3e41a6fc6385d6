package io.milan.operator.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.milan.api.MilanPretrain;
import io.milan.operator.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecValidatorTest {
    private final MilanPretrain run = Fixtures.pretrain("pretrain-vit-base.yaml");

    @Test
    void theExamplesAreValid() {
        assertEquals(List.of(), SpecValidator.validate(run.getSpec(), null));
        assertEquals(List.of(), SpecValidator.validate(
                Fixtures.pretrain("quickstart-cpu-pretrain.yaml").getSpec(), null));
    }

    @Test
    void eachErrorNamesItsField() {
        run.getSpec().inputSize = 100;
        run.getSpec().gpuResourceName = "gpu";
        run.getSpec().queueName = "not a label";
        run.getSpec().imagePullPolicy = "Sometimes";
        run.getSpec().env = List.of(new EnvVar("FOO", "1", null), new EnvVar("MASTER_ADDR", "x", null));
        run.getSpec().output.path = "/data/imagenet";

        assertEquals(List.of(
                "spec.inputSize 100 must be a multiple of the patch size 16 (the default of vit_base; set"
                        + " spec.patchSize)",
                "spec.gpuResourceName 'gpu' must be a domain-qualified extended resource name such as nvidia.com/gpu",
                "spec.queueName 'not a label' must be a valid label value (at most 63 alphanumerics, '-', '_' or"
                        + " '.')",
                "spec.imagePullPolicy 'Sometimes' must be Always, IfNotPresent or Never",
                "spec.env[1].name MASTER_ADDR is set by the operator and cannot be overridden",
                "spec.output.path /data/imagenet is also the mount path of spec.dataset; each mounted location needs"
                        + " its own path"),
                SpecValidator.validate(run.getSpec(), null));
    }
}
