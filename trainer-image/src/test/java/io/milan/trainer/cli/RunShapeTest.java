package io.milan.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.milan.trainer.checkpoint.RunIdentity;
import io.milan.trainer.model.Pooling;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Which flags shape a run (docs/trainer.md, Checkpoints). The sets are spelled out here so that a new flag, which
 * shapes the run until it is listed in {@link RunShape#MAY_CHANGE}, shows up in this test.
 */
class RunShapeTest {
    private static final Set<String> COMMON = Set.of("command", "--model", "--input_size", "--patch_size",
            "--batch_size", "--accum_iter", "--epochs", "--data_path");

    @Test
    void pretrainingIsShapedByModelDataObjectiveAndSteps() {
        Map<String, String> shape = shape("pretrain", "--model", "vit_tiny", "--lr", "0.1");
        assertEquals(union(COMMON, Set.of("--mask_ratio", "--teacher", "--teacher_path", "--teacher_model",
                "--change_decoder", "--attn_mask", "--decoder_embed_dim", "--decoder_depth", "--decoder_num_heads")),
                shape.keySet());
        assertEquals("pretrain", shape.get("command"));
        assertEquals("vit_tiny", shape.get("--model"));
        assertEquals("400", shape.get("--epochs"), "defaults count: the run trains 400 epochs whether or not it says so");
    }

    @Test
    void classifiersAreShapedByModelDataInitialWeightsClassesAndPooling() {
        Set<String> expected = union(COMMON, Set.of("--finetune", "--nb_classes", "pooling"));
        assertEquals(expected, shape("finetune").keySet());
        assertEquals(expected, shape("linprobe").keySet());
        assertEquals("GLOBAL_AVERAGE", shape("finetune", "--cls_token", "--global_pool").get("pooling"));
        assertEquals("CLS_TOKEN", shape("finetune", "--global_pool", "--cls_token").get("pooling"));
    }

    @Test
    void settingsARunMayChangeWhenItResumesKeepItsFingerprint() {
        String base = fingerprint("pretrain", "--num_workers", "2", "--lr", "0.1", "--seed", "0", "--amp", "off");
        assertEquals(base, fingerprint("pretrain", "--num_workers", "8", "--lr", "0.05", "--seed", "1", "--amp",
                "bf16", "--output_dir", "/elsewhere", "--keep_checkpoints", "3", "--checkpoint_interval", "5",
                "--shuffle_buffer", "64"));
        assertNotEquals(base, fingerprint("pretrain", "--num_workers", "2", "--mask_ratio", "0.5"));
        assertNotEquals(base, fingerprint("pretrain", "--num_workers", "2", "--epochs", "800"));
    }

    private static Map<String, String> shape(String command, String... flags) {
        CommandLine cli = new CommandLine(new MilanTrainer());
        String[] args = new String[flags.length + 1];
        args[0] = command;
        System.arraycopy(flags, 0, args, 1, flags.length);
        cli.parseArgs(args);
        CommandLine sub = cli.getSubcommands().get(command);
        Object user = sub.getCommandSpec().userObject();
        Pooling pooling = user instanceof MilanTrainer.Finetune f ? f.options.pooling
                : user instanceof MilanTrainer.Linprobe l ? l.options.pooling : null;
        return pooling == null ? RunShape.of(sub.getCommandSpec()) : RunShape.of(sub.getCommandSpec(), pooling);
    }

    private static String fingerprint(String command, String... flags) {
        return RunIdentity.of(null, null, shape(command, flags)).fingerprint();
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        java.util.Set<String> all = new java.util.TreeSet<>(a);
        all.addAll(b);
        return all;
    }
}
