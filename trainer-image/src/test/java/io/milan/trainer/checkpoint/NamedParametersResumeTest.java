package io.milan.trainer.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.model.NamedParameters;
import io.milan.trainer.optim.AdamW;
import io.milan.trainer.optim.Gradients;
import io.milan.trainer.optim.ParamGroup;
import io.milan.trainer.optim.ParamGroups;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract with the model's {@link NamedParameters}: groups from its names and shapes, AdamW over its
 * map, a checkpoint of it, and a resumed run that continues bit-identically to an uninterrupted one.
 */
class NamedParametersResumeTest {

    @TempDir
    Path dir;

    @Test
    void resumedTrainingMatchesUninterruptedTraining() throws IOException {
        try (NDManager manager = NDManager.newBaseManager()) {
            NamedParameters straight = tinyModel(manager);
            AdamW straightAdam = AdamW.forPretraining(groups(straight), manager);
            for (int step = 0; step < 4; step++) {
                trainStep(straight, straightAdam, step, manager);
            }

            NamedParameters first = tinyModel(manager);
            AdamW firstAdam = AdamW.forPretraining(groups(first), manager);
            for (int step = 0; step < 2; step++) {
                trainStep(first, firstAdam, step, manager);
            }
            CheckpointStore store = new CheckpointStore(dir);
            store.save(new Checkpoint(1, firstAdam.stepCount(), first.asMap(), firstAdam.state(),
                    Map.of(CheckpointStore.SEED, "0")));

            NamedParameters resumed = tinyModel(manager);
            AdamW resumedAdam = AdamW.forPretraining(groups(resumed), manager);
            Checkpoint checkpoint = store.resume("auto", manager).orElseThrow();
            List<String> unused = resumed.copyFrom(checkpoint.model());
            assertEquals(List.of(), unused);
            resumedAdam.loadState(checkpoint.optimizer(), resumed.asMap());
            for (int step = 2; step < 4; step++) {
                trainStep(resumed, resumedAdam, step, manager);
            }
            for (String name : straight.asMap().keySet()) {
                assertEquals(straight.get(name).toByteBuffer(), resumed.get(name).toByteBuffer(), name);
            }
        }
    }

    @Test
    void frozenPositionTableIsInNoGroup() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NamedParameters params = tinyModel(manager);
            List<ParamGroup> groups = groups(params);
            assertFalse(groups.stream().anyMatch(g -> g.paramNames().contains("pos_embed")));
            assertEquals(List.of("blocks.0.norm1.bias"), groups.get(0).paramNames());
            assertEquals(List.of("cls_token", "blocks.0.attn.qkv.weight"), groups.get(1).paramNames());
        }
    }

    private static List<ParamGroup> groups(NamedParameters params) {
        return ParamGroups.pretrain(params.shapes(), params.trainableNames(), 0.05);
    }

    private static NamedParameters tinyModel(NDManager manager) {
        return NamedParameters.builder(manager)
                .add("cls_token", new Shape(1, 1, 2), new float[] {0.1f, -0.2f}, true)
                .add("pos_embed", new Shape(1, 2, 2), new float[] {0f, 1f, 0f, 1f}, false)
                .add("blocks.0.attn.qkv.weight", new Shape(3, 2), new float[] {0.5f, -1f, 2f, 0.25f, 1.5f, -0.75f},
                        true)
                .add("blocks.0.norm1.bias", new Shape(2), new float[] {0.3f, -0.3f}, true)
                .build();
    }

    /** One step of a made-up quadratic loss whose gradient depends on the step and the weights. */
    private static void trainStep(NamedParameters params, AdamW adam, int step, NDManager manager) {
        Map<String, NDArray> map = params.asMap();
        Gradients.zero(map, params.trainableNames());
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = params.get("blocks.0.attn.qkv.weight").square().sum().mul(step + 1)
                    .add(params.get("cls_token").mul(manager.create(new float[] {1f, -2f}).reshape(1, 1, 2)).sum())
                    .add(params.get("blocks.0.norm1.bias").square().sum());
            collector.backward(loss);
        }
        adam.step(map, 1e-2 * (step + 1));
    }
}
