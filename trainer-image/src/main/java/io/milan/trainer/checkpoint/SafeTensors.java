package io.milan.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Reader and writer for the safetensors format (what Hugging Face distributes weights in, and what
 * {@code safetensors.torch.load_file} reads):
 * <pre>
 *   8 bytes   little-endian u64 N = header length
 *   N bytes   UTF-8 JSON {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}, ...}
 *             padded with spaces so the data starts at a multiple of 8
 *   rest      the tensors' raw little-endian bytes; offsets are relative to the data start, and the
 *             tensors cover the data section exactly, without gaps
 * </pre>
 * Reading accepts F32, F64, F16 and BF16 (all returned as float32 arrays), I64, I32, I8, U8, BOOL, and I16
 * (returned as int32: DJL's PyTorch engine aborts the JVM on int16 arrays).
 * Writing supports float32, int64, int32, int8, uint8 and boolean arrays. Files are written atomically, with a
 * CRC-32C of the data section in the metadata ({@value #CRC_KEY}) so a reader also notices corrupted bytes, not
 * only a wrong length; files without it (e.g. converted third-party weights) are checked structurally only.
 */
public final class SafeTensors {

    /** Metadata key holding the CRC-32C (8 hex digits) of the data section. */
    public static final String CRC_KEY = "milan.data_crc32c";
    static final String METADATA = "__metadata__";
    private static final String CRC_PLACEHOLDER = "00000000";
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    static {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new ExceptionInInitializerError("safetensors I/O assumes a little-endian platform");
        }
    }

    private SafeTensors() {
    }

    /** Element types of the format that this class handles. */
    public enum Dtype {
        F32(4), F64(8), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

        final int bytes;

        Dtype(int bytes) {
            this.bytes = bytes;
        }

        static Dtype of(DataType type) {
            return switch (type) {
                case FLOAT32 -> F32;
                case INT64 -> I64;
                case INT32 -> I32;
                case INT8 -> I8;
                case UINT8 -> U8;
                case BOOLEAN -> BOOL;
                default -> throw new IllegalArgumentException("cannot write " + type
                        + " tensors; supported: float32, int64, int32, int8, uint8, boolean");
            };
        }

        /** The DJL type a tensor of this dtype is loaded as (floating types become float32). */
        DataType loadedAs() {
            return switch (this) {
                case I64 -> DataType.INT64;
                case I32, I16 -> DataType.INT32;
                case I8 -> DataType.INT8;
                case U8 -> DataType.UINT8;
                case BOOL -> DataType.BOOLEAN;
                default -> DataType.FLOAT32;
            };
        }
    }

    /** One tensor's entry in the header; offsets are relative to the data section. */
    public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {
        public Shape djlShape() {
            return new Shape(shape);
        }
    }

    /** A validated header: the tensors in file order and the metadata. */
    public record Header(Path file, Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart,
            long dataLength) {
    }

    /** The tensors (in file order) and metadata of a file. */
    public record Contents(Map<String, NDArray> tensors, Map<String, String> metadata) {
    }

    /**
     * Writes {@code tensors} (in map order) and {@code metadata} to {@code file} atomically: the file is
     * replaced only once it is complete and on disk.
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        if (metadata.containsKey(CRC_KEY)) {
            throw new IllegalArgumentException("metadata key " + CRC_KEY + " is reserved");
        }
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        metadata.forEach(meta::addProperty);
        meta.addProperty(CRC_KEY, CRC_PLACEHOLDER);
        header.add(METADATA, meta);
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name.equals(METADATA)) {
                throw new IllegalArgumentException("tensor name " + METADATA + " is reserved");
            }
            NDArray array = e.getValue();
            Dtype dtype;
            try {
                dtype = Dtype.of(array.getDataType());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("tensor '" + name + "': " + ex.getMessage(), ex);
            }
            long length = Math.multiplyExact(array.getShape().size(), dtype.bytes);
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", dtype.name());
            JsonArray shape = new JsonArray();
            for (long d : array.getShape().getShape()) {
                shape.add(d);
            }
            entry.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + length);
            entry.add("data_offsets", offsets);
            header.add(name, entry);
            offset += length;
        }
        AtomicFiles.write(file, channel -> {
            ByteBuffer headerBytes = encodeHeader(header);
            writeFully(channel, headerBytes.duplicate());
            CRC32C crc = new CRC32C();
            for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                ByteBuffer data = e.getValue().toByteBuffer();
                crc.update(data.duplicate());
                writeFully(channel, data);
            }
            // The header was written with a placeholder of the same length; now put the real CRC in.
            meta.addProperty(CRC_KEY, String.format(Locale.ROOT, "%08x", crc.getValue()));
            ByteBuffer finalHeader = encodeHeader(header);
            if (finalHeader.remaining() != headerBytes.remaining()) {
                throw new IllegalStateException("header length changed while writing " + file);
            }
            channel.position(0);
            writeFully(channel, finalHeader);
        });
    }

    /** Reads and validates the header of {@code file} (structure and lengths, not the CRC). */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel channel = open(file)) {
            return SafeTensorsHeader.read(file, channel);
        }
    }

    /**
     * Reads every tensor of {@code file} into arrays owned by {@code manager}, after validating the header
     * and, when present, the data CRC. On any error nothing is left allocated.
     */
    public static Contents read(Path file, NDManager manager) throws IOException {
        try (FileChannel channel = open(file)) {
            Header header = SafeTensorsHeader.read(file, channel);
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            boolean complete = false;
            try {
                CRC32C crc = new CRC32C();
                // One scratch buffer for all tensors: each array copies it into its own memory.
                long largest = header.tensors().values().stream().mapToLong(t -> t.end() - t.begin()).max().orElse(0);
                ByteBuffer scratch = allocate(file, largest);
                for (TensorInfo info : SafeTensorsHeader.byOffset(header)) {
                    ByteBuffer raw = readRange(file, channel, header.dataStart() + info.begin(),
                            info.end() - info.begin(), scratch);
                    crc.update(raw.duplicate());
                    arrays.put(info.name(), toArray(manager, info, raw));
                }
                checkCrc(file, header, crc);
                complete = true;
            } finally {
                if (!complete) {
                    arrays.values().forEach(NDArray::close);
                }
            }
            Map<String, NDArray> inFileOrder = new LinkedHashMap<>();
            header.tensors().keySet().forEach(name -> inFileOrder.put(name, arrays.get(name)));
            return new Contents(Collections.unmodifiableMap(inFileOrder), header.metadata());
        }
    }

    /** Validates {@code file} completely (header, lengths, CRC) without creating arrays. */
    public static Header verify(Path file) throws IOException {
        try (FileChannel channel = open(file)) {
            Header header = SafeTensorsHeader.read(file, channel);
            CRC32C crc = new CRC32C();
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            long position = header.dataStart();
            long end = header.dataStart() + header.dataLength();
            while (position < end) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), end - position));
                int n = channel.read(chunk, position);
                if (n < 0) {
                    throw new SafeTensorsFormatException(file, "unexpected end of file at byte " + position);
                }
                position += n;
                crc.update(chunk.flip());
            }
            checkCrc(file, header, crc);
            return header;
        }
    }

    private static FileChannel open(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "safetensors file does not exist");
        }
    }

    private static void checkCrc(Path file, Header header, CRC32C crc) throws IOException {
        String expected = header.metadata().get(CRC_KEY);
        if (expected == null) {
            return;
        }
        String actual = String.format(Locale.ROOT, "%08x", crc.getValue());
        if (!actual.equals(expected)) {
            throw new SafeTensorsFormatException(file, "data checksum mismatch (stored " + expected + ", computed "
                    + actual + "): the file is corrupt");
        }
    }

    /** Builds the array for one tensor; non-float32 floating types are converted to float32. */
    private static NDArray toArray(NDManager manager, TensorInfo info, ByteBuffer raw) {
        ByteBuffer data = switch (info.dtype()) {
            case F16 -> Float16.halfToFloat32(raw);
            case BF16 -> Float16.bfloat16ToFloat32(raw);
            case F64 -> Float16.float64ToFloat32(raw);
            case I16 -> Float16.int16ToInt32(raw);
            default -> raw;
        };
        // On CPU, create(ByteBuffer) wraps the Java buffer without copying; duplicate() gives the tensor
        // its own native memory so views of it stay valid after the buffer is garbage-collected.
        try (NDArray wrapped = manager.create(data, info.djlShape(), info.dtype().loadedAs())) {
            return wrapped.duplicate();
        }
    }

    /** Reads {@code length} bytes at {@code position} into the start of {@code buffer}, returned as a view. */
    static ByteBuffer readRange(Path file, FileChannel channel, long position, long length, ByteBuffer buffer)
            throws IOException {
        ByteBuffer target = buffer.clear().limit((int) length).slice().order(ByteOrder.nativeOrder());
        long p = position;
        while (target.hasRemaining()) {
            int n = channel.read(target, p);
            if (n < 0) {
                throw new SafeTensorsFormatException(file, "unexpected end of file at byte " + p + " (truncated)");
            }
            p += n;
        }
        return target.flip();
    }

    static ByteBuffer allocate(Path file, long length) throws IOException {
        if (length > Integer.MAX_VALUE - 16) {
            throw new SafeTensorsFormatException(file, "a single tensor of " + length + " bytes is too large to read");
        }
        return ByteBuffer.allocateDirect((int) length).order(ByteOrder.nativeOrder());
    }

    private static ByteBuffer encodeHeader(JsonObject header) {
        byte[] json = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (8 + json.length + 7) / 8 * 8 - 8; // data must start 8-byte aligned
        ByteBuffer buffer = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(padded).put(json);
        while (buffer.hasRemaining()) {
            buffer.put((byte) ' ');
        }
        return buffer.flip();
    }

    /**
     * Writes in slices of at most 8 MiB: the JDK copies a heap buffer through a temporary direct buffer of
     * the write's size and caches it per thread, which for a whole large tensor would pin that memory.
     */
    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        final int chunk = 8 << 20;
        while (buffer.hasRemaining()) {
            ByteBuffer slice = buffer.duplicate();
            slice.limit(slice.position() + Math.min(chunk, slice.remaining()));
            while (slice.hasRemaining()) {
                channel.write(slice);
            }
            buffer.position(slice.position());
        }
    }
}
