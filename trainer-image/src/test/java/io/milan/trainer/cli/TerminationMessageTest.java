package io.milan.trainer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.api.TrainerExitCodes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A failed command leaves its one-line error where Kubernetes reads the termination message. */
class TerminationMessageTest {

    @AfterEach
    void reset() {
        System.clearProperty("milan.terminationLog");
    }

    @Test
    void aMissingDatasetIsTheTerminationMessage(@TempDir Path dir) throws Exception {
        Path log = Files.createFile(dir.resolve("termination-log")); // the kubelet creates it empty
        System.setProperty("milan.terminationLog", log.toString());
        Path missing = dir.resolve("no-such-dataset");
        int code = MilanTrainer.run(new PrintWriter(new StringWriter(), true), "finetune", "--model", "vit_micro",
                "--input_size", "16", "--patch_size", "4", "--nb_classes", "10", "--device", "cpu",
                "--data_path", missing.toString(), "--output_dir", dir.resolve("out").toString());
        String message = Files.readString(log);
        assertTrue(code != 0, message);
        assertTrue(message.startsWith("finetune"), message);
        assertTrue(message.contains(missing.toString()) && !message.contains("\n"), message);
    }

    @Test
    void outsideKubernetesNothingIsWritten(@TempDir Path dir) {
        Path log = dir.resolve("absent");
        System.setProperty("milan.terminationLog", log.toString());
        int code = MilanTrainer.run(new PrintWriter(new StringWriter(), true), "finetune", "--model", "vit_giant");
        assertEquals(TrainerExitCodes.CONFIGURATION, code);
        assertTrue(Files.notExists(log));
    }
}
