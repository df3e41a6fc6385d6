package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.api.TrainerExitCodes;
import io.milan.trainer.cli.MilanTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetSubsetTest {

    @TempDir
    Path dir;

    @Test
    void copiesTheFirstFilesOfEveryClassOfEachSplitAndNothingElse() throws IOException {
        Path from = dataset(Map.of("train", 5, "val", 3, "test", 2));
        Path to = dir.resolve("out/slice");
        assertEquals(0, MilanTrainer.run("subset", "--from", from.toString(), "--to", to.toString(),
                "--per-class", "train=2,val=4"));
        assertEquals(List.of("train", "val"), names(to));
        assertEquals(List.of("0-a", "1-b"), names(to.resolve("train")));
        assertEquals(List.of("00.png", "01.png"), names(to.resolve("train/1-b")));
        assertEquals(List.of("00.png", "01.png", "02.png"), names(to.resolve("val/0-a"))); // fewer than asked: all
        assertEquals("train/1-b/01.png", Files.readString(to.resolve("train/1-b/01.png")));
        assertEquals(List.of("slice"), names(to.getParent()), "no temporary directory is left behind");
    }

    @Test
    void badInputIsAUsageErrorNamingTheOptionAndLeavesNoOutput() throws IOException {
        Path from = dataset(Map.of("train", 2));
        Path to = dir.resolve("slice");
        StringWriter err = new StringWriter();
        assertEquals(TrainerExitCodes.CONFIGURATION, MilanTrainer.run(new PrintWriter(err, true), "subset", "--from", from.toString(),
                "--to", to.toString(), "--per-class", "train=2,val=1"));
        assertTrue(err.toString().contains("--from") && err.toString().contains("val"), err.toString());
        assertFalse(Files.exists(to));

        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> DatasetSubset.copy(from, to, Map.of("train", 0)));
        assertTrue(zero.getMessage().contains("train=0"), zero.getMessage());

        Files.createDirectories(to);
        IllegalArgumentException exists = assertThrows(IllegalArgumentException.class,
                () -> DatasetSubset.copy(from, to, Map.of("train", 1)));
        assertTrue(exists.getMessage().contains("already exists"), exists.getMessage());
    }

    /** {@code data/<split>/<class>/<nn>.png} for classes 0-a and 1-b, each file holding its own relative path. */
    private Path dataset(Map<String, Integer> filesPerClass) throws IOException {
        Path root = dir.resolve("data");
        for (Map.Entry<String, Integer> split : filesPerClass.entrySet()) {
            for (String c : List.of("0-a", "1-b")) {
                Path classDir = Files.createDirectories(root.resolve(split.getKey()).resolve(c));
                for (int i = 0; i < split.getValue(); i++) {
                    String name = String.format("%02d.png", i);
                    Files.writeString(classDir.resolve(name), split.getKey() + "/" + c + "/" + name);
                }
            }
        }
        return root;
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
