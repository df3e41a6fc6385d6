package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.EncoderTeacher;
import io.milan.trainer.model.Masking;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.NamedParameters;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.model.TeacherOutput;
import io.milan.trainer.model.ViTConfig;
import io.milan.trainer.optim.AdamW;
import io.milan.trainer.optim.GradScaler;
import io.milan.trainer.optim.OptimizerStep;
import io.milan.trainer.optim.ParamGroups;
import io.milan.trainer.torch.Autocast;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --amp: the policy (auto = fp16 on a GPU, off on the CPU), and 50 pretraining steps of a small MILAN model (semantic
 * masking from a frozen teacher, prompting decoder, AdamW) under CPU bfloat16 autocast against the same 50 steps in
 * float32. Tolerance: every step's loss within 1% of float32's (bfloat16 keeps 8 significant bits, ~0.4% per
 * rounding, and the runs may drift apart through 50 updates; observed worst 0.09%), and the loss falls in both.
 */
class MixedPrecisionTest {

    private static final int STEPS = 50;

    @Test
    void autoIsFp16OnAGpuAndOffOnTheCpu() {
        assertEquals(MixedPrecision.Mode.OFF, MixedPrecision.resolve("auto", Device.cpu()).mode());
        assertEquals(MixedPrecision.Mode.FP16, MixedPrecision.resolve("auto", Device.gpu(0)).mode());
        assertEquals(MixedPrecision.Mode.BF16, MixedPrecision.resolve("bf16", Device.cpu()).mode());
        assertEquals(MixedPrecision.Mode.FP16, MixedPrecision.resolve("fp16", Device.cpu()).mode());
        assertEquals(MixedPrecision.Mode.OFF, MixedPrecision.resolve("off", Device.gpu(0)).mode());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MixedPrecision.resolve("fp8", Device.cpu()));
        assertTrue(e.getMessage().contains("--amp"), e.getMessage());
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            assertNull(MixedPrecision.resolve("bf16", Device.cpu()).scaler(m, 2000), "bf16 needs no loss scaling");
            try (GradScaler s = MixedPrecision.resolve("fp16", Device.cpu()).scaler(m, 2000)) {
                assertEquals(65536.0, s.scaleValue());
            }
        }
    }

    @Test
    void fiftyStepsUnderBf16AutocastStayWithinOnePercentOfFp32(@TempDir Path dir) throws Exception {
        ViTConfig teacherConfig = new ViTConfig(16, 4, 3, 32, 2, 4, 4, 0);
        Path teacherFile = dir.resolve("teacher.safetensors");
        EncoderFiles.writeRandom(teacherConfig, 99, teacherFile);
        double[] fp32 = train(MixedPrecision.resolve("off", Device.cpu()), teacherConfig, teacherFile);
        double[] bf16 = train(MixedPrecision.resolve("bf16", Device.cpu()), teacherConfig, teacherFile);
        double worst = 0;
        for (int i = 0; i < STEPS; i++) {
            worst = Math.max(worst, Math.abs(bf16[i] - fp32[i]) / fp32[i]);
        }
        String losses = "fp32 " + Arrays.toString(fp32) + "\nbf16 " + Arrays.toString(bf16);
        System.out.printf("bf16 vs fp32 over %d steps: worst relative loss difference %.4f; final loss %.4f vs %.4f%n",
                STEPS, worst, bf16[STEPS - 1], fp32[STEPS - 1]);
        assertTrue(worst < 0.01, "worst relative loss difference " + worst + "\n" + losses);
        assertTrue(fp32[STEPS - 1] < 0.8 * fp32[0], "fp32 learns: " + losses);
        assertTrue(bf16[STEPS - 1] < 0.8 * bf16[0], "bf16 learns: " + losses);
        assertTrue(worst > 0, "bf16 autocast changed nothing: is it on?");
    }

    /** The losses of STEPS steps on one fixed batch (fresh masking noise per step, same in both runs). */
    private static double[] train(MixedPrecision amp, ViTConfig teacherConfig, Path teacherFile) throws Exception {
        ViTConfig encoder = new ViTConfig(16, 4, 3, 32, 2, 4, 4, 0);
        double[] losses = new double[STEPS];
        try (NDManager root = NDManager.newBaseManager(Device.cpu());
                EncoderTeacher teacher = EncoderTeacher.load(teacherFile, teacherConfig, root);
                MilanPretrainModel model = MilanPretrainModel.create(new PretrainConfig(encoder,
                        new DecoderConfig(24, 2, 4, 4, teacher.dim(), true)), root, 5)) {
            NamedParameters params = model.parameters();
            AdamW adam = AdamW.forPretraining(ParamGroups.pretrain(params.shapes(), params.trainableNames(), 0.05),
                    root);
            Random random = new Random(3);
            float[] pixels = new float[8 * 3 * 16 * 16];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (float) random.nextGaussian();
            }
            NDArray images = root.create(pixels, new Shape(8, 3, 16, 16));
            for (int step = 0; step < STEPS; step++) {
                double[] noise = new double[8 * encoder.numPatches()];
                Random r = new Random(100 + step);
                for (int i = 0; i < noise.length; i++) {
                    noise[i] = r.nextDouble();
                }
                try (TeacherOutput target = amp.teacherForward(teacher, images);
                        Masking masking = Masking.semantic(target.importance(), 0.75, noise);
                        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    assertEquals(DataType.FLOAT32, target.targets().getDataType(), "teacher targets in float32");
                    NDArray loss;
                    try (MixedPrecision.Region ignored = amp.autocast()) {
                        assertEquals(amp.enabled(), Autocast.isEnabled(Device.cpu()));
                        loss = model.forward(images, target, masking).loss();
                    }
                    assertEquals(DataType.FLOAT32, loss.getDataType(), "the loss is computed in float32");
                    collector.backward(loss);
                    losses[step] = loss.getFloat();
                }
                assertTrue(OptimizerStep.apply(adam, null, params.asMap(), params.trainableNames(), 1.0, 1e-3, 0, step)
                        .applied());
                io.milan.trainer.optim.Gradients.zero(params.asMap(), params.trainableNames());
                for (String name : params.trainableNames()) {
                    assertEquals(DataType.FLOAT32, params.get(name).getDataType(), "weights stay float32: " + name);
                }
            }
        }
        return losses;
    }
}
