package io.milan.trainer.tensorboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.trainer.tensorboard.EventFileReader.Event;
import io.milan.trainer.tensorboard.EventFileReader.Scalar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SummaryWriterTest {

    /** A clock the test moves by hand. */
    static final class ManualClock implements SummaryWriter.Clock {
        double now = 1_700_000_000.25;

        @Override
        public double seconds() {
            return now;
        }
    }

    @Test
    void recordsReadBackWithTheirCrcsTagsStepsAndFloatValues(@TempDir Path dir) throws IOException {
        ManualClock clock = new ManualClock();
        try (SummaryWriter writer = SummaryWriter.open(dir.resolve("tb"), clock)) {
            writer.addScalar("train_loss", 0.123456789, 0);
            clock.now += 1;
            writer.addScalar("lr", 1.5e-4, 333);
            writer.addScalar("perf/test_acc1", 87.5, 2);
        }
        List<Path> files = EventFileReader.files(dir.resolve("tb"));
        assertEquals(1, files.size());
        assertTrue(files.get(0).getFileName().toString().matches("events\\.out\\.tfevents\\.1700000000\\..+\\.\\d+\\.0"),
                files.get(0).toString());
        List<Event> events = EventFileReader.read(files.get(0));
        assertEquals("brain.Event:2", events.get(0).fileVersion());
        assertEquals(1_700_000_000.25, events.get(0).wallTime());
        assertEquals(1_700_000_001.25, events.get(2).wallTime());
        assertEquals(List.of(new Scalar("train_loss", (float) 0.123456789, 0), new Scalar("lr", (float) 1.5e-4, 333),
                new Scalar("perf/test_acc1", 87.5f, 2)), EventFileReader.scalars(dir.resolve("tb")));
    }

    @Test
    void aCorruptedByteFailsTheCrcCheck(@TempDir Path dir) throws IOException {
        try (SummaryWriter writer = SummaryWriter.open(dir, new ManualClock())) {
            writer.addScalar("lr", 0.5, 7);
        }
        Path file = EventFileReader.files(dir).get(0);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 6] ^= 1; // inside the last record's data
        Files.write(file, bytes);
        IOException e = assertThrows(IOException.class, () -> EventFileReader.read(file));
        assertTrue(e.getMessage().contains("bad data CRC"), e.getMessage());
    }

    /** TensorBoard reads a running job's file: records must reach it within FLUSH_SECONDS, not at close. */
    @Test
    void scalarsReachTheFileWithinTheFlushIntervalWithoutClosing(@TempDir Path dir) throws IOException {
        ManualClock clock = new ManualClock();
        try (SummaryWriter writer = SummaryWriter.open(dir, clock)) {
            writer.addScalar("train_loss", 1.0, 0);
            assertEquals(List.of(), EventFileReader.scalars(dir), "buffered until the interval passes");
            clock.now += SummaryWriter.FLUSH_SECONDS;
            writer.addScalar("train_loss", 0.5, 10);
            assertEquals(List.of(new Scalar("train_loss", 1.0f, 0), new Scalar("train_loss", 0.5f, 10)),
                    EventFileReader.scalars(dir));
            writer.addScalar("lr", 0.25, 10);
            writer.flush();
            assertEquals(3, EventFileReader.scalars(dir).size(), "flush() (each epoch) writes everything");
        }
    }

    @Test
    void aLogDirThatCannotBeWrittenTurnsTheWriterOffWithoutThrowing(@TempDir Path dir) throws IOException {
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        try (SummaryWriter writer = SummaryWriter.open(notADirectory.resolve("tb"))) {
            assertNull(writer.file());
            writer.addScalar("lr", 1, 0);
            writer.flush();
        }
    }
}
