package io.milan.trainer.dist;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.Masking;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.model.TeacherOutput;
import io.milan.trainer.model.ViTConfig;
import io.milan.trainer.optim.AdamW;
import io.milan.trainer.optim.Gradients;
import io.milan.trainer.optim.ParamGroups;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A few MILAN pretraining steps of a tiny model (the project's ViT encoder, prompting decoder, cosine feature
 * loss and AdamW with its parameter groups) under data parallelism: a process's share of every global batch is
 * split over its replicas, gradients are averaged over replicas and processes, AdamW steps replica 0, the other
 * replicas copy it. The same code with one process and one replica is the reference.
 *
 * <p>Everything random (images, teacher targets, mask noise) is a function of the global sample index, so any
 * split sees exactly the samples one device would.
 */
final class MilanTraining {

    static final PretrainConfig CONFIG = new PretrainConfig(new ViTConfig(16, 4, 3, 16, 2, 2, 4, 0),
            new DecoderConfig(12, 2, 3, 4, 8, true));
    static final int STEPS = 4;
    static final int GLOBAL_BATCH = 8;
    static final double LR = 1e-3;
    static final double MASK_RATIO = 0.75;
    /**
     * Adam's ε, above float rounding noise. Some gradients are mathematically zero (the key bias of attention:
     * softmax ignores a constant added to every logit) and come out as ~1e-10 noise whose value depends on the
     * summation order; with the usual ε = 1e-8, Adam's first steps turn that noise into lr-sized moves of random
     * sign, different for every split (PyTorch DDP vs one GPU alike). With ε = 1e-6 such noise moves a weight by
     * ~1e-4·lr while every real gradient here (≥ 1e-5) still takes near-full Adam steps.
     */
    static final double ADAM_EPS = 1e-6;

    private MilanTraining() {
    }

    /** Trains and returns replica 0's trainable weights, in name order. */
    static List<float[]> run(ProcessGroup group, int replicaCount, NDManager manager) {
        List<MilanPretrainModel> models = new ArrayList<>();
        // Only rank 0 starts from the reference's seed; the broadcast must bring the others in line.
        models.add(MilanPretrainModel.create(CONFIG, manager, group.isPrimary() ? 1 : 100 + group.rank()));
        for (int i = 1; i < replicaCount; i++) {
            models.add(MilanPretrainModel.create(CONFIG, manager.newSubManager(), 200 + i));
        }
        Map<String, NDArray> primary = models.get(0).parameters().asMap();
        ArrayBroadcast.fromPrimary(group, primary);
        List<Map<String, NDArray>> replicaParams = new ArrayList<>();
        models.forEach(m -> replicaParams.add(m.parameters().asMap()));
        ReplicaGroup replicas = new ReplicaGroup(replicaParams);
        replicas.copyWeightsFromPrimary();

        AdamW adam = new AdamW(ParamGroups.pretrain(models.get(0).parameters().shapes(),
                models.get(0).parameters().trainableNames(), 0.05), 0.9, 0.95, ADAM_EPS, manager);
        int perProcess = GLOBAL_BATCH / group.worldSize();
        int first = group.rank() * perProcess;
        int patches = CONFIG.encoder().numPatches();
        try (GradientBucketer bucketer = new GradientBucketer(primary, 16 * 1024)) {
            for (int step = 0; step < STEPS; step++) {
                try (NDManager scratch = manager.newSubManager()) {
                    NDList mine = samples(scratch, step, first, perProcess);
                    List<NDList> slices = replicas.split(mine);
                    for (int r = 0; r < replicaCount; r++) {
                        backward(models.get(r), slices.get(r), patches);
                    }
                }
                replicas.averageGradients();
                bucketer.allReduceMean(group);
                adam.step(primary, LR);
                Gradients.zero(primary, models.get(0).parameters().trainableNames());
                replicas.copyWeightsFromPrimary();
            }
        }
        List<float[]> weights = new ArrayList<>();
        for (String name : models.get(0).parameters().trainableNames()) {
            weights.add(primary.get(name).toFloatArray());
        }
        return weights;
    }

    /** Replica r's forward and backward on its slice: images, teacher targets, mask noise. */
    private static void backward(MilanPretrainModel model, NDList slice, int patches) {
        NDArray images = slice.get(0);
        int n = (int) images.getShape().get(0);
        // Random masking needs no attention map; the targets belong to the step's scratch manager.
        TeacherOutput teacher = new TeacherOutput(slice.get(1), null);
        try (Masking masking = Masking.random(images.getManager(), n, patches, MASK_RATIO,
                        slice.get(2).toFloatArray());
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(model.forward(images, teacher, masking).loss());
        }
    }

    /** Samples [first, first + count) of step {@code step}'s global batch: images, targets, mask noise. */
    private static NDList samples(NDManager manager, int step, int first, int count) {
        int patches = CONFIG.encoder().numPatches();
        int pixels = 3 * 16 * 16;
        int tokens = (1 + patches) * CONFIG.decoder().outDim();
        float[] images = new float[count * pixels];
        float[] targets = new float[count * tokens];
        float[] noise = new float[count * patches];
        for (int s = 0; s < count; s++) {
            Random random = new Random(step * 1_000_003L + first + s);
            for (int i = 0; i < pixels; i++) {
                images[s * pixels + i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < tokens; i++) {
                targets[s * tokens + i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < patches; i++) {
                noise[s * patches + i] = random.nextFloat();
            }
        }
        return new NDList(manager.create(images, new Shape(count, 3, 16, 16)),
                manager.create(targets, new Shape(count, 1 + patches, CONFIG.decoder().outDim())),
                manager.create(noise, new Shape(count, patches)));
    }
}
