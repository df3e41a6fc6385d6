package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.trainer.cli.MilanTrainer;
import io.milan.trainer.data.shards.EncodedSample;
import io.milan.trainer.data.shards.ShardFormatException;
import io.milan.trainer.data.shards.ShardManifest;
import io.milan.trainer.data.shards.ShardStream;
import io.milan.trainer.data.shards.ShardWriter;
import io.milan.trainer.data.shards.ShardedDataset;
import io.milan.trainer.data.shards.ShuffleOrder;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tar shards: writing ({@code milan-trainer shard}), the epoch's split and order, resume, and damaged shards. */
class ShardsTest {

    private static final int SIZE = 16;

    @TempDir
    Path dir;
    private ImageFolder folder;
    private Path shards;

    /** 3 classes × 5 images (JPEG and PNG) = 15 samples, in shards of at most 4: 4 + 4 + 4 + 3. */
    @BeforeEach
    void makeDataset() throws IOException {
        Path root = dir.resolve("folder");
        TestImages.writeSmallFolder(root);
        folder = ImageFolder.scan(root);
        shards = dir.resolve("shards");
        ShardWriter.write(folder, shards, ShardWriter.ShardSize.parse("4"), 3);
    }

    @Test
    void theManifestListsEveryShardWithItsCountChecksumAndImageFoldersClasses() throws Exception {
        ShardManifest m = ShardManifest.read(shards);
        assertEquals(folder.classes(), m.classes(), "class names in ImageFolder's order");
        assertEquals(15, m.samples());
        assertEquals(List.of("shard-000000.tar", "shard-000001.tar", "shard-000002.tar", "shard-000003.tar"),
                m.shards().stream().map(ShardManifest.Shard::name).toList());
        assertEquals(List.of(4, 4, 4, 3), m.shards().stream().map(ShardManifest.Shard::samples).toList());
        for (ShardManifest.Shard s : m.shards()) {
            byte[] bytes = Files.readAllBytes(shards.resolve(s.name()));
            assertEquals(s.bytes(), bytes.length);
            assertEquals(s.sha256(), sha256(bytes));
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of("folder", "shards"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary left behind");
        }
    }

    /** GNU tar lists the WebDataset layout; Python's tarfile reads back the original bytes and the class. */
    @Test
    void standardToolsReadTheShardsAsTheOriginalFilesAndClasses() throws Exception {
        String listing = run(List.of("tar", "-tf", shards.resolve("shard-000003.tar").toString()));
        List<String> names = listing.lines().toList();
        assertEquals(6, names.size(), listing);
        for (int i = 0; i < names.size(); i += 2) {
            String key = names.get(i).substring(0, names.get(i).indexOf('.'));
            assertTrue(names.get(i).matches("\\d{6}\\.(jpg|png)"), names.get(i));
            assertEquals(key + ".cls", names.get(i + 1));
        }
        // Every sample once over all shards: sha256 of the image bytes -> class, as Python reads them.
        String script = String.join("\n",
                "import glob, hashlib, sys, tarfile",
                "for path in sorted(glob.glob(sys.argv[1] + '/shard-*.tar')):",
                "    with tarfile.open(path) as t:",
                "        members = t.getmembers()",
                "        for img, cls in zip(members[0::2], members[1::2]):",
                "            assert img.name.split('.')[0] == cls.name.split('.')[0], (img.name, cls.name)",
                "            data = t.extractfile(img).read()",
                "            print(hashlib.sha256(data).hexdigest(), t.extractfile(cls).read().decode())");
        String out = run(List.of("python3", "-c", script, shards.toString()));
        Map<String, String> fromPython = new TreeMap<>();
        out.lines().forEach(l -> fromPython.put(l.split(" ")[0], l.split(" ")[1]));
        Map<String, String> original = new TreeMap<>();
        for (ImageFolder.Sample s : folder.samples()) {
            original.put(sha256(Files.readAllBytes(s.file())), Integer.toString(s.label()));
        }
        assertEquals(15, out.lines().count());
        assertEquals(original, fromPython, "the original bytes (not re-encoded) with ImageFolder's class index");
    }

    @Test
    void aByteSizeClosesAShardBeforeItOutgrowsIt() throws Exception {
        Path bySize = dir.resolve("by-size");
        ShardManifest m = ShardWriter.write(folder, bySize, ShardWriter.ShardSize.parse("8KB"), 3);
        assertTrue(m.shards().size() > 1, "several shards");
        for (ShardManifest.Shard s : m.shards()) {
            assertTrue(s.bytes() <= 8000 || s.samples() == 1, s + " is larger than 8 KB");
            assertEquals(s.bytes(), Files.size(bySize.resolve(s.name())));
        }
        assertEquals(15, m.samples());
        assertThrows(IllegalArgumentException.class, () -> ShardWriter.ShardSize.parse("0"));
        assertThrows(IllegalArgumentException.class, () -> ShardWriter.ShardSize.parse("12 parsecs"));
    }

    @Test
    void theShardCommandWritesAndRefusesAnExistingTarget() {
        StringWriter err = new StringWriter();
        Path to = dir.resolve("cli");
        assertEquals(0, MilanTrainer.run(new PrintWriter(err, true), "shard", "--from", folder.root().toString(),
                "--to", to.toString(), "--shard-size", "5"));
        assertTrue(ShardManifest.isShardDirectory(to));
        assertEquals(78, MilanTrainer.run(new PrintWriter(err, true), "shard", "--from", folder.root().toString(),
                "--to", to.toString(), "--shard-size", "5"));
        assertTrue(err.toString().contains(to + " already exists"), err.toString());
    }

    /** 15 samples over 2 or 3 ranks: each rank the same count, every sample at least once, only padding twice. */
    @Test
    void everySampleIsReadOncePerEpochAcrossTheRanks() throws Exception {
        ShardedDataset data = ShardedDataset.open(shards);
        for (int world : new int[] {2, 3, 4}) {
            int perRank = (15 + world - 1) / world;
            int[] seen = new int[15];
            for (int rank = 0; rank < world; rank++) {
                List<Long> mine = indices(data, 5, world, rank, 4, 0);
                assertEquals(perRank, mine.size(), "rank " + rank + " of " + world);
                mine.forEach(i -> seen[(int) (long) i]++);
            }
            int twice = 0;
            for (int i = 0; i < 15; i++) {
                assertTrue(seen[i] >= 1 && seen[i] <= 2, "sample " + i + " seen " + seen[i] + " times, world " + world);
                twice += seen[i] - 1;
            }
            assertEquals(perRank * world - 15, twice, "only DistributedSampler's padding repeats, world " + world);
        }
    }

    @Test
    void theOrderIsSeededByEpochAndRank() throws Exception {
        ShardedDataset data = ShardedDataset.open(shards);
        assertEquals(indices(data, 1, 2, 0, 4, 0), indices(data, 1, 2, 0, 4, 0), "same seed, same order");
        assertNotEquals(indices(data, 1, 1, 0, 4, 0), indices(data, 2, 1, 0, 4, 0), "another epoch, another order");
        List<Long> unshuffled = new ArrayList<>();
        try (ShardStream s = data.stream(7, 0, 1, 0, false, 4, 0)) {
            for (int i = 0; i < s.length(); i++) {
                unshuffled.add(s.next().index());
            }
        }
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L), unshuffled,
                "evaluation reads the manifest's order");
        int[] order = ShuffleOrder.of(1000, 64, new SplittableRandom(1));
        int[] sorted = order.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i], "a permutation");
        }
        assertFalse(Arrays.equals(sorted, order), "shuffled");
        assertArrayEquals(sorted, ShuffleOrder.of(1000, 0, new SplittableRandom(1)), "no buffer, no shuffle");
    }

    /** A resume at any emission continues with exactly the samples (bytes included) the full stream had left. */
    @Test
    void aStreamResumedMidEpochYieldsTheSameRemainingSamples() throws Exception {
        ShardedDataset data = ShardedDataset.open(shards);
        for (int rank = 0; rank < 2; rank++) {
            List<EncodedSample> full = samples(data, 3, 2, rank, 5, 0);
            for (int skip : new int[] {1, 3, 6, 8}) {
                List<EncodedSample> rest = samples(data, 3, 2, rank, 5, skip);
                assertEquals(full.size() - skip, rest.size());
                for (int i = 0; i < rest.size(); i++) {
                    EncodedSample a = full.get(skip + i);
                    EncodedSample b = rest.get(i);
                    assertEquals(a.index(), b.index(), "rank " + rank + " skip " + skip + " position " + i);
                    assertEquals(a.label(), b.label());
                    assertArrayEquals(a.bytes(), b.bytes());
                }
            }
        }
    }

    /** Through the loader: batches from a start batch on equal the uninterrupted epoch's, pixels included. */
    @Test
    void theLoaderResumesAnEpochAtABatchForShardsAndForImageFolders() throws Exception {
        for (ImageDataset data : List.of(ShardedDataset.open(shards), folder)) {
            List<long[]> fullIdx = new ArrayList<>();
            List<float[]> fullPixels = new ArrayList<>();
            List<long[]> restIdx = new ArrayList<>();
            List<float[]> restPixels = new ArrayList<>();
            try (BatchLoader loader = loader(data, 2, 2)) {
                collect(loader.shuffledEpoch(4, 1, 2, 0), fullIdx, fullPixels);
                collect(loader.shuffledEpoch(4, 1, 2, 2), restIdx, restPixels);
            }
            assertEquals(4, fullIdx.size(), "ceil(15 / 2) = 8 samples per rank, 4 batches of 2");
            assertEquals(2, restIdx.size());
            for (int b = 0; b < 2; b++) {
                assertArrayEquals(fullIdx.get(b + 2), restIdx.get(b), data.location());
                assertArrayEquals(fullPixels.get(b + 2), restPixels.get(b), 0f, data.location());
            }
        }
    }

    @Test
    void shardsGiveTheSameClassForTheSameImageAsTheFolder() throws Exception {
        ShardedDataset data = ShardedDataset.open(shards);
        Map<String, Integer> byContent = new HashMap<>();
        for (ImageFolder.Sample s : folder.samples()) {
            byContent.put(sha256(Files.readAllBytes(s.file())), s.label());
        }
        for (EncodedSample s : samples(data, 0, 1, 0, 0, 0)) {
            assertEquals(byContent.get(sha256(s.bytes())), s.label(), s.name());
        }
    }

    @Test
    void aCorruptShardFailsNamingItsFileAndTheChecksum() throws Exception {
        Path file = shards.resolve("shard-000002.tar");
        byte[] bytes = Files.readAllBytes(file);
        bytes[700] ^= 0x55;
        Files.write(file, bytes);
        DataLoadingException e = assertThrows(DataLoadingException.class, () -> drain(ShardedDataset.open(shards)));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test
    void aTruncatedShardFailsNamingItsFile() throws Exception {
        Path file = shards.resolve("shard-000001.tar");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 1500));
        DataLoadingException e = assertThrows(DataLoadingException.class, () -> drain(ShardedDataset.open(shards)));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("shorter"), e.getMessage());
    }

    /** A shard truncated before its manifest was written (checksum of the truncated bytes): the tar reader says so. */
    @Test
    void aTarCutShortInsideAnEntryFailsNamingItsFile() throws Exception {
        Path file = shards.resolve("shard-000000.tar");
        byte[] cut = Arrays.copyOf(Files.readAllBytes(file), 1100);
        Files.write(file, cut);
        ShardManifest m = ShardManifest.read(shards);
        List<ShardManifest.Shard> listed = new ArrayList<>(m.shards());
        listed.set(0, new ShardManifest.Shard(listed.get(0).name(), 4, cut.length, sha256(cut)));
        Files.writeString(shards.resolve(ShardManifest.FILE), new ShardManifest(m.format(), m.version(),
                m.samples(), m.classes(), m.seed(), listed).toJson());
        DataLoadingException e = assertThrows(DataLoadingException.class, () -> drain(ShardedDataset.open(shards)));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void aBadManifestIsRefusedNamingTheFileAndTheField() throws Exception {
        Path manifest = shards.resolve(ShardManifest.FILE);
        String json = Files.readString(manifest);
        Files.writeString(manifest, json.replace("\"samples\": 15", "\"samples\": 16"));
        ShardFormatException e = assertThrows(ShardFormatException.class, () -> ImageDataset.open(shards));
        assertTrue(e.getMessage().contains(manifest.toString()) && e.getMessage().contains("samples"), e.getMessage());
        Files.delete(shards.resolve("shard-000003.tar"));
        Files.writeString(manifest, json);
        DataLoadingException missing = assertThrows(DataLoadingException.class,
                () -> drain(ShardedDataset.open(shards)));
        assertTrue(missing.getMessage().contains("shard-000003.tar"), missing.getMessage());
    }

    @Test
    void aDataPositionInsideAnEpochContinuesOnlyWithTheSameDataAndShape() throws Exception {
        ShardedDataset data = ShardedDataset.open(shards);
        try (BatchLoader loader = loader(data, 2, 1); BatchLoader other = loader(folder, 2, 1)) {
            DataPosition p = DataPosition.parse(loader.position(3, 2, 2).toJson(), "test");
            assertEquals(Optional.empty(), p.differenceFrom(loader.position(0, 0, 2)));
            String processes = p.differenceFrom(loader.position(0, 0, 4)).orElseThrow();
            assertTrue(processes.contains("2 processes") && processes.contains("not 4"), processes);
            DataPosition otherBuffer = new DataPosition(0, 0, p.batchSize(), 2, p.seed(), p.shuffleBuffer() + 1,
                    p.fingerprint());
            assertTrue(p.differenceFrom(otherBuffer).orElseThrow().contains("shuffle buffer"));
            String otherData = p.differenceFrom(other.position(0, 0, 2)).orElseThrow();
            assertTrue(otherData.startsWith("of other data"), otherData);
        }
    }

    private static void drain(ShardedDataset data) {
        try (BatchLoader loader = loader(data, 3, 1); BatchLoader.EpochIterator it = loader.shuffledEpoch(0, 0, 1,
                0)) {
            while (it.hasNext()) {
                it.next().close();
            }
        }
    }

    private static BatchLoader loader(ImageDataset data, int batch, int workers) {
        return new BatchLoader(data, TrainTransform.pretraining(SIZE),
                new BatchLoader.Options(batch, true, workers, 2, 0.0, 7).withShuffleBuffer(5));
    }

    private static void collect(BatchLoader.EpochIterator it, List<long[]> indices, List<float[]> pixels) {
        try (it) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    indices.add(b.indices());
                    float[] f = new float[b.images().remaining()];
                    b.images().get(f);
                    pixels.add(f);
                }
            }
        }
    }

    private static List<Long> indices(ShardedDataset data, int epoch, int world, int rank, int buffer, int skip) {
        return samples(data, epoch, world, rank, buffer, skip).stream().map(EncodedSample::index).toList();
    }

    private static List<EncodedSample> samples(ShardedDataset data, int epoch, int world, int rank, int buffer,
            int skip) {
        List<EncodedSample> out = new ArrayList<>();
        try (ShardStream s = data.stream(epoch, 11, world, rank, true, buffer, skip)) {
            for (int i = skip; i < s.length(); i++) {
                out.add(s.next());
            }
        }
        return out;
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), command + ": " + out);
        return out;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
