package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milan.api.TrainerExitCodes;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.checkpoint.SafeTensors;
import io.milan.trainer.cli.MilanTrainer;
import io.milan.trainer.dist.Launcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real {@code milan-trainer launch} process, as the kubelet sends it to a pod: every rank stops after
 * the same step with the disrupted exit code, with the checkpoint the grace period allows, and {@code --resume auto}
 * continues as if nothing had happened.
 */
class SigtermTest {
    private static final Duration BOUND = Duration.ofMinutes(5);
    private static final Pattern STOPS = Pattern.compile("SIGTERM: rank (\\d) of (\\d) stops after step (\\d+)");

    @TempDir
    static Path shared;
    static Path data;
    static Path teacher;

    @BeforeAll
    static void prepare() throws Exception {
        data = TinyRun.dataset(shared);
        teacher = TinyRun.randomTeacher(shared);
    }

    /**
     * No grace period: the epoch's end does not fit, so both ranks stop at a step boundary inside an epoch (not its
     * end) with a mid-epoch checkpoint, and the resumed run continues from it: it ends bit-identical to an
     * uninterrupted one.
     */
    @Test
    void twoRanksStopAfterTheSameStepAndTheResumedRunEqualsAnUninterruptedOne(@TempDir Path straight,
            @TempDir Path stopped, @TempDir Path logs) throws Exception {
        int epochs = 3;
        assertEquals(0, MilanTrainer.run(launched(2, smallBatches(TinyRun.pretrain(data, teacher, straight, epochs)))));

        Path message = Files.createFile(logs.resolve("termination-log"));
        Process trainer = startLaunch(2, smallBatches(TinyRun.pretrain(data, teacher, stopped, epochs)), 0, message,
                logs);
        awaitFirstEpoch(trainer, stopped, logs);
        trainer.destroy(); // SIGTERM, as the kubelet sends it
        assertTrue(trainer.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS), "the trainer exits: " + output(logs));

        assertEquals(TrainerExitCodes.DISRUPTED, trainer.exitValue(), output(logs));
        List<Long> steps = stopSteps(output(logs));
        assertEquals(2, steps.size(), "both ranks say where they stopped: " + output(logs));
        assertEquals(steps.get(0), steps.get(1), "every rank stops after the same step");
        JsonObject summary = summary(Files.readString(message));
        assertEquals("disrupted", summary.get("phase").getAsString());
        assertEquals((long) steps.get(0), summary.get("globalStep").getAsLong());
        long lastSaved = newestCheckpointStep(stopped);
        assertTrue(steps.get(0) > lastSaved, "stopped inside an epoch, after the last checkpoint (step " + lastSaved
                + "): " + steps);
        int logged = Files.readAllLines(stopped.resolve("log.txt")).size();
        assertTrue(logged < epochs, "stopped before the end: " + logged + " epochs logged");
        // The step stop wrote a mid-epoch checkpoint there (a disruption loses no steps), named in the summary.
        String saved = summary.get("checkpointSaved").getAsString();
        assertEquals("checkpoint-" + logged + "-step" + steps.get(0) + ".safetensors", saved);
        assertTrue(Files.exists(stopped.resolve(saved)), saved);

        assertEquals(0, MilanTrainer.run(launched(2, smallBatches(TinyRun.pretrain(data, teacher, stopped, epochs,
                "--resume", "auto")))));
        assertSameWeights(straight.resolve("checkpoint-2.safetensors"), stopped.resolve("checkpoint-2.safetensors"));
        assertEquals(Files.readAllLines(straight.resolve("log.txt")), Files.readAllLines(stopped.resolve("log.txt")));
    }

    /**
     * A long grace period: the epoch's end and its checkpoint fit, so the trainer finishes the epoch, saves it and
     * stops there; the resumed run starts at the next epoch and completes the run.
     */
    @Test
    void withTimeToSpareTheTrainerStopsAfterTheEpochsCheckpoint(@TempDir Path out, @TempDir Path logs)
            throws Exception {
        int epochs = 5;
        Path message = Files.createFile(logs.resolve("termination-log"));
        Process trainer = startLaunch(1, TinyRun.pretrain(data, teacher, out, epochs), 600, message, logs);
        awaitFirstEpoch(trainer, out, logs);
        trainer.destroy();
        assertTrue(trainer.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS), "the trainer exits: " + output(logs));

        assertEquals(TrainerExitCodes.DISRUPTED, trainer.exitValue(), output(logs));
        JsonObject summary = summary(Files.readString(message));
        String saved = summary.get("checkpointSaved").getAsString();
        int epoch = Integer.parseInt(saved.replaceAll("\\D", ""));
        assertTrue(epoch >= 1 && epoch < epochs - 1, "a checkpoint after SIGTERM, before the last epoch: " + saved);
        assertEquals(newestCheckpointStep(out), summary.get("globalStep").getAsLong(),
                "stopped right after the checkpoint " + saved);
        assertEquals(epoch + 1, Files.readAllLines(out.resolve("log.txt")).size(), "epochs 0.." + epoch + " logged");

        assertEquals(0, MilanTrainer.run(TinyRun.pretrain(data, teacher, out, epochs, "--resume", "auto")));
        List<String> log = Files.readAllLines(out.resolve("log.txt"));
        assertEquals(epochs, log.size());
        for (int e = 0; e < epochs; e++) {
            assertEquals(e, JsonParser.parseString(log.get(e)).getAsJsonObject().get("epoch").getAsInt());
        }
    }

    /** {@code milan-trainer launch --nproc_per_node N <command>} in its own JVM, as the trainer pod runs it. */
    private static Process startLaunch(int processes, String[] command, int graceSeconds, Path terminationLog,
            Path logs) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> line = new ArrayList<>(List.of(java));
        Launcher.ownJvmOptions().stream().filter(o -> !o.startsWith("-Xmx")).forEach(line::add);
        line.addAll(List.of("-Xmx1g", "-Dmilan.terminationLog=" + terminationLog, "-cp",
                System.getProperty("java.class.path"), MilanTrainer.class.getName(), "launch", "--nproc_per_node",
                String.valueOf(processes)));
        line.addAll(List.of(command));
        ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true)
                .redirectOutput(logs.resolve("output.log").toFile());
        Map<String, String> env = builder.environment();
        env.put(TrainerExitCodes.GRACE_PERIOD_ENV, String.valueOf(graceSeconds));
        List.of("WORLD_SIZE", "RANK", "LOCAL_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT").forEach(env::remove);
        return builder.start();
    }

    /** Waits (bounded) until the run has finished its first epoch, so a SIGTERM now lands in the middle of it. */
    private static void awaitFirstEpoch(Process trainer, Path out, Path logs) throws Exception {
        long deadline = System.nanoTime() + BOUND.toNanos();
        Path log = out.resolve("log.txt");
        while (!Files.exists(log) || Files.readAllLines(log).isEmpty()) {
            assertTrue(trainer.isAlive(), "the trainer exited early: " + output(logs));
            assertTrue(System.nanoTime() < deadline, "no epoch finished: " + output(logs));
            Thread.sleep(50); // poll log.txt
        }
    }

    private static List<Long> stopSteps(String output) {
        List<Long> steps = new ArrayList<>();
        Matcher m = STOPS.matcher(output);
        while (m.find()) {
            steps.add(Long.parseLong(m.group(3)));
        }
        return steps;
    }

    /** The JSON summary in the launcher's termination message ("rank 0 (...) stopped on SIGTERM ...: {...}"). */
    private static JsonObject summary(String message) {
        assertTrue(message.contains("stopped on SIGTERM (exit code 75)") && message.contains("{"), message);
        return JsonParser.parseString(message.substring(message.indexOf('{'))).getAsJsonObject();
    }

    private static long newestCheckpointStep(Path out) throws IOException {
        List<Integer> epochs = new CheckpointStore(out).savedEpochs();
        Path newest = new CheckpointStore(out).modelFile(epochs.get(epochs.size() - 1));
        return Long.parseLong(SafeTensors.readHeader(newest).metadata().get(CheckpointStore.GLOBAL_STEP));
    }

    private static void assertSameWeights(Path expected, Path actual) throws IOException {
        SameTensors.assertSame(expected, actual, " differs after the stop and resume");
    }

    private static String output(Path logs) throws IOException {
        Path file = logs.resolve("output.log");
        return Files.exists(file) ? Files.readString(file) : "";
    }

    /**
     * Batches of 8: 37 steps per epoch on 2 processes, so the SIGTERM sent as epoch 1 begins lands many steps before
     * its end, where the stop falls inside the epoch.
     */
    private static String[] smallBatches(String[] command) {
        String[] args = command.clone();
        args[List.of(args).indexOf("--batch_size") + 1] = "8";
        return args;
    }

    private static String[] launched(int processes, String[] command) {
        List<String> args = new ArrayList<>(List.of("launch", "--nproc_per_node", "" + processes));
        args.addAll(List.of(command));
        return args.toArray(new String[0]);
    }
}
