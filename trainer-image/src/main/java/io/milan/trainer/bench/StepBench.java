package io.milan.trainer.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.model.FeatureLoss;
import io.milan.trainer.model.Layers;
import io.milan.trainer.model.Masking;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.NamedParameters;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.model.Teacher;
import io.milan.trainer.model.TeacherOutput;
import io.milan.trainer.model.ViTConfig;
import io.milan.trainer.model.VitEncoder;
import io.milan.trainer.optim.AdamW;
import io.milan.trainer.optim.Gradients;
import io.milan.trainer.optim.NonFiniteCheck;
import io.milan.trainer.optim.ParamGroups;
import io.milan.trainer.train.MixedPrecision;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Times training steps on one synthetic batch (no data loading), phase by phase.
 *
 * <p>Pretraining: the step of {@code PretrainRun.microBatch} + its optimizer boundary, with the model's forward
 * ({@link MilanPretrainModel#forward(NDArray, TeacherOutput, Masking)}: encoder.forwardMasked → decoder.forward →
 * FeatureLoss.cosine) called part by part so each part can be timed: teacher forward, masking, encoder forward,
 * decoder forward + loss, backward, AdamW step + zero_grad.
 *
 * <p>Encoder only: the ViT encoder on all tokens with its final norm (timm's VisionTransformer.forward_features),
 * loss = mean of the output, backward, AdamW step — the shape of the PyTorch comparison.
 */
public final class StepBench {

    public static final String TEACHER = "teacher forward";
    public static final String MASKING = "masking";
    public static final String ENCODER = "encoder forward";
    public static final String DECODER = "decoder forward + loss";
    public static final String FORWARD = "encoder forward + loss";
    public static final String BACKWARD = "backward";
    public static final String OPTIMIZER = "optimizer step";

    /** The reference's pretraining weight decay; the lr does not change the cost. */
    private static final double WEIGHT_DECAY = 0.05;
    private static final double LR = 1e-4;

    private StepBench() {
    }

    public static StepResult run(BenchSettings s, NDManager root) throws IOException {
        return run(s, root, null);
    }

    /** As {@link #run(BenchSettings, NDManager)}, with an op profile of the last step per phase (null: none). */
    public static StepResult run(BenchSettings s, NDManager root, Path profileDir) throws IOException {
        OpProfile profile = new OpProfile(profileDir);
        return s.encoderOnly() ? encoderOnly(s, root, profile) : pretrain(s, root, profile);
    }

    private static StepResult pretrain(BenchSettings s, NDManager root, OpProfile profile) throws IOException {
        ViTConfig enc = s.encoder();
        MixedPrecision amp = MixedPrecision.resolve(s.amp(), root.getDevice());
        try (NDManager m = root.newSubManager();
                Teacher teacher = s.clipTeacher()
                        ? RandomTeachers.clip(m, enc.imageSize(), enc.patchSize(), s.seed())
                        : RandomTeachers.encoder(m, enc, s.seed() + 1);
                MilanPretrainModel model = MilanPretrainModel.create(
                        new PretrainConfig(enc, s.decoder(teacher.dim())), m, s.seed())) {
            NamedParameters params = model.parameters();
            AdamW adam = AdamW.forPretraining(
                    ParamGroups.pretrain(params.shapes(), params.trainableNames(), WEIGHT_DECAY), m);
            Gradients.zero(params.asMap(), params.trainableNames());
            float[] input = syntheticImages(s);
            Random masks = new Random(s.seed());
            Phases phases = new Phases(TEACHER, MASKING, ENCODER, DECODER, BACKWARD, OPTIMIZER);
            phases.profile(profile);
            double loss = Double.NaN;
            StepMemory memory = StepMemory.on(m.getDevice());
            long stepPeak = -1;
            for (int step = 0; step < s.warmup() + s.steps(); step++) {
                boolean last = step == s.warmup() + s.steps() - 1;
                if (last) {
                    memory.start();
                }
                try (NDManager stepManager = m.newSubManager()) {
                    NDArray images = stepManager.create(FloatBuffer.wrap(input), imageShape(s));
                    phases.startStep(step >= s.warmup(), step == s.warmup() + s.steps() - 1);
                    try (TeacherOutput target = amp.teacherForward(teacher, images)) {
                        phases.end(TEACHER, target.targets());
                        try (Masking masking = s.semantic()
                                ? Masking.semantic(target.importance(), s.maskRatio(), masks)
                                : Masking.random(stepManager, s.batch(), enc.numPatches(), s.maskRatio(), masks)) {
                            phases.end(MASKING, masking.idsKeep());
                            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                                NDArray lossArray;
                                try (MixedPrecision.Region ignored = amp.autocast()) {
                                    NDArray latent = model.encoder().forwardMasked(images, masking);
                                    phases.end(ENCODER, latent);
                                    NDArray pred = model.decoder().forward(latent, masking);
                                    lossArray = FeatureLoss.cosine(pred, target.targets());
                                }
                                loss = lossArray.getFloat(); // materialises the phase
                                NonFiniteCheck.requireFiniteLoss(loss, 0, step, LR);
                                phases.end(DECODER, null);
                                collector.backward(lossArray);
                                endWithGradient(phases, BACKWARD, params, "patch_embed.proj.weight");
                            }
                        }
                    }
                    adam.step(params.asMap(), LR);
                    Gradients.zero(params.asMap(), params.trainableNames());
                    phases.end(OPTIMIZER, params.get("patch_embed.proj.weight"));
                }
                if (last) {
                    stepPeak = memory.peakAboveStart();
                }
            }
            int visible = Masking.keepCount(enc.numPatches(), s.maskRatio());
            double encoderFlops = FlopCount.encoderForward(enc, visible) * s.batch();
            double decoderFlops = FlopCount.decoderForward(s.decoder(teacher.dim()), enc.dim(), enc.numPatches(),
                    visible) * s.batch();
            Map<String, Double> flops = new LinkedHashMap<>();
            flops.put(TEACHER, teacherFlops(s, enc) * s.batch());
            flops.put(ENCODER, encoderFlops);
            flops.put(DECODER, decoderFlops);
            flops.put(BACKWARD, FlopCount.backward(encoderFlops + decoderFlops));
            return new StepResult(phases.meanMillis(), flops, s.batch(), loss, stepPeak, memory.method());
        }
    }

    private static StepResult encoderOnly(BenchSettings s, NDManager root, OpProfile profile) {
        ViTConfig enc = s.encoder();
        MixedPrecision amp = MixedPrecision.resolve(s.amp(), root.getDevice());
        try (NDManager m = root.newSubManager()) {
            VitEncoder encoder = VitEncoder.create(enc, m, s.seed());
            NamedParameters params = encoder.parameters();
            AdamW adam = AdamW.forPretraining(
                    ParamGroups.pretrain(params.shapes(), params.trainableNames(), WEIGHT_DECAY), m);
            Gradients.zero(params.asMap(), params.trainableNames());
            float[] input = syntheticImages(s);
            Phases phases = new Phases(FORWARD, BACKWARD, OPTIMIZER);
            phases.profile(profile);
            double loss = Double.NaN;
            StepMemory memory = StepMemory.on(m.getDevice());
            long stepPeak = -1;
            for (int step = 0; step < s.warmup() + s.steps(); step++) {
                boolean last = step == s.warmup() + s.steps() - 1;
                if (last) {
                    memory.start();
                }
                try (NDManager stepManager = m.newSubManager()) {
                    NDArray images = stepManager.create(FloatBuffer.wrap(input), imageShape(s));
                    phases.startStep(step >= s.warmup(), step == s.warmup() + s.steps() - 1);
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray lossArray;
                        try (MixedPrecision.Region ignored = amp.autocast()) {
                            lossArray = Layers.float32(encoder.forwardAll(images, true, null)).mean();
                        }
                        loss = lossArray.getFloat();
                        phases.end(FORWARD, null);
                        collector.backward(lossArray);
                        endWithGradient(phases, BACKWARD, params, "patch_embed.proj.weight");
                    }
                    adam.step(params.asMap(), LR);
                    Gradients.zero(params.asMap(), params.trainableNames());
                    phases.end(OPTIMIZER, params.get("patch_embed.proj.weight"));
                }
                if (last) {
                    stepPeak = memory.peakAboveStart();
                }
            }
            double forward = FlopCount.encoderForwardAll(enc) * s.batch();
            Map<String, Double> flops = new LinkedHashMap<>();
            flops.put(FORWARD, forward);
            flops.put(BACKWARD, FlopCount.backward(forward));
            return new StepResult(phases.meanMillis(), flops, s.batch(), loss, stepPeak, memory.method());
        }
    }

    /** Teacher forward FLOPs per image. */
    static double teacherFlops(BenchSettings s, ViTConfig enc) {
        if (s.clipTeacher()) {
            return FlopCount.clipForward(enc.imageSize(), enc.patchSize(), RandomTeachers.CLIP_WIDTH,
                    RandomTeachers.CLIP_LAYERS, RandomTeachers.CLIP_MLP, RandomTeachers.CLIP_PROJECTION);
        }
        return FlopCount.encoderForwardAll(enc);
    }

    /** Backward ends when the first layer's gradient (the last one autograd computes) is materialised. */
    private static void endWithGradient(Phases phases, String phase, NamedParameters params, String name) {
        try (NDArray grad = params.get(name).getGradient()) {
            phases.end(phase, grad);
        }
    }

    private static Shape imageShape(BenchSettings s) {
        return new Shape(s.batch(), s.encoder().inChannels(), s.encoder().imageSize(), s.encoder().imageSize());
    }

    /** N(0, 1) pixels, like an ImageNet-normalised batch. */
    private static float[] syntheticImages(BenchSettings s) {
        ViTConfig c = s.encoder();
        float[] data = new float[s.batch() * c.inChannels() * c.imageSize() * c.imageSize()];
        Random r = new Random(s.seed());
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian();
        }
        return data;
    }
}
