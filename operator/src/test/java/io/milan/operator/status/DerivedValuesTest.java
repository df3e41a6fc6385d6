package io.milan.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.milan.operator.Fixtures;
import org.junit.jupiter.api.Test;

/** The figures each example's comment derives by hand. */
class DerivedValuesTest {
    @Test
    void pretrainViTBase() {
        var d = DerivedValues.of(Fixtures.pretrain("pretrain-vit-base.yaml").getSpec());
        assertEquals(4096, d.effectiveBatchSize());
        assertEquals(2.4e-3, d.effectiveLr(), 1e-12);
        assertEquals(8, d.worldSize(), "1 pod x 8 GPUs, one trainer process each");
    }

    @Test
    void theWorldSizeCountsOneProcessPerGpuOfEveryPod() {
        var spec = Fixtures.pretrain("pretrain-vit-base.yaml").getSpec();
        spec.nodes = 4;
        var d = DerivedValues.of(spec);
        assertEquals(32, d.worldSize());
        assertEquals(256 * 32 * 2, d.effectiveBatchSize());
    }

    @Test
    void quickstartUsesItsAbsoluteLrAndCountsACpuPodAsOneDevice() {
        var d = DerivedValues.of(Fixtures.pretrain("quickstart-cpu-pretrain.yaml").getSpec());
        assertEquals(128, d.effectiveBatchSize());
        assertEquals(1e-3, d.effectiveLr(), 1e-15);
        assertEquals(2, d.worldSize(), "2 CPU pods, one process each");
    }

    @Test
    void finetuneAndLinprobe() {
        var ft = DerivedValues.of(Fixtures.finetune("finetune-vit-large.yaml").getSpec());
        assertEquals(1024, ft.effectiveBatchSize());
        assertEquals(4e-4, ft.effectiveLr(), 1e-12);
        var lp = DerivedValues.of(Fixtures.finetune("linprobe-vit-base.yaml").getSpec());
        assertEquals(16384, lp.effectiveBatchSize());
        assertEquals(3.2, lp.effectiveLr(), 1e-12);
    }

    @Test
    void finetuneDefaultsApplyWhenFieldsAreUnset() {
        var spec = Fixtures.finetune("linprobe-vit-base.yaml").getSpec();
        spec.batchSize = null;
        spec.blr = null;
        var d = DerivedValues.of(spec);
        assertEquals(2048 * 8, d.effectiveBatchSize());
        assertEquals(0.05 * 2048 * 8 / 256, d.effectiveLr(), 1e-12);
    }
}
