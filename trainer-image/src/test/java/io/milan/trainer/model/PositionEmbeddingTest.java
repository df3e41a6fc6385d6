package io.milan.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PositionEmbeddingTest {

    @Test
    void smallGridHasTheReferenceLayoutColumnHalfFirst() {
        float[] t = PositionEmbedding.sinCos2d(8, 2, true);
        assertEquals(5 * 8, t.length);
        assertArrayEquals(new float[8], Arrays.copyOfRange(t, 0, 8), "cls row is zero");
        // token (r0, c1) is patch 1, row 2 of the table: omega = [1, 0.01]
        float[] r0c1 = Arrays.copyOfRange(t, 2 * 8, 3 * 8);
        assertArrayEquals(new float[] {(float) Math.sin(1), (float) Math.sin(0.01), (float) Math.cos(1),
            (float) Math.cos(0.01), 0, 0, 1, 1}, r0c1, 0f);
        assertArrayEquals(new float[] {0.841f, 0.010f, 0.540f, 1.000f, 0, 0, 1, 1}, r0c1, 5e-4f);
        // token (r1, c0) is patch 2: the row half moves, the column half is that of column 0
        float[] r1c0 = Arrays.copyOfRange(t, 3 * 8, 4 * 8);
        assertArrayEquals(new float[] {0, 0, 1, 1, 0.841f, 0.010f, 0.540f, 1.000f}, r1c0, 5e-4f);
    }

    @Test
    void withoutClsRowTheTableStartsAtPatchZero() {
        float[] t = PositionEmbedding.sinCos2d(8, 2, false);
        assertEquals(4 * 8, t.length);
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0, 1, 1}, Arrays.copyOfRange(t, 0, 8), 0f);
    }

    @Test
    void widthMustBeAMultipleOfFour() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PositionEmbedding.sinCos2d(6, 2, true));
        assertEquals("2-D sin-cos embedding needs dim divisible by 4, got 6", e.getMessage());
    }
}
