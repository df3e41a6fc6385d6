package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MilanPretrainModelTest {

    private static final PretrainConfig TINY = new PretrainConfig(Fixtures.TINY_ENCODER, Fixtures.tinyDecoder(true));

    private NDManager m;

    @BeforeEach
    void setUp() {
        m = NDManager.newBaseManager(Device.cpu());
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    @Test
    void semanticMaskingKeepsThePatchesTheTeacherAttendsTo() {
        // cls->token attention with weight only on patches 3, 5, 10, 14 (the cls column 0 is large and must be
        // dropped, else every index would be off by one)
        float[] row = new float[17];
        row[0] = 100;
        for (int patch : new int[] {3, 5, 10, 14}) {
            row[1 + patch] = 1;
        }
        float[] rows = new float[2 * 17];
        System.arraycopy(row, 0, rows, 0, 17);
        System.arraycopy(row, 0, rows, 17, 17);
        TeacherOutput teacher = new TeacherOutput(Fixtures.randn(m, new Random(1), 2, 17, 8),
                m.create(rows, new Shape(2, 17)));
        try (MilanPretrainModel model = MilanPretrainModel.create(TINY, m, 2)) {
            NDArray images = Fixtures.randn(m, new Random(2), 2, 3, 16, 16);
            for (int seed = 0; seed < 5; seed++) {
                MilanPretrainModel.Output out = model.forward(images, teacher, 0.75, true, new Random(seed));
                long[] keep = out.masking().idsKeep().toLongArray();
                assertEquals(Set.of(3L, 5L, 10L, 14L), new TreeSet<>(Arrays.asList(box(keep, 0, 4))));
                assertEquals(Set.of(3L, 5L, 10L, 14L), new TreeSet<>(Arrays.asList(box(keep, 4, 8))));
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameLossAndAnotherSeedAnother() {
        TeacherOutput teacher = new TeacherOutput(Fixtures.randn(m, new Random(1), 2, 17, 8),
                Fixtures.randn(m, new Random(3), 2, 17).abs());
        try (MilanPretrainModel model = MilanPretrainModel.create(TINY, m, 2)) {
            NDArray images = Fixtures.randn(m, new Random(2), 2, 3, 16, 16);
            for (boolean semantic : new boolean[] {false, true}) {
                float a = model.forward(images, teacher, 0.75, semantic, new Random(7)).loss().getFloat();
                float b = model.forward(images, teacher, 0.75, semantic, new Random(7)).loss().getFloat();
                float c = model.forward(images, teacher, 0.75, semantic, new Random(8)).loss().getFloat();
                assertEquals(a, b);
                assertNotEquals(a, c);
            }
        }
    }

    private static Long[] box(long[] v, int from, int to) {
        return Arrays.stream(Arrays.copyOfRange(v, from, to)).boxed().toArray(Long[]::new);
    }
}
