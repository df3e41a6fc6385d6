package io.milan.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.trainer.checkpoint.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The --predictions CSV: one row per image in dataset order, merged across ranks, written atomically. */
class PredictionsTest {

    private static TopK top(long[][] classes, float[][] logits) {
        return new TopK(classes, logits);
    }

    @Test
    void ranksMergeIntoOneRowPerImageInDatasetOrder(@TempDir Path dir) throws IOException {
        String[] paths = {"val/cat/a.jpg", "val/cat/b,1.jpg", "val/dog/\"c\".jpg", "val/dog/d.jpg"};
        Predictions rank0 = new Predictions();
        rank0.add(new long[] {2, 0}, new long[] {1, 0},
                top(new long[][] {{1, 0}, {0, 1}}, new float[][] {{2.5f, -1f}, {0.125f, 1e-7f}}), i -> paths[(int) i]);
        Predictions rank1 = new Predictions();
        // index 0 again: the distributed sampler's padding repeats a sample; one row remains
        rank1.add(new long[] {3, 0, 1}, new long[] {1, 0, 0},
                top(new long[][] {{0, 1}, {0, 1}, {1, 0}}, new float[][] {{3f, 2f}, {0.125f, 1e-7f}, {7f, 6f}}),
                i -> paths[(int) i]);
        Predictions merged = new Predictions().merge(Predictions.decode(rank0.encode()))
                .merge(Predictions.decode(rank1.encode()));
        assertEquals(4, merged.size());

        Path file = dir.resolve("out").resolve("predictions.csv");
        merged.writeCsv(file);
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals(List.of(
                "path,label,class_1,logit_1,class_2,logit_2",
                "val/cat/a.jpg,0,0,0.125,1,1.0E-7",
                "\"val/cat/b,1.jpg\",0,1,7.0,0,6.0",
                "\"val/dog/\"\"c\"\".jpg\",1,1,2.5,0,-1.0",
                "val/dog/d.jpg,1,0,3.0,1,2.0"), lines);
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertTrue(files.noneMatch(AtomicFiles::isTemporary), "no temporary file is left behind");
        }
        // rewriting replaces the file as a whole
        new Predictions().writeCsv(file);
        assertEquals(List.of("path,label,class_1,logit_1,class_2,logit_2,class_3,logit_3,class_4,logit_4,class_5,"
                + "logit_5"), Files.readAllLines(file));
    }

    @Test
    void logitsRoundTripExactlyThroughTheCsvText() {
        Predictions p = new Predictions();
        float tricky = Math.nextUp(1.1f);
        p.add(new Predictions.Row(0, "x.png", 3, new long[] {3}, new float[] {tricky}));
        String row = p.toCsv().split("\n")[1];
        assertEquals(tricky, Float.parseFloat(row.split(",")[3]));
    }

    @Test
    void inconsistentInputIsRejected() {
        Predictions p = new Predictions();
        p.add(new Predictions.Row(0, "a", 0, new long[] {0, 1}, new float[] {1, 0}));
        assertThrows(IllegalArgumentException.class,
                () -> p.add(new Predictions.Row(1, "b", 0, new long[] {0}, new float[] {1})));
        assertThrows(IllegalArgumentException.class,
                () -> p.add(new long[] {1, 2}, new long[] {0}, top(new long[][] {{0}}, new float[][] {{0}}), i -> "x"));
        assertThrows(IllegalArgumentException.class, () -> Predictions.decode(new byte[] {0, 0, 0, 1, 7}));
    }
}
