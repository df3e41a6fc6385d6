package io.milan.trainer.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir
    Path dir;
    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void roundTripIsBitExact() throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        tensors.put("blocks.0.attn.qkv.weight", manager.create(new float[] {1.5f, -0f, Float.MIN_VALUE,
                Float.MAX_VALUE, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc00123)}, new Shape(2, 3)));
        tensors.put("ids", manager.create(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}));
        tensors.put("counts", manager.create(new int[] {Integer.MIN_VALUE, 7}, new Shape(2, 1)));
        tensors.put("scalar", manager.create(3.25f));
        tensors.put("empty", manager.create(new float[0], new Shape(0, 4)));
        Map<String, String> metadata = Map.of("args", "{\"epochs\": 400, \"name\": \"ü<>\"}", "seed", "0");
        Path file = dir.resolve("t.safetensors");
        SafeTensors.write(file, tensors, metadata);

        SafeTensors.Contents back = SafeTensors.read(file, manager);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()));
        for (String name : tensors.keySet()) {
            NDArray expected = tensors.get(name);
            NDArray actual = back.tensors().get(name);
            assertEquals(expected.getShape(), actual.getShape(), name);
            assertEquals(expected.getDataType(), actual.getDataType(), name);
            assertEquals(expected.toByteBuffer(), actual.toByteBuffer(), name); // byte-for-byte, NaN payload too
        }
        assertEquals("0", back.metadata().get("seed"));
        assertEquals("{\"epochs\": 400, \"name\": \"ü<>\"}", back.metadata().get("args"));
        assertTrue(back.metadata().get(SafeTensors.CRC_KEY).matches("[0-9a-f]{8}"));
    }

    @Test
    void tensorsLargerThanTheWriteChunkRoundTrip() throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        tensors.put("small", manager.create(new float[] {1f}));
        tensors.put("decoder_blocks.0.mlp.fc1.weight", manager.randomNormal(new Shape(2048, 1536))); // 12 MiB
        tensors.put("tail", manager.create(new long[] {5L}));
        Path file = dir.resolve("big.safetensors");
        SafeTensors.write(file, tensors, Map.of());
        assertEquals(SafeTensors.readHeader(file).dataStart() + 4 + 2048L * 1536 * 4 + 8, Files.size(file));
        SafeTensors.Contents back = SafeTensors.read(file, manager);
        for (String name : tensors.keySet()) {
            assertEquals(tensors.get(name).toByteBuffer(), back.tensors().get(name).toByteBuffer(), name);
        }
    }

    @Test
    void layoutFollowsTheFormat() throws IOException {
        Path file = dir.resolve("t.safetensors");
        SafeTensors.write(file, Map.of("a", manager.create(new float[] {1f, 2f, 3f})), Map.of());
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLength) % 8, "data must start 8-byte aligned");
        assertEquals(8 + headerLength + 12, bytes.length);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{"), header);
        assertTrue(header.contains("\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}"), header);
        assertTrue(header.endsWith("}") || header.endsWith(" "), header);
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (8 + headerLength), 12).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1f, data.getFloat());
        assertEquals(2f, data.getFloat());
        assertEquals(3f, data.getFloat());
    }

    @Test
    void readsAFileWrittenByTheSafetensorsLibrary() throws IOException {
        Path file = dir.resolve("python-written.safetensors");
        try (InputStream in = getClass().getResourceAsStream("/checkpoint/python-written.safetensors")) {
            Files.copy(in, file);
        }
        SafeTensors.Contents c = SafeTensors.read(file, manager);
        assertEquals("written by safetensors.torch.save_file", c.metadata().get("note"));
        assertArrayEquals(new float[] {1.5f, -2.25f, 0.1f, 3.0e-8f, -0f, 65504f},
                c.tensors().get("blocks.0.attn.qkv.weight").toFloatArray(), 0f);
        assertEquals(new Shape(2, 3), c.tensors().get("blocks.0.attn.qkv.weight").getShape());
        // F16 → F32: 1/3 rounds to 0x3555 = 0.333251953125 in half precision; 2^-24 is the smallest subnormal.
        assertArrayEquals(new float[] {1f, -2f, 0.333251953125f, 0x1p-24f, 65504f, Float.POSITIVE_INFINITY},
                c.tensors().get("half").toFloatArray(), 0f);
        assertEquals(DataType.FLOAT32, c.tensors().get("half").getDataType());
        assertArrayEquals(new float[] {1f, 3.140625f, -0.5f, 0x1p-126f}, c.tensors().get("brain").toFloatArray(), 0f);
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY, 2.5f}, c.tensors().get("double").toFloatArray(),
                0f);
        assertArrayEquals(new long[] {0, -1, 1L << 40, -(1L << 62)}, c.tensors().get("ids").toLongArray());
        assertArrayEquals(new int[] {7, -8}, c.tensors().get("small_ids").toIntArray());
        assertEquals(new Shape(), c.tensors().get("scalar").getShape());
        assertEquals(4f, c.tensors().get("scalar").getFloat());
    }

    @Test
    void truncatedFileIsRejectedNamingIt() throws IOException {
        Path file = writeSample();
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        IOException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(file, manager));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Files.write(file, java.util.Arrays.copyOf(bytes, 5));
        e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.readHeader(file));
        assertTrue(e.getMessage().contains(file + ": only 5 bytes"), e.getMessage());
    }

    @Test
    void corruptHeaderIsRejectedNamingIt() throws IOException {
        Path file = writeSample();
        byte[] bytes = Files.readAllBytes(file);
        bytes[9] = '#'; // the opening quote of the first key
        Files.write(file, bytes);
        IOException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(file, manager));
        assertTrue(e.getMessage().startsWith(file + ": header is not a valid JSON object"), e.getMessage());
    }

    @Test
    void absurdHeaderLengthIsRejected() throws IOException {
        Path file = writeSample();
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(file, bytes);
        IOException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.readHeader(file));
        assertTrue(e.getMessage().contains("header length 1099511627776 is impossible"), e.getMessage());
    }

    @Test
    void flippedDataByteFailsTheChecksum() throws IOException {
        Path file = writeSample();
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 0x01;
        Files.write(file, bytes);
        SafeTensors.readHeader(file); // structurally fine
        IOException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(file, manager));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.verify(file));
    }

    @Test
    void trailingBytesAndBadOffsetsAreRejected() throws IOException {
        Path file = writeSample();
        byte[] bytes = Files.readAllBytes(file);
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 4);
        Files.write(file, longer);
        IOException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.readHeader(file));
        assertTrue(e.getMessage().contains("4 unexpected bytes after the last tensor"), e.getMessage());

        Path bad = dir.resolve("bad.safetensors");
        writeRaw(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]);
        e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.readHeader(bad));
        assertTrue(e.getMessage().contains("tensor 'a' has 4 bytes but its F32 shape [2] needs 8"), e.getMessage());

        writeRaw(bad, "{\"a\":{\"dtype\":\"C64\",\"shape\":[4],\"data_offsets\":[0,4]}}", new byte[4]);
        e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.readHeader(bad));
        assertTrue(e.getMessage().contains("tensor 'a' has unsupported dtype C64"), e.getMessage());
    }

    @Test
    void missingFileIsNamed() {
        Path missing = dir.resolve("nope.safetensors");
        IOException e = assertThrows(java.nio.file.NoSuchFileException.class, () -> SafeTensors.read(missing, manager));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void unsupportedWriteTypeNamesTheTensor() {
        Map<String, NDArray> tensors = Map.of("mask", manager.create(new double[] {1.0}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(dir.resolve("m.safetensors"), tensors, Map.of()));
        assertTrue(e.getMessage().contains("tensor 'mask'"), e.getMessage());
    }

    @Test
    void halfPrecisionConversionIsExact() {
        assertEquals(1f, Float16.halfToFloat((short) 0x3c00));
        assertEquals(-2f, Float16.halfToFloat((short) 0xc000));
        assertEquals(65504f, Float16.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-14f, Float16.halfToFloat((short) 0x0400)); // smallest normal
        assertEquals(0x3ffp-24f, Float16.halfToFloat((short) 0x03ff)); // largest subnormal
        assertEquals(-0f, Float16.halfToFloat((short) 0x8000));
        assertTrue(Float.isNaN(Float16.halfToFloat((short) 0x7e00)));
    }

    private Path writeSample() throws IOException {
        Path file = dir.resolve("sample.safetensors");
        SafeTensors.write(file, Map.of("w", manager.create(new float[] {1f, 2f, 3f, 4f})), Map.of("k", "v"));
        return file;
    }

    private static void writeRaw(Path file, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.write(file, b.array());
    }
}
