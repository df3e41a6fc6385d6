package io.milan.trainer.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.milan.trainer.bench.BenchReport;
import io.milan.trainer.bench.BenchSettings;
import io.milan.trainer.bench.GemmPeak;
import io.milan.trainer.bench.StepBench;
import io.milan.trainer.bench.StepResult;
import io.milan.trainer.model.ViTConfig;
import io.milan.trainer.torch.TorchOps;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.train.CheckpointStall;
import io.milan.trainer.train.MixedPrecision;
import io.milan.trainer.train.PretrainRun;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code milan-trainer bench}: times MILAN pretraining steps (or the bare ViT encoder) on a synthetic batch,
 * phase by phase, with achieved GFLOP/s against this machine's measured GEMM peak (MFU). Prints a table and a
 * {@code BENCH_JSON} line (bench/compare.sh reads it). No data, no checkpoint, nothing downloaded.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times pretraining steps (teacher / masking / encoder / decoder+loss / backward / optimizer)"
                + " on synthetic input; prints ms per phase, img/s, achieved GFLOP/s and MFU.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--model", description = "Encoder: vit_micro|tiny|small|base|large|huge (default: ${DEFAULT-VALUE}).")
    String model = "vit_base";

    @Option(names = "--batch_size", description = "Images per step (default: ${DEFAULT-VALUE}).")
    int batchSize = 8;

    @Option(names = "--input_size", description = "Image size in pixels (default: ${DEFAULT-VALUE}).")
    int inputSize = 224;

    @Option(names = "--patch_size", description = "Patch size; default from --model (16, or 14 for vit_huge).")
    Integer patchSize;

    @Option(names = "--steps", description = "Timed steps (default: ${DEFAULT-VALUE}).")
    int steps = 5;

    @Option(names = "--warmup", description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
    int warmup = 2;

    @Option(names = "--threads", description = "libtorch intra-op threads (default: all cores).")
    Integer threads;

    @Option(names = "--teacher", description = "clip (random weights, CLIP ViT-B/16 shape) or encoder (random"
            + " encoder of the student's shape) (default: ${DEFAULT-VALUE}).")
    String teacher = "clip";

    @Option(names = "--mask_ratio", description = "Fraction of patches masked (default: ${DEFAULT-VALUE}).")
    double maskRatio = 0.75;

    @Option(names = "--attn_mask", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Semantic-aware masking, as MILAN trains (default: on; --no-attn_mask = random).")
    boolean attnMask;

    @Option(names = "--change_decoder", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "MILAN's prompting decoder (default: on; --no-change_decoder = MAE's decoder).")
    boolean changeDecoder;

    @Option(names = "--encoder-only", description = "Time the ViT encoder forward+backward on all tokens (timm's"
            + " VisionTransformer.forward_features, no masking, no teacher, no decoder) instead.")
    boolean encoderOnly;

    @Option(names = "--tf32", description = "On a GPU, fp32 matmuls may use TF32 (as the trainer's --tf32); no"
            + " effect on the CPU.")
    boolean tf32;

    @Option(names = "--amp", description = "auto|fp16|bf16|off: autocast around the teacher's and the student's"
            + " forward and the loss, as the trainer's --amp (the step's loss is not scaled here) (default:"
            + " ${DEFAULT-VALUE}: fp16 on a GPU, off on the CPU).")
    String amp = "auto";

    @Option(names = "--peak_size", description = "n of the n x n x n matmul that measures the GEMM peak; 0 = skip"
            + " (default: ${DEFAULT-VALUE}).")
    int peakSize = 2048;

    @Option(names = "--peak_reps", description = "Matmuls timed for the peak, best taken (default: ${DEFAULT-VALUE}).")
    int peakReps = 5;

    @Option(names = "--profile", description = "Directory for a libtorch op profile of the last step, one Chrome"
            + " trace per phase (<phase>.json); that step's timings include the profiler's cost.")
    Path profile;

    @Option(names = "--seed", description = "Weights, input and masking (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--checkpoint_stall", description = "Instead: how long a mid-epoch checkpoint of the model (and"
            + " its AdamW state) pauses training, background writer against synchronous, written into this directory.")
    Path checkpointStall;

    @Override
    public Integer call() throws Exception {
        CommonOptions.require(teacher.equals("clip") || teacher.equals("encoder"),
                "--teacher must be clip or encoder, got '" + teacher + "'");
        CommonOptions.require(amp.equals("auto") || amp.equals("fp16") || amp.equals("bf16") || amp.equals("off"),
                "--amp must be auto, fp16, bf16 or off, got '" + amp + "'");
        CommonOptions.require(threads == null || threads >= 1, "--threads must be >= 1, got " + threads);
        CommonOptions.require(peakSize >= 0 && peakReps >= 1, "--peak_size must be >= 0 and --peak_reps >= 1");
        CommonOptions common = new CommonOptions();
        common.inputSize = inputSize;
        common.patchSize = patchSize;
        CommonOptions.require(inputSize >= 8 && (patchSize == null || (patchSize >= 1 && inputSize % patchSize == 0)),
                "--patch_size must divide --input_size " + inputSize + ", got " + patchSize);
        ViTConfig encoder = PretrainRun.encoderConfig(model, common);
        BenchSettings settings = new BenchSettings(ModelName.parse(model).shortName(), encoder, batchSize, steps,
                warmup, teacher.equals("clip"), maskRatio, attnMask, changeDecoder, encoderOnly, seed, amp);
        int threadCount = setThreads();

        try (NDManager root = NDManager.newBaseManager()) {
            if (checkpointStall != null) {
                CheckpointStall.run(new PretrainConfig(encoder, settings.decoder(teacher.equals("clip") ? 512
                        : encoder.dim())), root, checkpointStall, System.out);
                return 0;
            }
            TorchOps.configureTf32(root.getDevice(), tf32);
            StepResult result = StepBench.run(settings, root, profile);
            double peak = peakSize == 0 ? Double.NaN : GemmPeak.measure(root, peakSize, peakReps);
            String what = encoderOnly
                    ? "ViT encoder forward+backward+AdamW on all " + (1 + encoder.numPatches()) + " tokens"
                    : "MILAN pretraining step (" + (changeDecoder ? "prompting" : "MAE") + " decoder 512x8, "
                            + (attnMask ? "semantic" : "random") + " masking " + maskRatio + ", teacher "
                            + (teacher.equals("clip") ? "CLIP ViT-B/16 shape, random weights"
                                    : "random " + settings.modelName() + " encoder") + ")";
            String title = String.format(Locale.ROOT, "bench: %s, %s patch %d, %d px, batch %d, %d threads, %d steps"
                    + " after %d warm-up, device %s, amp %s", what, settings.modelName(), encoder.patchSize(),
                    encoder.imageSize(), batchSize, threadCount, steps, warmup, root.getDevice(),
                    MixedPrecision.resolve(amp, root.getDevice()).describe());
            Map<String, Object> context = new LinkedHashMap<>();
            context.put("impl", "djl");
            context.put("mode", encoderOnly ? "encoder" : "pretrain");
            context.put("model", settings.modelName());
            context.put("batch", batchSize);
            context.put("input_size", inputSize);
            context.put("threads", threadCount);
            context.put("teacher", teacher);
            context.put("tf32", tf32 && root.getDevice().isGpu());
            context.put("amp", MixedPrecision.resolve(amp, root.getDevice()).mode().name().toLowerCase(Locale.ROOT));
            BenchReport.print(System.out, title, result,
                    peak, peakSize + "^3 fp32 matmul, best of " + peakReps, context);
        }
        return 0;
    }

    /** Intra-op threads: the system property before the engine starts, and libtorch's setter once it has. */
    private int setThreads() {
        if (threads != null) {
            System.setProperty("ai.djl.pytorch.num_threads", threads.toString());
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        Engine.getInstance();
        if (threads != null) {
            JniUtils.setNumThreads(threads);
        }
        return JniUtils.getNumThreads();
    }
}
