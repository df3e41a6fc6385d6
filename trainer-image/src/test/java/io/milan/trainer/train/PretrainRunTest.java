package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milan.api.TrainerExitCodes;
import io.milan.api.report.RunReference;
import io.milan.trainer.checkpoint.SafeTensors;
import io.milan.trainer.cli.MilanTrainer;
import io.milan.trainer.dist.Launcher;
import io.milan.trainer.optim.CosineSchedule;
import io.milan.trainer.tensorboard.EventFileReader.Scalar;
import io.milan.trainer.tensorboard.EventFileReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The pretrain command end to end on real data: learning, log.txt, checkpoints, exact resume. */
class PretrainRunTest {
    /** TinyRun's training images (1% of Fashion-MNIST's 60000). */
    static final int TRAIN_IMAGES = 600;
    @TempDir
    static Path shared;
    static Path data;
    static Path teacher;

    @BeforeAll
    static void prepare() throws Exception {
        data = TinyRun.dataset(shared);
        teacher = TinyRun.randomTeacher(shared);
    }

    @Test
    void lossFallsAndEveryEpochIsLoggedAndCheckpointed(@TempDir Path out) throws Exception {
        assertEquals(0, MilanTrainer.run(TinyRun.pretrain(data, teacher, out, 4)));
        List<String> lines = Files.readAllLines(out.resolve("log.txt"));
        assertEquals(4, lines.size(), "one JSON line per epoch: " + lines);
        double first = stat(lines.get(0), "train_loss");
        double last = stat(lines.get(3), "train_loss");
        for (int e = 0; e < 4; e++) {
            assertEquals(e, (int) stat(lines.get(e), "epoch"));
            assertTrue(Files.exists(out.resolve("checkpoint-" + e + ".safetensors")), "checkpoint of epoch " + e);
        }
        // A random teacher's features are learnable: 4 short epochs must cut the loss by at least 10%.
        assertTrue(last < 0.9 * first, "train_loss went from " + first + " to " + last);
    }

    /** With 2 processes: {@code milan-trainer launch}, c10d Gloo, the gradient Reducer and the resume broadcast. */
    @ParameterizedTest(name = "{0} processes")
    @ValueSource(ints = {1, 2})
    void resumingGivesTheSameWeightsAsAnUninterruptedRun(int processes, @TempDir Path straight,
            @TempDir Path resumed) throws Exception {
        assertEquals(0, MilanTrainer.run(launched(processes, TinyRun.pretrain(data, teacher, straight, 2))));
        // "Interrupted" after epoch 0: the same run with --epochs 2 but stopped early is modelled by deleting
        // epoch 1's checkpoint and log line, then resuming.
        assertEquals(0, MilanTrainer.run(launched(processes, TinyRun.pretrain(data, teacher, resumed, 2))));
        Files.delete(resumed.resolve("checkpoint-1.safetensors"));
        Files.delete(resumed.resolve("checkpoint-1.optim.safetensors"));
        List<String> log = Files.readAllLines(resumed.resolve("log.txt"));
        Files.write(resumed.resolve("log.txt"), log.subList(0, 1));
        assertEquals(0, MilanTrainer.run(launched(processes,
                TinyRun.pretrain(data, teacher, resumed, 2, "--resume", "auto"))));

        SameTensors.assertSame(straight.resolve("checkpoint-1.safetensors"), resumed.resolve("checkpoint-1.safetensors"), " differs after resume");
        assertEquals(Files.readAllLines(straight.resolve("log.txt")), Files.readAllLines(resumed.resolve("log.txt")));

        // TensorBoard (--log_dir defaults to --output_dir): rank 0's file only, with the rank-averaged loss.
        List<Scalar> scalars = TensorBoardScalars.read(straight);
        int iterations = TRAIN_IMAGES / (32 * processes);
        assertEquals(TensorBoardScalars.everyIteration(2, iterations),
                TensorBoardScalars.of(scalars, "train_loss").stream().map(Scalar::step).toList());
        TensorBoardScalars.assertEpochMeansMatchLog(scalars, "train_loss", straight.resolve("log.txt"), iterations);
    }

    /**
     * Stopped inside epoch 1 at a step boundary (--stop_after_steps takes the SIGTERM path's step stop, exit code 75),
     * the run leaves a mid-epoch checkpoint beside epoch 0's; --resume auto continues at that exact micro-batch and
     * ends with the weights and log.txt of an uninterrupted run, bit for bit. Under --accum_iter 2 (with 2 processes
     * the epoch's 9 micro-batches end in a discarded partial group), time-based saves agreed at nearly every step
     * on the way (--save_every_minutes 0.0001), step-based ones after the resume; with 1 process also under fp16
     * loss scaling whose scale changes every 3 steps.
     */
    @ParameterizedTest(name = "{0} processes")
    @ValueSource(ints = {1, 2})
    void resumingInsideAnEpochGivesTheSameRunAsAnUninterruptedOne(int processes, @TempDir Path straight,
            @TempDir Path stopped) throws Exception {
        List<String> shape = new ArrayList<>(List.of("--accum_iter", "2"));
        if (processes == 1) {
            shape.addAll(List.of("--amp", "fp16", "--amp_growth_interval", "3"));
        }
        int iterations = TRAIN_IMAGES / (32 * processes);
        int stepsPerEpoch = iterations / 2;
        long stopAfter = stepsPerEpoch + stepsPerEpoch / 2;
        assertEquals(0, MilanTrainer.run(launched(processes, TinyRun.pretrain(data, teacher, straight, 2,
                with(shape, "--save_every_minutes", "0")))));

        assertEquals(TrainerExitCodes.DISRUPTED, MilanTrainer.run(launched(processes, TinyRun.pretrain(data, teacher,
                stopped, 2, with(shape, "--save_every_minutes", "0.0001", "--stop_after_steps", "" + stopAfter)))));
        Path midEpoch = stopped.resolve("checkpoint-1-step" + stopAfter + ".safetensors");
        try (var files = Files.list(stopped)) {
            assertEquals(Set.of("checkpoint-0.safetensors", "checkpoint-0.optim.safetensors",
                    midEpoch.getFileName().toString(), "checkpoint-1-step" + stopAfter + ".optim.safetensors"),
                    files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("checkpoint"))
                            .collect(Collectors.toSet()), "epoch 0's checkpoint and one mid-epoch checkpoint");
        }
        Map<String, String> meta = SafeTensors.readHeader(midEpoch).metadata();
        assertEquals("1", meta.get("milan.epoch"));
        assertEquals("" + (stopAfter - stepsPerEpoch) * 2, meta.get("milan.epoch_iteration"));
        assertEquals("" + processes, meta.get("milan.world_size"));
        assertEquals(processes, meta.get("milan.epoch_loss_sums").split(",").length);
        assertEquals(1, Files.readAllLines(stopped.resolve("log.txt")).size(), "epoch 1 not logged yet");

        assertEquals(0, MilanTrainer.run(launched(processes, TinyRun.pretrain(data, teacher, stopped, 2,
                with(shape, "--save_every_steps", "3", "--resume", "auto")))));
        for (String file : List.of("checkpoint-1.safetensors", "checkpoint-1.optim.safetensors")) {
            SameTensors.assertSame(straight.resolve(file), stopped.resolve(file), " of " + file + " differs after resume");
        }
        assertEquals(Files.readAllLines(straight.resolve("log.txt")), Files.readAllLines(stopped.resolve("log.txt")));
        assertTrue(Files.notExists(midEpoch), "the end of epoch 1 supersedes its mid-epoch checkpoint");
    }

    private static String[] with(List<String> shape, String... more) {
        List<String> all = new ArrayList<>(shape);
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }

    /**
     * With --accum_iter 2 the reference logs after each optimizer step only (odd iterations), at
     * {@code epoch_1000x} of that iteration, the learning rate set at the group's first micro-batch; --log_dir
     * is honoured (no event file in --output_dir).
     */
    @Test
    void tensorBoardScalarsFollowTheReferencesStepsUnderAccumulation(@TempDir Path out, @TempDir Path tb)
            throws Exception {
        assertEquals(0, MilanTrainer.run(TinyRun.pretrain(data, teacher, out, 2, "--accum_iter", "2",
                "--log_dir", tb.toString())));
        assertEquals(List.of(), EventFileReader.files(out));
        List<Scalar> scalars = TensorBoardScalars.read(tb);
        assertEquals(Set.of("train_loss", "lr"), scalars.stream().map(Scalar::tag).collect(Collectors.toSet()));
        int iterations = TRAIN_IMAGES / 32;
        CosineSchedule schedule = new CosineSchedule(CosineSchedule.absoluteLr(null, 1e-3, 32, 2, 1), 0, 1, 2);
        List<Scalar> expectedLr = new ArrayList<>();
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int it = 1; it < iterations; it += 2) {
                long step = (long) Math.floor((it / (double) iterations + epoch) * 1000);
                expectedLr.add(new Scalar("lr", (float) schedule.lrAt(epoch + (it - 1) / (double) iterations), step));
            }
        }
        assertEquals(expectedLr, TensorBoardScalars.of(scalars, "lr"));
        List<Scalar> loss = TensorBoardScalars.of(scalars, "train_loss");
        assertEquals(expectedLr.stream().map(Scalar::step).toList(), loss.stream().map(Scalar::step).toList());
        List<String> log = Files.readAllLines(out.resolve("log.txt"));
        for (int e = 0; e < 2; e++) {
            // Half the micro-batches are logged: their mean is near, not equal to, the epoch's mean loss.
            double logged = loss.subList(e * iterations / 2, (e + 1) * iterations / 2).stream()
                    .mapToDouble(Scalar::value).average().orElseThrow();
            assertEquals(stat(log.get(e), "train_loss"), logged, 0.05 * logged, "epoch " + e);
        }
    }

    /**
     * --amp fp16 on the CPU with the scale growing every 3 good steps (--amp_growth_interval), so the scaler's state
     * after epoch 0 is not the initial one (and steps get skipped and the scale backs off): resumed from epoch 0's
     * checkpoint, the run ends bit-identical to the uninterrupted one, log.txt (loss scale, skipped steps) included.
     */
    @Test
    void resumingFp16WithTheLossScalerStateGivesTheSameRunAsAnUninterruptedOne(@TempDir Path straight,
            @TempDir Path resumed) throws Exception {
        assertEquals(0, MilanTrainer.run(TinyRun.pretrain(data, teacher, straight, 2, "--amp", "fp16",
                "--amp_growth_interval", "3")));
        // The straight run "interrupted" after epoch 0: its directory without epoch 1, then --resume auto (the
        // test above shows a run that is stopped writes the same epoch-0 files).
        for (String file : new String[] {"checkpoint-0.safetensors", "checkpoint-0.optim.safetensors"}) {
            Files.copy(straight.resolve(file), resumed.resolve(file));
        }
        Files.write(resumed.resolve("log.txt"), Files.readAllLines(straight.resolve("log.txt")).subList(0, 1));
        String[] resume = {"--amp", "fp16", "--amp_growth_interval", "3", "--resume", "auto"};
        assertEquals(0, MilanTrainer.run(TinyRun.pretrain(data, teacher, resumed, 2, resume)));

        try (NDManager m = NDManager.newBaseManager()) {
            SafeTensors.Contents epoch0 = SafeTensors.read(straight.resolve("checkpoint-0.safetensors"), m);
            JsonObject scaler = JsonParser.parseString(epoch0.metadata().get("scaler")).getAsJsonObject();
            assertEquals(3, scaler.get("growth_interval").getAsInt());
            assertTrue(scaler.get("scale").getAsDouble() != 65536.0 || scaler.get("_growth_tracker").getAsInt() != 0,
                    "the scaler's state after epoch 0 is not the initial one: " + scaler);
            Map<String, NDArray> a = SafeTensors.read(straight.resolve("checkpoint-1.safetensors"), m).tensors();
            SafeTensors.Contents b = SafeTensors.read(resumed.resolve("checkpoint-1.safetensors"), m);
            for (String name : a.keySet()) {
                assertTrue(a.get(name).contentEquals(b.tensors().get(name)), name + " differs after resume");
            }
            assertEquals(SafeTensors.read(straight.resolve("checkpoint-1.safetensors"), m).metadata().get("scaler"),
                    b.metadata().get("scaler"), "the scaler ends in the same state");
        }
        List<String> lines = Files.readAllLines(straight.resolve("log.txt"));
        assertEquals(lines, Files.readAllLines(resumed.resolve("log.txt")));
        for (String line : lines) {
            assertTrue(line.contains("\"train_skipped_steps\"") && line.contains("\"train_loss_scale\""), line);
        }
    }

    /**
     * Issue 21, defect 10: another run pointed at this output directory (here one that accumulates 2 micro-batches
     * per step) does not continue its checkpoints: a configuration error (exit 78) naming the file and the flag,
     * and the directory is left as it was.
     */
    @Test
    void resumeAutoRefusesTheCheckpointOfARunOfAnotherShape(@TempDir Path out) throws Exception {
        assertEquals(0, MilanTrainer.run(TinyRun.pretrain(data, teacher, out, 2)));
        Files.delete(out.resolve("checkpoint-1.safetensors"));
        Files.delete(out.resolve("checkpoint-1.optim.safetensors"));
        List<String> log = Files.readAllLines(out.resolve("log.txt"));

        StringWriter err = new StringWriter();
        int code = MilanTrainer.run(new PrintWriter(err, true),
                TinyRun.pretrain(data, teacher, out, 2, "--accum_iter", "2", "--resume", "auto"));
        assertEquals(TrainerExitCodes.CONFIGURATION, code, err.toString());
        String message = err.toString();
        assertTrue(message.contains("--resume auto: " + out.resolve("checkpoint-0.safetensors")
                + " belongs to another run"), message);
        assertTrue(message.contains("--accum_iter 1 in the checkpoint, 2 now"), message);
        assertTrue(Files.notExists(out.resolve("checkpoint-1.safetensors")), "nothing trained");
        assertEquals(log, Files.readAllLines(out.resolve("log.txt")));
    }

    /**
     * Issue 21, defect 10: a run deleted and recreated under its name (same flags, new Kubernetes UID, as the
     * operator passes it in MILAN_RUN_UID) does not continue the old run's checkpoints; the old run itself does.
     */
    @Test
    void resumeAutoRefusesTheCheckpointOfARunWithAnotherUid(@TempDir Path out, @TempDir Path logs) throws Exception {
        String[] command = TinyRun.pretrain(data, teacher, out, 2, "--resume", "auto");
        Launcher.Outcome first = launchAs("uid-first", command, logs.resolve("first"));
        assertEquals(0, first.exitCode(), first.message());

        Launcher.Outcome recreated = launchAs("uid-second", command, logs.resolve("second"));
        assertEquals(TrainerExitCodes.CONFIGURATION, recreated.exitCode(), recreated.message());
        assertTrue(recreated.message().contains("it was written by the run with uid uid-first, this is the run with"
                + " uid uid-second"), recreated.message());
        assertEquals(0, launchAs("uid-first", command, logs.resolve("again")).exitCode(), "its own run resumes");
    }

    /** Bad flags and values exit with the configuration code, which the operator fails the run on, not restarts. */
    @Test
    void badFlagsAreConfigurationErrorsNamingTheFlag() {
        assertEquals(TrainerExitCodes.CONFIGURATION, MilanTrainer.run("pretrain", "--mask_ratio", "1.0"));
        assertEquals(TrainerExitCodes.CONFIGURATION, MilanTrainer.run("pretrain", "--no_such_flag"));
        assertEquals(TrainerExitCodes.CONFIGURATION, MilanTrainer.run("pretrain", "--batch_size", "many"));
        assertEquals(TrainerExitCodes.CONFIGURATION, MilanTrainer.run("pretrain", "--amp", "fp8"));
        assertEquals(TrainerExitCodes.CONFIGURATION, MilanTrainer.run(), "no command");
    }

    @Test
    void aMissingDatasetIsAConfigurationErrorNamingItsPath(@TempDir Path out) {
        StringWriter err = new StringWriter();
        int code = MilanTrainer.run(new PrintWriter(err, true),
                TinyRun.pretrain(shared.resolve("nowhere"), teacher, out, 2));
        assertEquals(TrainerExitCodes.CONFIGURATION, code);
        assertTrue(err.toString().contains(shared.resolve("nowhere").resolve("train").toString()), err.toString());
        assertTrue(Files.notExists(out.resolve("log.txt")));
    }

    /** Through the launcher too: its code is the process's, so the pod's container exits with it. */
    @Test
    void anUnusableCheckpointToResumeIsAConfigurationError(@TempDir Path out) throws Exception {
        Files.writeString(out.resolve("checkpoint-0.safetensors"), "not a checkpoint");
        StringWriter err = new StringWriter();
        int code = MilanTrainer.run(new PrintWriter(err, true), launched(2,
                TinyRun.pretrain(data, teacher, out, 2, "--resume", "auto")));
        assertEquals(TrainerExitCodes.CONFIGURATION, code, err.toString());
        assertTrue(err.toString().contains("checkpoint-0.safetensors"), err.toString());
        assertTrue(Files.notExists(out.resolve("log.txt")));
    }

    /** One trainer process started as the operator's pods start it, with the run's UID in its environment. */
    private static Launcher.Outcome launchAs(String uid, String[] command, Path logDir) throws Exception {
        Files.createDirectories(logDir);
        try (Launcher launcher = Launcher.start(new Launcher.Spec(MilanTrainer.class.getName(), List.of(command), 1,
                Map.of(RunReference.ENV_UID, uid), Launcher.ownJvmOptions(), logDir))) {
            return launcher.supervise();
        }
    }

    /** The command line as one process runs it, or through {@code launch} for several. */
    private static String[] launched(int processes, String[] command) {
        if (processes == 1) {
            return command;
        }
        List<String> args = new java.util.ArrayList<>(List.of("launch", "--nproc_per_node", "" + processes));
        args.addAll(List.of(command));
        return args.toArray(new String[0]);
    }

    private static double stat(String line, String key) {
        JsonObject o = JsonParser.parseString(line).getAsJsonObject();
        return o.get(key).getAsDouble();
    }
}
