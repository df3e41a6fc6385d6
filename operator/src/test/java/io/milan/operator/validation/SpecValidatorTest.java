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
        run.getSpec().shmSize = "8 GB";

        assertEquals(List.of(
                "spec.inputSize 100 must be a multiple of the patch size 16 (the default of vit_base; set"
                        + " spec.patchSize)",
                "spec.gpuResourceName 'gpu' must be a domain-qualified extended resource name such as nvidia.com/gpu",
                "spec.queueName 'not a label' must be a valid label value (at most 63 alphanumerics, '-', '_' or"
                        + " '.')",
                "spec.imagePullPolicy 'Sometimes' must be Always, IfNotPresent or Never",
                "spec.shmSize '8 GB' must be a Kubernetes quantity such as 8Gi or 512Mi",
                "spec.env[1].name MASTER_ADDR is set by the operator and cannot be overridden",
                "spec.output.path /data/imagenet is also the mount path of spec.dataset; each mounted location needs"
                        + " its own path"),
                SpecValidator.validate(run.getSpec(), null));
    }

    @Test
    void theLaunchersPerProcessNamesAndNnodesAreReservedToo() {
        run.getSpec().env = List.of(new EnvVar("RANK", "0", null), new EnvVar("LOCAL_RANK", "0", null),
                new EnvVar("LOCAL_WORLD_SIZE", "8", null), new EnvVar("NNODES", "1", null),
                new EnvVar("WORLD_SIZE", "8", null), new EnvVar("NPROC_PER_NODE", "8", null));
        assertEquals(List.of(
                "spec.env[0].name RANK is set by the trainer's launcher, per process, and cannot"
                        + " be overridden",
                "spec.env[1].name LOCAL_RANK is set by the trainer's launcher, per process, and cannot"
                        + " be overridden",
                "spec.env[2].name LOCAL_WORLD_SIZE is set by the trainer's launcher, per process, and cannot"
                        + " be overridden",
                "spec.env[3].name NNODES is set by the operator and cannot be overridden",
                "spec.env[4].name WORLD_SIZE is set by the operator and cannot be overridden",
                "spec.env[5].name NPROC_PER_NODE is set by the operator and cannot be overridden"),
                SpecValidator.validate(run.getSpec(), null));
    }

    @Test
    void shmSizeMustBeAPositiveQuantity() {
        for (String ok : List.of("8Gi", "512Mi", "1.5Gi", "2G", "1e9", "1073741824", "64M")) {
            run.getSpec().shmSize = ok;
            assertEquals(List.of(), SpecValidator.validate(run.getSpec(), null), ok);
        }
        for (String bad : List.of("", "8GiB", "eight", "8 Gi", "Gi", "1.2.3Gi", "8gi")) {
            run.getSpec().shmSize = bad;
            assertEquals(List.of("spec.shmSize '" + bad + "' must be a Kubernetes quantity such as 8Gi or 512Mi"),
                    SpecValidator.validate(run.getSpec(), null), bad);
        }
        for (String notPositive : List.of("0", "0Gi", "0.0", "-1Gi")) {
            run.getSpec().shmSize = notPositive;
            assertEquals(List.of("spec.shmSize '" + notPositive + "' must be greater than zero"),
                    SpecValidator.validate(run.getSpec(), null), notPositive);
        }
    }
}
