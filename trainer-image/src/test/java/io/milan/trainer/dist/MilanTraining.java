package io.milan.trainer.dist;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.Layers;
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
 * loss and AdamW with its parameter groups) under data parallelism, the way the trainer's loop runs it: rank 0's
 * initial weights broadcast, each rank's share of every global batch, gradients averaged over the ranks by
 * libtorch's Reducer during the last micro-batch's backward, one AdamW step. The same code with one process and
 * no accumulation is the reference.
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

    /**
     * Trains and returns this rank's trainable weights, in name order: each step's global batch is split over
     * the ranks and, within a rank, over {@code accumulation} micro-batches whose gradients add up before the
     * one all-reduce (buckets of {@code bucketBytes}, so that even this model is reduced in several).
     */
    static List<float[]> run(ProcessGroup group, int accumulation, long bucketBytes, NDManager manager) {
        // Only rank 0 starts from the reference's seed; the broadcast must bring the others in line.
        MilanPretrainModel model = MilanPretrainModel.create(CONFIG, manager,
                group.isPrimary() ? 1 : 100 + group.rank());
        Map<String, NDArray> params = model.parameters().asMap();
        group.broadcastFromPrimary(params);
        AdamW adam = new AdamW(ParamGroups.pretrain(model.parameters().shapes(),
                model.parameters().trainableNames(), 0.05), 0.9, 0.95, ADAM_EPS, manager);
        int perProcess = GLOBAL_BATCH / group.worldSize();
        int perMicroBatch = perProcess / accumulation;
        int patches = CONFIG.encoder().numPatches();
        try (GradientSync sync = group.gradientSync(params, bucketBytes)) {
            if (group.worldSize() > 1 && sync.layout().size() < 2) {
                throw new AssertionError("expected several buckets, got " + sync.layout());
            }
            for (int step = 0; step < STEPS; step++) {
                for (int micro = 0; micro < accumulation; micro++) {
                    int first = group.rank() * perProcess + micro * perMicroBatch;
                    try (NDManager scratch = manager.newSubManager()) {
                        backward(model, samples(scratch, step, first, perMicroBatch), patches, 1.0 / accumulation,
                                sync, micro == accumulation - 1);
                    }
                }
                adam.step(params, LR);
                Gradients.zero(params, model.parameters().trainableNames());
            }
        }
        List<float[]> weights = new ArrayList<>();
        for (String name : model.parameters().trainableNames()) {
            weights.add(params.get(name).toFloatArray());
        }
        model.close();
        return weights;
    }

    /** Forward and backward of one micro-batch: images, teacher targets, mask noise. */
    private static void backward(MilanPretrainModel model, NDList slice, int patches, double lossScale,
            GradientSync sync, boolean reduce) {
        NDArray images = slice.get(0);
        int n = (int) images.getShape().get(0);
        // Random masking needs no attention map; the targets belong to the step's scratch manager.
        TeacherOutput teacher = new TeacherOutput(slice.get(1), null);
        try (Masking masking = Masking.random(images.getManager(), n, patches, MASK_RATIO,
                        slice.get(2).toFloatArray());
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = model.forward(images, teacher, masking).loss();
            sync.backward(reduce, () -> collector.backward(Layers.scale(loss, lossScale)));
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
