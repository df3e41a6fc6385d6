package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milan.api.TrainerExitCodes;
import io.milan.trainer.checkpoint.SafeTensors;
import io.milan.trainer.cli.MilanTrainer;
import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.model.ViTConfig;
import io.milan.trainer.tensorboard.EventFileReader;
import io.milan.trainer.tensorboard.EventFileReader.Scalar;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * finetune / linprobe / eval end to end on real data (Fashion-MNIST at 16 px: 600 training images, 200 val
 * images), vit_tiny with patch 4.
 */
class ClassifierRunTest {
    static final int VAL_PER_CLASS = 20;

    @TempDir
    static Path shared;
    static Path data;
    /** A 3-epoch fine-tune from random init, shared by the learning, resume and eval tests. */
    static Path straight;

    @BeforeAll
    static void prepare() throws Exception {
        data = TinyRun.dataset(shared);
        trimVal(data, VAL_PER_CLASS);
        straight = shared.resolve("straight");
        assertEquals(0, MilanTrainer.run(finetune(straight, 3)));
    }

    /** Keeps the first {@code perClass} val images of each class, so an evaluation takes a second. */
    static void trimVal(Path dataset, int perClass) throws IOException {
        try (Stream<Path> classes = Files.list(dataset.resolve("val"))) {
            for (Path c : classes.toList()) {
                try (Stream<Path> files = Files.list(c)) {
                    List<Path> sorted = files.sorted().toList();
                    for (Path f : sorted.subList(Math.min(perClass, sorted.size()), sorted.size())) {
                        Files.delete(f);
                    }
                }
            }
        }
    }

    /**
     * A fine-tune command line (mixup, cutmix, smoothing, drop path on: the randomness resume must repeat);
     * {@code extra} flag/value pairs replace the defaults of the same name.
     */
    static String[] finetune(Path output, int epochs, String... extra) {
        String[] base = {"--model", "vit_tiny", "--input_size", "16", "--patch_size", "4", "--batch_size", "32",
                "--epochs", "" + epochs, "--warmup_epochs", "1", "--lr", "2e-3", "--layer_decay", "0.75",
                "--drop_path", "0.1", "--mixup", "0.8", "--cutmix", "1.0", "--smoothing", "0.1", "--aa", "",
                "--reprob", "0", "--nb_classes", "10", "--checkpoint_interval", "1", "--num_workers", "2",
                "--device", "cpu", "--data_path", data.toString(), "--output_dir", output.toString()};
        List<String> overridden = List.of(extra);
        List<String> args = new ArrayList<>(List.of("finetune", "--global_pool"));
        for (int i = 0; i < base.length; i += 2) {
            if (!overridden.contains(base[i])) {
                args.add(base[i]);
                args.add(base[i + 1]);
            }
        }
        args.addAll(overridden);
        return args.toArray(new String[0]);
    }

    static double stat(String line, String key) {
        return JsonParser.parseString(line).getAsJsonObject().get(key).getAsDouble();
    }

    @Test
    void finetuneFromRandomInitLearnsAndLogsEveryEpoch() throws Exception {
        List<String> lines = Files.readAllLines(straight.resolve("log.txt"));
        assertEquals(3, lines.size(), "one JSON line per epoch: " + lines);
        for (int e = 0; e < 3; e++) {
            assertEquals(e, (int) stat(lines.get(e), "epoch"));
            assertEquals(List.of("train_lr", "train_loss", "test_loss", "test_acc1", "test_acc5", "epoch",
                    "n_parameters"), new ArrayList<>(JsonParser.parseString(lines.get(e)).getAsJsonObject()
                            .keySet()));
            assertTrue(Files.exists(straight.resolve("checkpoint-" + e + ".safetensors")));
        }
        double firstLoss = stat(lines.get(0), "train_loss");
        double lastLoss = stat(lines.get(2), "train_loss");
        double acc1 = stat(lines.get(2), "test_acc1");
        assertTrue(lastLoss < firstLoss, "train_loss went from " + firstLoss + " to " + lastLoss);
        // 10 balanced classes: chance is 10%; three short epochs on 600 images must clearly beat it.
        assertTrue(acc1 > 25, "test_acc1 after 3 epochs: " + acc1);
    }

    /**
     * TensorBoard, as the reference's finetune: {@code loss} and {@code lr} per iteration at {@code epoch_1000x},
     * {@code perf/test_*} per epoch at the epoch, equal to log.txt's figures (as float32, the scalars' type).
     */
    @Test
    void finetuneWritesTheReferencesTensorBoardScalars() throws Exception {
        List<Scalar> scalars = TensorBoardScalars.read(straight); // --log_dir unset: --output_dir
        assertEquals(Set.of("loss", "lr", "perf/test_acc1", "perf/test_acc5", "perf/test_loss"),
                scalars.stream().map(Scalar::tag).collect(Collectors.toSet()));
        int iterations = 600 / 32;
        assertEquals(TensorBoardScalars.everyIteration(3, iterations),
                TensorBoardScalars.of(scalars, "loss").stream().map(Scalar::step).toList());
        TensorBoardScalars.assertEpochMeansMatchLog(scalars, "loss", straight.resolve("log.txt"), iterations);
        assertPerfScalarsMatchLog(scalars, Files.readAllLines(straight.resolve("log.txt")));
    }

    static void assertPerfScalarsMatchLog(List<Scalar> scalars, List<String> lines) {
        for (String key : List.of("test_acc1", "test_acc5", "test_loss")) {
            List<Scalar> expected = new ArrayList<>();
            for (int e = 0; e < lines.size(); e++) {
                expected.add(new Scalar("perf/" + key, (float) stat(lines.get(e), key), e));
            }
            assertEquals(expected, TensorBoardScalars.of(scalars, "perf/" + key));
        }
    }

    /**
     * From the straight run's epoch 0, a run stopped inside epoch 1 (--stop_after_steps: the SIGTERM step stop, exit
     * 75) leaves a mid-epoch checkpoint; --resume auto continues at that step (mixup, cutmix and drop path draws,
     * the best accuracy so far) and ends bit-identical to the uninterrupted run.
     */
    @Test
    void resumingInsideAnEpochGivesTheSameWeightsAsAnUninterruptedRun(@TempDir Path resumed) throws Exception {
        Files.copy(straight.resolve("checkpoint-0.safetensors"), resumed.resolve("checkpoint-0.safetensors"));
        Files.copy(straight.resolve("checkpoint-0.optim.safetensors"),
                resumed.resolve("checkpoint-0.optim.safetensors"));
        Files.write(resumed.resolve("log.txt"), Files.readAllLines(straight.resolve("log.txt")).subList(0, 1));
        int stepsPerEpoch = 600 / 32;
        long stopAfter = stepsPerEpoch + stepsPerEpoch / 2;
        assertEquals(TrainerExitCodes.DISRUPTED, MilanTrainer.run(finetune(resumed, 3, "--resume", "auto",
                "--stop_after_steps", "" + stopAfter)));
        Path midEpoch = resumed.resolve("checkpoint-1-step" + stopAfter + ".safetensors");
        assertEquals("" + (stopAfter - stepsPerEpoch),
                SafeTensors.readHeader(midEpoch).metadata().get("milan.epoch_iteration"));
        assertEquals(0, MilanTrainer.run(finetune(resumed, 3, "--resume", "auto")));
        SameTensors.assertSame(straight.resolve("checkpoint-2.safetensors"), resumed.resolve("checkpoint-2.safetensors"), " differs after the mid-epoch resume");
        assertEquals(Files.readAllLines(straight.resolve("log.txt")), Files.readAllLines(resumed.resolve("log.txt")));
        assertTrue(Files.notExists(midEpoch), "the end of epoch 1 supersedes its mid-epoch checkpoint");
    }

    @Test
    void resumingGivesTheSameWeightsAsAnUninterruptedRun(@TempDir Path resumed) throws Exception {
        // The straight run "interrupted" after epoch 0: its directory without epochs 1-2, then --resume auto.
        Files.copy(straight.resolve("checkpoint-0.safetensors"), resumed.resolve("checkpoint-0.safetensors"));
        Files.copy(straight.resolve("checkpoint-0.optim.safetensors"),
                resumed.resolve("checkpoint-0.optim.safetensors"));
        Files.write(resumed.resolve("log.txt"), Files.readAllLines(straight.resolve("log.txt")).subList(0, 1));
        assertEquals(0, MilanTrainer.run(finetune(resumed, 3, "--resume", "auto")));
        SameTensors.assertSame(straight.resolve("checkpoint-2.safetensors"), resumed.resolve("checkpoint-2.safetensors"), " differs after resume");
        assertEquals(Files.readAllLines(straight.resolve("log.txt")), Files.readAllLines(resumed.resolve("log.txt")));
    }

    @Test
    void evalWritesOneSortedPredictionRowPerValImage(@TempDir Path out) throws Exception {
        Path csv = out.resolve("predictions.csv");
        assertEquals(0, MilanTrainer.run("eval", "--model", "vit_tiny", "--input_size", "16", "--patch_size", "4",
                "--batch_size", "32", "--data_path", data.toString(), "--resume",
                straight.resolve("checkpoint-2.safetensors").toString(), "--output_dir", out.toString(),
                "--predictions", csv.toString(), "--device", "cpu", "--num_workers", "2"));
        List<String> rows = Files.readAllLines(csv);
        assertEquals("path,label,class_1,logit_1,class_2,logit_2,class_3,logit_3,class_4,logit_4,class_5,logit_5",
                rows.get(0));
        assertEquals(10 * VAL_PER_CLASS, rows.size() - 1, "one row per val image");
        long correct = 0;
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",");
            assertEquals(12, f.length, row);
            assertTrue(Files.exists(Path.of(f[0])) && f[0].contains(File.separator + "val" + File.separator), row);
            for (int j = 1; j < 5; j++) {
                assertTrue(Float.parseFloat(f[3 + 2 * j]) <= Float.parseFloat(f[1 + 2 * j]), "not sorted: " + row);
            }
            if (f[1].equals(f[2])) {
                correct++;
            }
        }
        // The same checkpoint, batch size and images: the same figures as the training run's last epoch.
        String trainLine = Files.readAllLines(straight.resolve("log.txt")).get(2);
        String evalLine = Files.readAllLines(out.resolve("log.txt")).get(0);
        assertEquals(stat(trainLine, "test_acc1"), stat(evalLine, "test_acc1"), 1e-9);
        assertEquals(stat(trainLine, "test_acc5"), stat(evalLine, "test_acc5"), 1e-9);
        assertEquals(100.0 * correct / (rows.size() - 1), stat(evalLine, "test_acc1"), 1e-9);
        assertEquals(List.of(), EventFileReader.files(out), "no TensorBoard events for --eval, as the reference");
    }

    @Test
    void finetuneFromAPretrainingCheckpointLoadsTheEncoderOnly(@TempDir Path dir) throws Exception {
        ViTConfig base = ViTConfig.named("vit_tiny");
        ViTConfig encoder = new ViTConfig(16, 4, 3, base.dim(), base.depth(), base.heads(), 4, 0);
        Path pretrained = dir.resolve("pretrain.safetensors");
        try (NDManager m = NDManager.newBaseManager();
                MilanPretrainModel model = MilanPretrainModel.create(
                        new PretrainConfig(encoder, new DecoderConfig(64, 1, 4, 4, 192, true)), m, 7)) {
            SafeTensors.write(pretrained, model.parameters().asMap(), Map.of());
        }
        Path out = dir.resolve("out");
        // A vanishing lr, so the saved weights are the loaded ones.
        assertEquals(0, MilanTrainer.run(finetune(out, 1, "--finetune", pretrained.toString(), "--lr", "1e-20",
                "--min_lr", "0", "--warmup_epochs", "0")));
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> source = SafeTensors.read(pretrained, m).tensors();
            Map<String, NDArray> tuned = SafeTensors.read(out.resolve("checkpoint-0.safetensors"), m).tensors();
            List<String> loaded = tuned.keySet().stream().filter(source::containsKey).toList();
            List<String> missing = tuned.keySet().stream().filter(k -> !source.containsKey(k)).sorted().toList();
            List<String> ignored = source.keySet().stream().filter(k -> !tuned.containsKey(k)).toList();
            assertEquals(List.of("fc_norm.bias", "fc_norm.weight", "head.bias", "head.weight"), missing);
            assertEquals(2 + 2 + 12 * 12, loaded.size(), "cls_token, pos_embed, patch_embed (2), 12 blocks of 12: " + loaded);
            assertTrue(ignored.contains("norm.weight") && ignored.contains("mask_token")
                    && ignored.stream().anyMatch(k -> k.startsWith("decoder")), "ignored: " + ignored);
            for (String name : loaded) {
                assertTrue(source.get(name).allClose(tuned.get(name), 1e-6, 1e-7, false), name + " was not loaded");
            }
        }
    }

    @Test
    void linprobeTrainsTheHeadAndLeavesTheEncoderUnchanged(@TempDir Path dir) throws Exception {
        Path encoder = TinyRun.randomTeacher(dir);
        Path out = dir.resolve("probe");
        assertEquals(0, MilanTrainer.run("linprobe", "--model", "vit_tiny", "--input_size", "16", "--patch_size",
                "4", "--batch_size", "64", "--epochs", "2", "--warmup_epochs", "0", "--lr", "3", "--finetune",
                encoder.toString(), "--nb_classes", "10", "--checkpoint_interval", "1", "--num_workers", "2",
                "--device", "cpu", "--data_path", data.toString(), "--output_dir", out.toString()));
        List<String> lines = Files.readAllLines(out.resolve("log.txt"));
        assertEquals(2, lines.size());
        assertEquals(192 * 10 + 10, (long) stat(lines.get(0), "n_parameters"), "only the head trains");
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> frozen = SafeTensors.read(encoder, m).tensors();
            Map<String, NDArray> first = SafeTensors.read(out.resolve("checkpoint-0.safetensors"), m).tensors();
            Map<String, NDArray> last = SafeTensors.read(out.resolve("checkpoint-1.safetensors"), m).tensors();
            for (String name : frozen.keySet()) {
                assertTrue(frozen.get(name).contentEquals(last.get(name)), name + " changed during linear probing");
            }
            assertFalse(first.get("head.1.weight").contentEquals(last.get("head.1.weight")), "the head must train");
            assertTrue(last.get("head.0.num_batches_tracked").getLong() == 2L * (600 / 64),
                    "batch-norm statistics are tracked per training batch");
        }
        // Even a random encoder's cls-token features carry some class information: the head's loss falls and
        // its accuracy rises above chance (10%).
        assertTrue(stat(lines.get(1), "train_loss") < stat(lines.get(0), "train_loss"), lines.toString());
        double acc1 = stat(lines.get(1), "test_acc1");
        assertTrue(acc1 > 12, "linear probe test_acc1: " + acc1);
        List<Scalar> scalars = TensorBoardScalars.read(out);
        assertEquals(2 * (600 / 64), TensorBoardScalars.of(scalars, "loss").size());
        assertPerfScalarsMatchLog(scalars, lines);
    }

    /**
     * The classification loops under --amp: fine-tuning (mixup, cutmix, smoothing, drop path) under bfloat16 autocast
     * and linear probing (batch norm, LARS) under float16 with loss scaling; one epoch each learns something and logs
     * the loss scaler's fields only where there is one.
     */
    @Test
    void finetuneUnderBf16AndLinprobeUnderFp16Autocast(@TempDir Path dir) throws Exception {
        Path ft = dir.resolve("ft");
        assertEquals(0, MilanTrainer.run(finetune(ft, 1, "--warmup_epochs", "0", "--amp", "bf16")));
        JsonObject ftLine = JsonParser.parseString(Files.readAllLines(ft.resolve("log.txt")).get(0)).getAsJsonObject();
        assertTrue(Double.isFinite(ftLine.get("train_loss").getAsDouble()), ftLine.toString());
        assertFalse(ftLine.has("train_skipped_steps"), "bf16 has no loss scaler: " + ftLine);

        Path encoder = TinyRun.randomTeacher(dir);
        Path probe = dir.resolve("probe");
        assertEquals(0, MilanTrainer.run("linprobe", "--model", "vit_tiny", "--input_size", "16", "--patch_size",
                "4", "--batch_size", "64", "--epochs", "1", "--warmup_epochs", "0", "--lr", "3", "--finetune",
                encoder.toString(), "--nb_classes", "10", "--checkpoint_interval", "1", "--num_workers", "2",
                "--device", "cpu", "--amp", "fp16", "--data_path", data.toString(), "--output_dir", probe.toString()));
        JsonObject line = JsonParser.parseString(Files.readAllLines(probe.resolve("log.txt")).get(0))
                .getAsJsonObject();
        assertTrue(line.has("train_skipped_steps") && line.has("train_loss_scale"), line.toString());
        assertTrue(line.get("test_acc1").getAsDouble() > 10, "above chance: " + line);
        try (NDManager m = NDManager.newBaseManager()) {
            String scaler = SafeTensors.read(probe.resolve("checkpoint-0.safetensors"), m).metadata().get("scaler");
            assertTrue(scaler != null && scaler.contains("\"_growth_tracker\""), "scaler state saved: " + scaler);
        }
    }

    @Test
    void nonFiniteLossStopsWithoutACheckpoint(@TempDir Path out) throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(1, MilanTrainer.run(new PrintWriter(err, true), finetune(out, 1, "--lr", "1e30",
                "--warmup_epochs", "0", "--min_lr", "0")));
        assertTrue(err.toString().contains("Loss is"), err.toString());
        try (Stream<Path> files = Files.list(out)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("checkpoint-")));
        }
    }

    @Test
    void badFlagsAreUsageErrorsNamingTheFlag() {
        assertUsageError("--mixup_mode", "finetune", "--mixup_mode", "elem");
        assertUsageError("--layer_decay", "finetune", "--layer_decay", "0");
        assertUsageError("--batch_size must be even", "finetune", "--batch_size", "33", "--mixup", "0.8");
        assertUsageError("--finetune", "finetune", "--finetune", "/nonexistent/checkpoint.safetensors");
        assertUsageError("--aa", "finetune", "--aa", "rand-x9");
        assertUsageError("--global_pool", "linprobe", "--global_pool");
        assertUsageError("--resume", "eval", "--model", "vit_tiny");
        assertUsageError("--no_such_flag", "finetune", "--no_such_flag");
        assertUsageError("--smoothing", "finetune", "--smoothing", "1.0");
    }

    private static void assertUsageError(String mentions, String... args) {
        StringWriter err = new StringWriter();
        assertEquals(78, MilanTrainer.run(new PrintWriter(err, true), args), String.join(" ", args));
        assertTrue(err.toString().contains(mentions), "expected '" + mentions + "' in: " + err);
    }

    /** Every flag the operator passes (operator TrainerArgs) parses, for both modes. */
    @Test
    void theOperatorsCommandLinesParse() {
        List<String> common = List.of("--model", "vit_base_patch16", "--input_size", "224", "--patch_size", "16",
                "--batch_size", "128", "--accum_iter", "1", "--epochs", "100", "--warmup_epochs", "5", "--blr",
                "1e-4", "--lr", "4e-4", "--min_lr", "1e-6", "--weight_decay", "0.05", "--clip_grad", "5.0",
                "--data_path", "/data", "--output_dir", "/out", "--log_dir", "/out", "--seed", "0",
                "--num_workers", "10", "--checkpoint_interval", "1", "--keep_checkpoints", "3", "--amp", "bf16",
                "--tf32", "--device", "cpu", "--resume", "auto", "--finetune", "/ckpt/checkpoint-399.safetensors", "--nb_classes", "1000", "--dist_eval");
        List<String> finetune = new ArrayList<>(List.of("finetune"));
        finetune.addAll(common);
        finetune.addAll(List.of("--layer_decay", "0.65", "--drop_path", "0.1", "--mixup", "0.8", "--cutmix", "1.0",
                "--mixup_switch_prob", "0.5", "--smoothing", "0.1", "--reprob", "0.25", "--aa", "", "--cls_token"));
        List<String> linprobe = new ArrayList<>(List.of("linprobe"));
        linprobe.addAll(common);
        new picocli.CommandLine(new MilanTrainer()).parseArgs(finetune.toArray(new String[0]));
        new picocli.CommandLine(new MilanTrainer()).parseArgs(linprobe.toArray(new String[0]));
    }
}
