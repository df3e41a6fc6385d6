package io.milan.trainer.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.milan.api.TrainerExitCodes;
import io.milan.trainer.checkpoint.torchfile.TorchFile;
import io.milan.trainer.checkpoint.torchfile.TorchFixtures;
import io.milan.trainer.cli.MilanTrainer;
import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.model.ViTConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code milan-trainer convert}: a torch.save checkpoint's weights as the trainer's safetensors, compared key by
 * key with PyTorch's values and with the checkpoint the trainer itself writes for the same model.
 */
class TorchConversionTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"mae-tiny.pth", "mae-tiny-legacy.pth"})
    void convertsTheModelDictOfTheMaeLayoutBitExactly(String name) throws Exception {
        Path out = dir.resolve("weights.safetensors");
        List<TorchConversion.Entry> entries = TorchConversion.convert(TorchFixtures.file(name), out);
        Map<String, TorchFixtures.Expected> expected = TorchFixtures.expected("mae/");
        List<String> order;
        try (TorchFile f = TorchFile.open(TorchFixtures.file(name))) {
            order = new ArrayList<>(f.stateDict().tensors().keySet());
        }
        assertEquals(order, entries.stream().map(TorchConversion.Entry::name).toList(), "the state_dict's order");
        assertEquals(order, new ArrayList<>(SafeTensors.readHeader(out).tensors().keySet()));
        assertEquals(new java.util.TreeSet<>(expected.keySet()), new java.util.TreeSet<>(order));
        SafeTensors.Header header = SafeTensors.verify(out);
        assertEquals("pt", header.metadata().get("format"));
        assertEquals(name, header.metadata().get(TorchConversion.SOURCE));
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Map<String, NDArray> converted = SafeTensors.read(out, m).tensors();
            for (Map.Entry<String, TorchFixtures.Expected> e : expected.entrySet()) {
                TorchFixtures.Expected want = e.getValue();
                NDArray got = converted.get(e.getKey());
                assertEquals(SafeTensors.Dtype.F32, header.tensors().get(e.getKey()).dtype(), e.getKey());
                assertArrayEquals(want.shape(), got.getShape().getShape(), e.getKey());
                assertArrayEquals(bits(asFloats(want)), bits(got.toFloatArray()), e.getKey()); // bit for bit
            }
        }
    }

    @Test
    void convertKeepsIntegerAndBooleanTypesAndWidensFloatsAndInt16() throws Exception {
        Path out = dir.resolve("dtypes.safetensors");
        TorchConversion.convert(TorchFixtures.file("dtypes.pth"), out);
        SafeTensors.Header header = SafeTensors.verify(out);
        Map<String, String> types = new java.util.LinkedHashMap<>();
        header.tensors().forEach((k, v) -> types.put(k, v.dtype().name()));
        assertEquals(Map.ofEntries(Map.entry("f32_scalar", "F32"), Map.entry("f64", "F32"), Map.entry("f16", "F32"),
                Map.entry("f16_tail", "F32"), Map.entry("bf16", "F32"), Map.entry("i64", "I64"),
                Map.entry("i32", "I32"), Map.entry("i16", "I32"), Map.entry("i8", "I8"), Map.entry("u8", "U8"),
                Map.entry("bool", "BOOL"), Map.entry("empty", "F32"), Map.entry("permuted", "F32")), types);
        Map<String, TorchFixtures.Expected> expected = TorchFixtures.expected("dtypes/");
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Map<String, NDArray> got = SafeTensors.read(out, m).tensors();
            assertArrayEquals(asLongs(expected.get("i64")), got.get("i64").toLongArray());
            assertArrayEquals(new boolean[] {true, false, true}, got.get("bool").toBooleanArray());
            assertArrayEquals(expected.get("u8").bytes(), got.get("u8").toByteArray());
            assertArrayEquals(expected.get("i8").bytes(), got.get("i8").toByteArray());
            assertArrayEquals(new int[] {300, -300}, got.get("i16").toIntArray());
            assertArrayEquals(bits(asFloats(expected.get("f16_tail"))), bits(got.get("f16_tail").toFloatArray()));
            assertArrayEquals(bits(asFloats(expected.get("permuted"))), bits(got.get("permuted").toFloatArray()));
            assertArrayEquals(new long[0], got.get("f32_scalar").getShape().getShape());
            assertEquals(DataType.FLOAT32, got.get("f64").getDataType());
            assertEquals((float) 0.1, got.get("f64").toFloatArray()[0]);
        }
    }

    /**
     * Item 5 of issue 23: the converted authors'-layout checkpoint has exactly the names, dtypes and shapes of the
     * pretraining checkpoint this trainer writes for the same model (plus the fixture's four extra tensors).
     */
    @Test
    void convertedKeysMatchTheTrainersOwnCheckpointKeyByKey() throws Exception {
        Path converted = dir.resolve("converted.safetensors");
        TorchConversion.convert(TorchFixtures.file("mae-tiny.pth"), converted);
        PretrainConfig config = new PretrainConfig(new ViTConfig(16, 4, 3, 16, 2, 2, 4, 0),
                new DecoderConfig(12, 2, 3, 4, 8, true));
        Path ours;
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                MilanPretrainModel model = MilanPretrainModel.create(config, m, 1)) {
            ours = new CheckpointStore(dir.resolve("run")).save(new Checkpoint(0, 0, model.parameters().asMap(), null,
                    Map.of()));
        }
        Map<String, SafeTensors.TensorInfo> theirs = SafeTensors.readHeader(converted).tensors();
        Map<String, SafeTensors.TensorInfo> mine = SafeTensors.readHeader(ours).tensors();
        List<String> extra = theirs.keySet().stream().filter(k -> !mine.containsKey(k)).toList();
        assertEquals(List.of("extra.half", "extra.bf16", "extra.qkv_t", "extra.qkv_rows"), extra);
        assertEquals(List.of(), mine.keySet().stream().filter(k -> !theirs.containsKey(k)).toList(),
                "tensors the trainer writes that the converted file lacks");
        for (String key : mine.keySet()) {
            assertEquals(mine.get(key).dtype(), theirs.get(key).dtype(), key);
            assertArrayEquals(mine.get(key).shape(), theirs.get(key).shape(), key);
        }
        System.out.printf("convert vs the trainer's checkpoint: %d common tensors, same dtype and shape each; %d"
                + " only in the converted file: %s%n", mine.size(), extra.size(), extra);
    }

    @Test
    void theCommandLineConvertsAndNamesBadInput() throws Exception {
        Path out = dir.resolve("cli.safetensors");
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true));
        int code;
        try {
            code = MilanTrainer.run("convert", TorchFixtures.file("mae-tiny-legacy.pth").toString(), out.toString());
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, code);
        assertTrue(printed.toString().contains("extra.half\tfloat16 -> F32\t[2, 5]"), printed.toString());
        int tensors = TorchFixtures.expected("mae/").size();
        assertTrue(printed.toString().contains("Wrote " + tensors + " tensors to " + out), printed.toString());
        assertTrue(Files.isRegularFile(out));

        StringWriter err = new StringWriter();
        Path missing = dir.resolve("missing.pth");
        assertEquals(TrainerExitCodes.CONFIGURATION, MilanTrainer.run(new PrintWriter(err, true), "convert", missing.toString(), out.toString()));
        assertTrue(err.toString().contains("no such checkpoint file '" + missing + "'"), err.toString());

        Path notTorch = Files.writeString(dir.resolve("notes.pth"), "hello");
        Path notWritten = dir.resolve("not-written.safetensors");
        IOException e = assertThrows(IOException.class, () -> TorchConversion.convert(notTorch, notWritten));
        assertTrue(e.getMessage().contains(notTorch + ": not a torch.save file"), e.getMessage());
        assertFalse(Files.exists(notWritten));
    }

    @Test
    void resumingFromAPthPointsToFinetuneAndConvert() {
        CheckpointStore store = new CheckpointStore(dir);
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> store.load(TorchFixtures.file("mae-tiny.pth"), m));
            assertTrue(e.getMessage().contains("it is a PyTorch torch.save checkpoint") && e.getMessage()
                    .contains("--finetune") && e.getMessage().contains("milan-trainer convert"), e.getMessage());
        }
    }

    /** Expected bytes of any floating type, as the float32 values the trainer holds. */
    static float[] asFloats(TorchFixtures.Expected e) {
        ByteBuffer b = ByteBuffer.wrap(e.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer f32 = switch (e.dtype()) {
            case "F16" -> Float16.halfToFloat32(b);
            case "BF16" -> Float16.bfloat16ToFloat32(b);
            case "F64" -> Float16.float64ToFloat32(b);
            default -> b;
        };
        float[] out = new float[f32.remaining() / 4];
        f32.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }

    private static long[] asLongs(TorchFixtures.Expected e) {
        long[] out = new long[e.bytes().length / 8];
        ByteBuffer.wrap(e.bytes()).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
        return out;
    }
}
