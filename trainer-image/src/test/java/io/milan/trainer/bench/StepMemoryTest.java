package io.milan.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** The CPU estimate sees a tensor that lived and died inside the measured span (within 6 %: other pages of the
 * process may leave the resident set meanwhile). */
class StepMemoryTest {
    private static final long MIB = 1L << 20;

    @Test
    void aFreedTensorOfTheStepIsCountedAtThePeak() {
        try (NDManager m = NDManager.newBaseManager()) {
            StepMemory memory = StepMemory.on(m.getDevice());
            memory.start();
            try (NDArray big = m.ones(new Shape(64, 1024, 1024))) { // 256 MiB, every page written
                assertTrue(big.getFloat(63, 1023, 1023) == 1f);
            }
            long peak = memory.peakAboveStart();
            assertTrue(peak >= 240 * MIB, "peak " + peak / MIB + " MiB above the start, for a 256 MiB tensor ("
                    + memory.method() + ")");
        }
    }

    @Test
    void readingBeforeStartIsAnError() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertThrows(IllegalStateException.class, () -> StepMemory.on(m.getDevice()).peakAboveStart());
        }
    }
}
