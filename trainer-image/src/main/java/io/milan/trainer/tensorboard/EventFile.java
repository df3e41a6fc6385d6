package io.milan.trainer.tensorboard;

import com.google.protobuf.CodedOutputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * One TensorBoard event file, {@code events.out.tfevents.<secs>.<host>.<pid>.0} as PyTorch's
 * {@code SummaryWriter} names it: TFRecord records (tensorflow/core/lib/io/record_writer.cc), each an
 * {@code Event} protobuf, the first one {@code file_version: "brain.Event:2"}. Writes go to a buffer;
 * {@link #flush()} hands them to the file system, after which a reader (TensorBoard) sees them.
 */
public final class EventFile implements Closeable {
    static final String FILE_VERSION = "brain.Event:2";

    // tensorflow/core/util/event.proto, message Event.
    static final int EVENT_WALL_TIME = 1; // double
    static final int EVENT_STEP = 2; // int64
    static final int EVENT_FILE_VERSION = 3; // string (oneof what)
    static final int EVENT_SUMMARY = 5; // Summary (oneof what)
    // tensorflow/core/framework/summary.proto: Summary.value = 1 (repeated Value); Value.tag = 1,
    // Value.simple_value = 2 (float, oneof value).
    static final int SUMMARY_VALUE = 1;
    static final int VALUE_TAG = 1;
    static final int VALUE_SIMPLE_VALUE = 2;

    private final Path file;
    private final OutputStream out;

    private EventFile(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /** Creates a new event file in {@code dir} (created if missing) and writes its file_version record. */
    public static EventFile create(Path dir, String host, double wallTimeSeconds) throws IOException {
        Files.createDirectories(dir);
        String name = String.format("events.out.tfevents.%010d.%s.%d.0", (long) wallTimeSeconds, host,
                ProcessHandle.current().pid());
        Path file = dir.resolve(name);
        OutputStream stream = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), 1 << 16);
        EventFile events = new EventFile(file, stream);
        events.write(fileVersionEvent(wallTimeSeconds));
        return events;
    }

    public Path file() {
        return file;
    }

    /** One scalar, as {@code add_scalar(tag, value, step)}: a float32 {@code simple_value}. */
    public void scalar(String tag, double value, long step, double wallTimeSeconds) throws IOException {
        write(scalarEvent(tag, (float) value, step, wallTimeSeconds));
    }

    /** Hands the buffered records to the file system (no fsync: readers need no more). */
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    private void write(byte[] event) throws IOException {
        out.write(record(event));
    }

    static byte[] fileVersionEvent(double wallTime) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream coded = CodedOutputStream.newInstance(bytes);
        coded.writeDouble(EVENT_WALL_TIME, wallTime);
        coded.writeString(EVENT_FILE_VERSION, FILE_VERSION);
        coded.flush();
        return bytes.toByteArray();
    }

    static byte[] scalarEvent(String tag, float value, long step, double wallTime) throws IOException {
        ByteArrayOutputStream valueBytes = new ByteArrayOutputStream();
        CodedOutputStream v = CodedOutputStream.newInstance(valueBytes);
        v.writeString(VALUE_TAG, tag);
        v.writeFloat(VALUE_SIMPLE_VALUE, value);
        v.flush();
        ByteArrayOutputStream summaryBytes = new ByteArrayOutputStream();
        CodedOutputStream s = CodedOutputStream.newInstance(summaryBytes);
        s.writeByteArray(SUMMARY_VALUE, valueBytes.toByteArray());
        s.flush();
        ByteArrayOutputStream eventBytes = new ByteArrayOutputStream();
        CodedOutputStream e = CodedOutputStream.newInstance(eventBytes);
        e.writeDouble(EVENT_WALL_TIME, wallTime);
        e.writeInt64(EVENT_STEP, step);
        e.writeByteArray(EVENT_SUMMARY, summaryBytes.toByteArray());
        e.flush();
        return eventBytes.toByteArray();
    }

    /**
     * TFRecord framing: uint64 length, masked CRC32C of those 8 bytes, the data, masked CRC32C of the data
     * (all little-endian).
     */
    static byte[] record(byte[] data) {
        ByteBuffer buffer = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(data.length);
        buffer.putInt(maskedCrc32c(buffer.array(), 0, 8));
        buffer.put(data);
        buffer.putInt(maskedCrc32c(data, 0, data.length));
        return buffer.array();
    }

    /** TFRecord's masked CRC32C (tensorflow/core/lib/hash/crc32c.h: rotate right by 15, add a constant). */
    static int maskedCrc32c(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }
}
