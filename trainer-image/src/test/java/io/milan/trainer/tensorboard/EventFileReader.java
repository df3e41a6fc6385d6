package io.milan.trainer.tensorboard;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A test-side reader of TensorBoard event files, written from the formats rather than from {@link EventFile}:
 * TFRecord framing with both masked CRC32Cs checked, then the Event / Summary / Value fields of event.proto and
 * summary.proto.
 */
public final class EventFileReader {

    /** One Event: file_version set for the first record, else the summary's scalars. */
    public record Event(double wallTime, long step, String fileVersion, List<Scalar> scalars) {
    }

    public record Scalar(String tag, float value, long step) {
    }

    private EventFileReader() {
    }

    /** The event files in {@code dir} ({@code *tfevents*}), oldest name first. */
    public static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList();
        }
    }

    /** Every scalar of every event file in {@code dir}, in file then record order. */
    public static List<Scalar> scalars(Path dir) throws IOException {
        List<Scalar> all = new ArrayList<>();
        for (Path f : files(dir)) {
            for (Event e : read(f)) {
                all.addAll(e.scalars());
            }
        }
        return all;
    }

    public static List<Event> read(Path file) throws IOException {
        List<Event> events = new ArrayList<>();
        for (byte[] data : records(Files.readAllBytes(file), file)) {
            events.add(parseEvent(data));
        }
        return events;
    }

    /** Splits TFRecords, checking the length's and the data's masked CRC32C. */
    static List<byte[]> records(byte[] bytes, Path file) throws IOException {
        List<byte[]> records = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            if (in.remaining() < 12) {
                throw new IOException(file + ": truncated record header at byte " + in.position());
            }
            int start = in.position();
            long length = in.getLong();
            int lengthCrc = in.getInt();
            if (lengthCrc != masked(bytes, start, 8)) {
                throw new IOException(file + ": bad length CRC at byte " + start);
            }
            if (length < 0 || length + 4 > in.remaining()) {
                throw new IOException(file + ": truncated record at byte " + start);
            }
            byte[] data = new byte[(int) length];
            in.get(data);
            if (in.getInt() != masked(data, 0, data.length)) {
                throw new IOException(file + ": bad data CRC in the record at byte " + start);
            }
            records.add(data);
        }
        return records;
    }

    /** crc32c.h's Mask: ((crc >> 15) | (crc << 17)) + 0xa282ead8. */
    static int masked(byte[] bytes, int offset, int length) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes, offset, length);
        long c = crc.getValue();
        long rotated = ((c >>> 15) | (c << 17)) & 0xffffffffL;
        return (int) ((rotated + 0xa282ead8L) & 0xffffffffL);
    }

    private static Event parseEvent(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        double wallTime = 0;
        long step = 0;
        String fileVersion = null;
        List<byte[]> values = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> wallTime = in.readDouble();
                case 2 -> step = in.readInt64();
                case 3 -> fileVersion = in.readString();
                case 5 -> values.addAll(summaryValues(in.readByteArray()));
                default -> in.skipField(tag);
            }
        }
        List<Scalar> scalars = new ArrayList<>();
        for (byte[] v : values) {
            scalars.add(parseValue(v, step));
        }
        return new Event(wallTime, step, fileVersion, scalars);
    }

    private static List<byte[]> summaryValues(byte[] summary) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(summary);
        List<byte[]> values = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (WireFormat.getTagFieldNumber(tag) == 1) {
                values.add(in.readByteArray());
            } else {
                in.skipField(tag);
            }
        }
        return values;
    }

    private static Scalar parseValue(byte[] value, long step) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(value);
        String tag = null;
        Float simple = null;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            switch (WireFormat.getTagFieldNumber(t)) {
                case 1 -> tag = in.readString();
                case 2 -> simple = in.readFloat();
                default -> in.skipField(t);
            }
        }
        if (tag == null || simple == null) {
            throw new IOException("a summary value without tag or simple_value");
        }
        return new Scalar(tag, simple, step);
    }
}
