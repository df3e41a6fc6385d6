package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milan.api.TrainerExitCodes;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.checkpoint.SafeTensors;
import io.milan.trainer.cli.MilanTrainer;
import io.milan.trainer.data.ImageFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real training and evaluation streaming tar shards (TinyRun's Fashion-MNIST, sharded by the trainer itself). */
class ShardTrainingTest {
    @TempDir
    static Path shared;
    static Path folderData;
    static Path shardData;
    static Path teacher;

    @BeforeAll
    static void prepare() throws Exception {
        folderData = TinyRun.dataset(shared);
        ClassifierRunTest.trimVal(folderData, ClassifierRunTest.VAL_PER_CLASS);
        shardData = shared.resolve("shards");
        for (String split : List.of("train", "val")) {
            // 600 train images in shards of 64: 9 full shards and one of 24, so ranks split inside shards.
            assertEquals(0, MilanTrainer.run("shard", "--from", folderData.resolve(split).toString(), "--to",
                    shardData.resolve(split).toString(), "--shard-size", "64"));
        }
        teacher = TinyRun.randomTeacher(shared);
    }

    /** 2 processes over Gloo: each rank its part of the shards, the same steps; the position in the checkpoint. */
    @Test
    void pretrainingStreamsShardsOnTwoProcessesAndRecordsTheDataPosition(@TempDir Path out) throws Exception {
        assertEquals(0, MilanTrainer.run(pretrainOnShards(out)));
        List<String> log = Files.readAllLines(out.resolve("log.txt"));
        assertEquals(2, log.size(), log.toString());
        try (NDManager m = NDManager.newBaseManager()) {
            String json = SafeTensors.read(out.resolve("checkpoint-1.safetensors"), m).metadata().get("dataPosition");
            JsonObject position = JsonParser.parseString(json).getAsJsonObject();
            assertEquals(2, position.get("epoch").getAsInt(), json);
            assertEquals(0, position.get("batch").getAsInt(), json);
            assertEquals(2, position.get("worldSize").getAsInt(), json);
            assertTrue(position.get("fingerprint").getAsString().startsWith("shards:"), json);
        }
    }

    /**
     * Stopped inside epoch 1 (the SIGTERM path's step stop), a 2-process run from shards leaves a mid-epoch
     * checkpoint whose data position is the batch after its step; --resume auto continues the shard streams there
     * and ends with the weights and log.txt of an uninterrupted run, bit for bit.
     */
    @Test
    void resumingInsideAnEpochOfShardsGivesTheSameRunAsAnUninterruptedOne(@TempDir Path straight,
            @TempDir Path stopped) throws Exception {
        int stepsPerEpoch = 600 / (32 * 2);
        long stopAfter = stepsPerEpoch + 4;
        assertEquals(0, MilanTrainer.run(pretrainOnShards(straight, "--save_every_minutes", "0")));
        assertEquals(TrainerExitCodes.DISRUPTED, MilanTrainer.run(pretrainOnShards(stopped,
                "--save_every_minutes", "0", "--stop_after_steps", "" + stopAfter)));
        Path midEpoch = stopped.resolve("checkpoint-1-step" + stopAfter + ".safetensors");
        JsonObject position = JsonParser.parseString(SafeTensors.readHeader(midEpoch).metadata()
                .get("dataPosition")).getAsJsonObject();
        assertEquals(1, position.get("epoch").getAsInt(), position.toString());
        assertEquals(4, position.get("batch").getAsInt(), "the batch after step " + stopAfter + ": " + position);

        assertEquals(0, MilanTrainer.run(pretrainOnShards(stopped, "--resume", "auto")));
        for (String file : List.of("checkpoint-1.safetensors", "checkpoint-1.optim.safetensors")) {
            SameTensors.assertSame(straight.resolve(file), stopped.resolve(file), " of " + file + " differs after resume");
        }
        assertEquals(Files.readAllLines(straight.resolve("log.txt")), Files.readAllLines(stopped.resolve("log.txt")));
    }

    /**
     * A mid-epoch checkpoint resumed with another --shuffle_buffer (a flag a resumed run may change) cannot continue
     * its epoch's sample order: the epoch starts over from its first batch with the checkpoint's weights, so epoch 1
     * ends a whole epoch of steps after the stop, not at the uninterrupted run's step.
     */
    @Test
    void aMidEpochCheckpointResumedWithAnotherShuffleBufferStartsItsEpochOver(@TempDir Path out) throws Exception {
        int stepsPerEpoch = 600 / (32 * 2);
        long stopAfter = stepsPerEpoch + 4;
        assertEquals(TrainerExitCodes.DISRUPTED, MilanTrainer.run(pretrainOnShards(out,
                "--save_every_minutes", "0", "--stop_after_steps", "" + stopAfter)));
        List<String> args = new java.util.ArrayList<>(List.of(pretrainOnShards(out, "--resume", "auto")));
        args.set(args.indexOf("--shuffle_buffer") + 1, "50");
        assertEquals(0, MilanTrainer.run(args.toArray(new String[0])));
        String step = SafeTensors.readHeader(out.resolve("checkpoint-1.safetensors")).metadata()
                .get(CheckpointStore.GLOBAL_STEP);
        assertEquals(stopAfter + stepsPerEpoch, Long.parseLong(step),
                "epoch 1 ran again from its first batch after the step-" + stopAfter + " checkpoint");
    }

    private static String[] pretrainOnShards(Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("launch", "--nproc_per_node", "2",
                "pretrain", "--model", "vit_tiny", "--input_size", "" + TinyRun.SIZE, "--patch_size",
                "" + TinyRun.PATCH, "--batch_size", "32", "--epochs", "2", "--warmup_epochs", "1", "--blr", "1e-3",
                "--mask_ratio", "0.75", "--use_clip", "--teacher", "encoder", "--teacher_path", teacher.toString(),
                "--change_decoder", "--attn_mask", "--decoder_embed_dim", "64", "--decoder_depth", "2",
                "--decoder_num_heads", "4", "--checkpoint_interval", "1", "--num_workers", "2", "--device", "cpu",
                "--shuffle_buffer", "100", "--data_path", shardData.toString(), "--output_dir", out.toString()));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    /** Fine-tuning from shards evaluates the val shards to the figures `eval` gets from the val ImageFolder. */
    @Test
    void evaluationFromShardsMatchesTheImageFolder(@TempDir Path out, @TempDir Path evalOut) throws Exception {
        assertEquals(0, MilanTrainer.run(finetune(out, shardData)));
        assertEquals(0, MilanTrainer.run("eval", "--model", "vit_tiny", "--input_size", "16", "--patch_size", "4",
                "--batch_size", "32", "--data_path", folderData.toString(), "--resume",
                out.resolve("checkpoint-0.safetensors").toString(), "--output_dir", evalOut.toString(), "--device",
                "cpu", "--num_workers", "2"));
        String fromShards = Files.readAllLines(out.resolve("log.txt")).get(0);
        String fromFolder = Files.readAllLines(evalOut.resolve("log.txt")).get(0);
        int valImages = ImageFolder.scan(folderData.resolve("val")).size();
        // Other batches (another order) may move a logit in the last bits; not an image's top-1.
        assertEquals(ClassifierRunTest.stat(fromFolder, "test_acc1"), ClassifierRunTest.stat(fromShards, "test_acc1"),
                100.0 / valImages / 2, fromShards + " vs " + fromFolder);
        assertEquals(ClassifierRunTest.stat(fromFolder, "test_acc5"), ClassifierRunTest.stat(fromShards, "test_acc5"),
                100.0 / valImages / 2, fromShards + " vs " + fromFolder);
        // (test_loss is the reference's unweighted mean of batch means: it depends on how images fall into batches.)
    }

    /** One epoch of ClassifierRunTest's fine-tuning (mixup, cutmix, drop path) on {@code data}. */
    private static String[] finetune(Path output, Path data) {
        return new String[] {"finetune", "--global_pool", "--model", "vit_tiny", "--input_size", "16", "--patch_size",
            "4", "--batch_size", "32", "--epochs", "1", "--warmup_epochs", "0", "--lr", "2e-3", "--layer_decay",
            "0.75", "--drop_path", "0.1", "--mixup", "0.8", "--cutmix", "1.0", "--smoothing", "0.1", "--aa", "",
            "--reprob", "0", "--nb_classes", "10", "--checkpoint_interval", "1", "--num_workers", "2", "--device",
            "cpu", "--data_path", data.toString(), "--output_dir", output.toString()};
    }

    @Test
    void aDamagedShardStopsTrainingWithAnErrorNamingIt(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("data");
        for (String split : List.of("train", "val")) {
            Files.createDirectories(copy.resolve(split));
            try (var files = Files.list(shardData.resolve(split))) {
                for (Path f : files.toList()) {
                    Files.copy(f, copy.resolve(split).resolve(f.getFileName()));
                }
            }
        }
        Path damaged = copy.resolve("train/shard-000004.tar");
        byte[] bytes = Files.readAllBytes(damaged);
        bytes[bytes.length / 2] ^= 1;
        Files.write(damaged, bytes);
        java.io.StringWriter err = new java.io.StringWriter();
        int code = MilanTrainer.run(new java.io.PrintWriter(err, true), finetune(dir.resolve("out"), copy));
        assertEquals(1, code);
        assertTrue(err.toString().contains(damaged.toString()) && err.toString().contains("SHA-256"), err.toString());
    }
}
