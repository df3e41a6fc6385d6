package io.milan.trainer.checkpoint.torchfile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed and hostile files: each ends in a {@link TorchFileException} naming the file and the problem (or, for
 * harmless damage, in a file that still reads), never in another exception, an out-of-memory error or a call.
 */
class HostileTorchFileTest {

    @TempDir
    Path dir;

    @Test
    void aTruncatedFileOfEitherFormatIsACleanError() throws Exception {
        for (String name : new String[] {"mae-tiny.pth", "mae-tiny-legacy.pth"}) {
            byte[] whole = Files.readAllBytes(TorchFixtures.file(name));
            for (int length = 0; length < whole.length; length += Math.max(1, whole.length / 97)) {
                Path cut = dir.resolve("cut-" + length + "-" + name);
                Files.write(cut, Arrays.copyOf(whole, length));
                IOException e = assertThrows(IOException.class, () -> readEverything(cut), name + " cut at "
                        + length);
                assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
            }
        }
    }

    @Test
    void randomlyDamagedFilesReadOrFailCleanly() throws Exception {
        int failures = 0;
        int runs = 0;
        Random random = new Random(23);
        for (String name : new String[] {"mae-tiny-legacy.pth", "dtypes-legacy.pth"}) {
            byte[] whole = Files.readAllBytes(TorchFixtures.file(name));
            for (int i = 0; i < 150; i++) {
                byte[] damaged = whole.clone();
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                    // mostly in the pickles at the start, where structure is
                    int at = random.nextInt(random.nextBoolean() ? Math.min(4000, whole.length) : whole.length);
                    damaged[at] = (byte) random.nextInt(256);
                }
                failures += readsOrFailsCleanly(write("damaged-" + i + "-" + name, damaged)) ? 0 : 1;
                runs++;
            }
        }
        byte[] pickle = entry(TorchFixtures.file("mae-tiny.pth"), "data.pkl");
        for (int i = 0; i < 150; i++) {
            byte[] damaged = pickle.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                damaged[random.nextInt(damaged.length)] = (byte) random.nextInt(256);
            }
            failures += readsOrFailsCleanly(rezip("zip-damaged-" + i + ".pth", "data.pkl", b -> damaged)) ? 0 : 1;
            runs++;
        }
        System.out.printf("damaged files: %d of %d refused with a TorchFileException, the rest read%n", failures,
                runs);
        assertTrue(failures > 0, "damage to the pickles should be noticed");
    }

    @Test
    void aStorageWhoseEntryIsShorterThanDeclaredIsRefused() throws Exception {
        Path file = rezip("short.pth", "data/0", b -> Arrays.copyOf(b, b.length - 4));
        TorchFileException e = assertThrows(TorchFileException.class, () -> readEverything(file));
        assertTrue(e.getMessage().contains("storage '0' declares") && e.getMessage().contains("but its entry holds"),
                e.getMessage());
    }

    @Test
    void aHugeDeclaredStorageIsRefusedBeforeAnyMemoryIsTaken() throws Exception {
        Path file = zipWithPickle("huge.pth", new PickleBytes().modelWithOneTensor("w", Integer.MAX_VALUE, 0, 3, 1)
                .bytes(), new byte[12]);
        TorchFileException e = assertThrows(TorchFileException.class, () -> TorchFile.open(file));
        assertTrue(e.getMessage().contains("declares 2147483647 float32 elements (8589934588 bytes) but its entry"
                + " holds 12 bytes"), e.getMessage());
    }

    @Test
    void aTensorReachingPastItsStorageIsRefused() throws Exception {
        Path file = zipWithPickle("past.pth", new PickleBytes().modelWithOneTensor("w", 3, 1, 3, 1).bytes(),
                new byte[12]);
        try (TorchFile f = TorchFile.open(file)) {
            TorchTensor t = f.stateDict().tensors().get("w");
            TorchFileException e = assertThrows(TorchFileException.class, () -> f.read("w", t));
            assertTrue(e.getMessage().contains("tensor 'w'") && e.getMessage().contains("reaches element 3 of"
                    + " storage '0', which has 3"), e.getMessage());
        }
        Path expanded = zipWithPickle("expanded.pth", new PickleBytes().modelWithOneTensor("w", 1, 0, 1000, 0)
                .bytes(), new byte[4]);
        try (TorchFile f = TorchFile.open(expanded)) {
            TorchFileException e = assertThrows(TorchFileException.class,
                    () -> f.read("w", f.stateDict().tensors().get("w")));
            assertTrue(e.getMessage().contains("an expanded view"), e.getMessage());
        }
    }

    @Test
    void unknownCallablesBecomeInertObjects() throws Exception {
        // {'model': {}, 'x': os.system('touch PWNED')}: the call is data, nothing runs
        Path marker = dir.resolve("PWNED");
        byte[] pickle = new PickleBytes().op('}').str("model").op('}').op('s').str("x")
                .global("os", "system").op('(').str("touch " + marker).op('t').op('R').op('s').op('.').bytes();
        try (TorchFile f = TorchFile.open(zipWithPickle("os-system.pth", pickle, null))) {
            OpaqueObject call = assertInstanceOf(OpaqueObject.class, ((Map<?, ?>) f.root()).get("x"));
            assertEquals(new PyGlobal("os", "system"), call.type());
            assertEquals(PyTuple.of("touch " + marker), call.arguments());
        }
        assertTrue(Files.notExists(marker));
    }

    @Test
    void lengthsBeyondTheFileAreRefusedBeforeAllocating() throws Exception {
        byte[] pickle = new PickleBytes().op('X').int4(0x7ffffff0).bytes();
        assertProblem(pickle, "a length of 2147483632 bytes runs past the end of the pickle");
        byte[] longInt = new PickleBytes().op(0x8b).int4(100_000_000).bytes();
        assertProblem(longInt, "an int of 100000000 bytes");
    }

    @Test
    void theMemoAndTheStackAreBounded() throws Exception {
        assertProblem(new PickleBytes().op('h').op(5).bytes(), "memo entry 5 is read before it is written");
        assertProblem(new PickleBytes().op(')').repeat(0x94, 2_000_000).op('.').bytes(), "more than 1000000 memo"
                + " entries");
        assertProblem(new PickleBytes().repeat('(', 1_100_000).bytes(), "more than 1000000 values on the pickle"
                + " stack");
        assertProblem(new PickleBytes().op('0').bytes(), "pops from an empty stack");
        assertProblem(new PickleBytes().op('N').op('a').bytes(), "reads from an empty stack");
        assertProblem(new PickleBytes().op('t').bytes(), "needs a MARK it did not set");
    }

    @Test
    void deepNestingNeitherRecursesNorOverflows() throws Exception {
        // 500,000 lists each inside the previous one: built iteratively, and refused as a checkpoint cleanly
        PickleBytes p = new PickleBytes().repeat(']', 500_000).repeat('a', 499_999).op('.');
        try (TorchFile f = TorchFile.open(zipWithPickle("deep.pth", p.bytes(), null))) {
            TorchFileException e = assertThrows(TorchFileException.class, f::stateDict);
            assertTrue(e.getMessage().contains("holds a list, not a dict of weights"), e.getMessage());
        }
        // a list that contains itself
        byte[] cycle = new PickleBytes().op(']').op(0x94).op('h').op(0).op('a').op('.').bytes();
        try (TorchFile f = TorchFile.open(zipWithPickle("cycle.pth", cycle, null))) {
            assertTrue(((java.util.List<?>) f.root()).get(0) == f.root());
        }
    }

    @Test
    void unsupportedConstructsAreNamed() throws Exception {
        assertProblem(new PickleBytes().op(0x82).op(1).bytes(), "opcode 0x82 is not supported");
        assertProblem(new PickleBytes().op('}').op(']').op('N').op('s').bytes(), "a dict key of type list");
        assertProblem(new PickleBytes().global("torch._utils", "_rebuild_sparse_tensor").op(')').op('R').bytes(),
                "torch._utils._rebuild_sparse_tensor is not supported");
        assertProblem(new PickleBytes().op(0x80).op(9).bytes(), "pickle protocol 9");
    }

    /** The newer storage ids: an UntypedStorage (bytes) typed by _rebuild_tensor_v3's dtype, inside a Parameter. */
    @Test
    void untypedStoragesAreTypedByTheTensorAndParametersKeptAsTheirTensor() throws Exception {
        PickleBytes p = new PickleBytes().op('}').str("model").op('}').str("w");
        p.global("torch._utils", "_rebuild_parameter").op('(');
        p.global("torch._utils", "_rebuild_tensor_v3").op('(');
        p.op('(').str("storage").global("torch.storage", "UntypedStorage").str("0").str("cpu").binint(12).op('t')
                .op('Q');
        p.binint(1).op('(').binint(2).op('t').op('(').binint(1).op('t').op(0x89);
        p.global("collections", "OrderedDict").op(')').op('R').global("torch", "float32").op('t').op('R');
        p.op(0x88).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
        p.op('s').op('s').op('.');
        byte[] storage = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(1.5f)
                .putFloat(-2f).putFloat(0.25f).array();
        try (TorchFile f = TorchFile.open(zipWithPickle("untyped.pth", p.bytes(), storage))) {
            TorchTensor w = f.stateDict().tensors().get("w");
            assertEquals(TorchDtype.FLOAT32, w.dtype());
            assertEquals(3, w.storage().numel());
            assertArrayEquals(java.util.Arrays.copyOfRange(storage, 4, 12), f.read("w", w));
        }
    }

    /** Protocol 0 spells values as text lines; inf and nan as Python prints them. */
    @Test
    void textOpcodesOfProtocolZeroAreRead() throws Exception {
        byte[] pickle = ("(dp0\nVepoch\np1\nI399\nsVloss\np2\nFnan\nsVscale\np3\nF-inf\nsVmodel\np4\n(dp5\n"
                + "s.").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (TorchFile f = TorchFile.open(zipWithPickle("text.pth", pickle, null))) {
            Map<?, ?> root = (Map<?, ?>) f.root();
            assertEquals(399L, root.get("epoch"));
            assertTrue(Double.isNaN((Double) root.get("loss")));
            assertEquals(Double.NEGATIVE_INFINITY, root.get("scale"));
            assertEquals(Map.of(), f.stateDict().tensors());
        }
    }

    @Test
    void aFileThatIsNeitherFormatIsNamed() throws Exception {
        Path junk = write("junk.pth", "definitely not a checkpoint".getBytes());
        TorchFileException e = assertThrows(TorchFileException.class, () -> TorchFile.open(junk));
        assertEquals(junk + ": not a torch.save file (neither a zip archive nor the legacy format's magic number)",
                e.getMessage());
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private void assertProblem(byte[] pickle, String expected) throws IOException {
        Path file = zipWithPickle("problem.pth", pickle, null);
        TorchFileException e = assertThrows(TorchFileException.class, () -> TorchFile.open(file));
        assertTrue(e.getMessage().startsWith(file + ": archive/data.pkl"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /** Opens the file and reads every tensor of its state_dict. */
    private static void readEverything(Path file) throws IOException {
        try (TorchFile f = TorchFile.open(file)) {
            for (Map.Entry<String, TorchTensor> e : f.stateDict().tensors().entrySet()) {
                f.read(e.getKey(), e.getValue());
            }
        }
    }

    /** True when the file read completely, false when it was refused with a TorchFileException. */
    private static boolean readsOrFailsCleanly(Path file) {
        try {
            readEverything(file);
            return true;
        } catch (TorchFileException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            return false;
        } catch (Throwable t) {
            fail(file + " failed with " + t + " instead of a TorchFileException", t);
            return false;
        }
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static byte[] entry(Path zip, String suffix) throws IOException {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> entries = z.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.getName().endsWith("/" + suffix)) {
                    try (InputStream in = z.getInputStream(e)) {
                        return in.readAllBytes();
                    }
                }
            }
        }
        throw new IllegalStateException(zip + " has no " + suffix);
    }

    /** mae-tiny.pth with the entry ending in {@code /suffix} replaced by {@code change} of its bytes. */
    private Path rezip(String name, String suffix, UnaryOperator<byte[]> change) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(TorchFixtures.file("mae-tiny.pth").toFile())) {
            Enumeration<? extends ZipEntry> all = z.entries();
            while (all.hasMoreElements()) {
                ZipEntry e = all.nextElement();
                try (InputStream in = z.getInputStream(e)) {
                    byte[] bytes = in.readAllBytes();
                    entries.put(e.getName(), e.getName().endsWith("/" + suffix) ? change.apply(bytes) : bytes);
                }
            }
        }
        return zip(name, entries);
    }

    /** A zip-format file of {@code pickle} as archive/data.pkl and, when given, {@code storage} as data/0. */
    private Path zipWithPickle(String name, byte[] pickle, byte[] storage) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        entries.put("archive/byteorder", "little".getBytes());
        if (storage != null) {
            entries.put("archive/data/0", storage);
        }
        return zip(name, entries);
    }

    private Path zip(String name, Map<String, byte[]> entries) throws IOException {
        Path file = dir.resolve(name);
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setMethod(ZipEntry.STORED); // as torch.save
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setCrc(crc.getValue());
                entry.setSize(e.getValue().length);
                out.putNextEntry(entry);
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return file;
    }
}
