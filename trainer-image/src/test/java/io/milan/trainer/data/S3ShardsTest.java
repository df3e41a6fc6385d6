package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.trainer.data.shards.EncodedSample;
import io.milan.trainer.data.shards.S3ShardSource;
import io.milan.trainer.data.shards.ShardFormatException;
import io.milan.trainer.data.shards.ShardManifest;
import io.milan.trainer.data.shards.ShardStream;
import io.milan.trainer.data.shards.ShardUpload;
import io.milan.trainer.data.shards.ShardWriter;
import io.milan.trainer.data.shards.ShardedDataset;
import io.milan.trainer.storage.MinioServer;
import io.milan.trainer.storage.ObjectFiles;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.ObjectStoreConfig;
import io.milan.trainer.storage.ObjectStoreException;
import io.milan.trainer.storage.S3Location;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shards in a real S3 server (MinIO): written by {@code shard --to s3://} ({@link ShardUpload}), streamed through
 * {@link S3ShardSource} exactly as from the directory (order, bytes, resume), errors naming the location; and the
 * local copies of single objects ({@link ObjectFiles}) that teachers and pretrained checkpoints are read from.
 */
class S3ShardsTest {
    private static final String BUCKET = "datasets";

    @TempDir
    static Path dir;
    private static MinioServer server;
    private static ObjectStore objects;
    private static ImageFolder folder;
    private static ShardedDataset local;
    private static ShardedDataset remote;
    private static S3Location train = new S3Location(BUCKET, "small/train");

    /** TestImages' 15 samples in shards of at most 4, once in a directory and once uploaded. */
    @BeforeAll
    static void startServerAndUpload() throws Exception {
        server = MinioServer.start(dir.resolve("minio"));
        server.createBucket(BUCKET);
        objects = new ObjectStore(server.config());
        TestImages.writeSmallFolder(dir.resolve("folder"));
        folder = ImageFolder.scan(dir.resolve("folder"));
        ShardWriter.write(folder, dir.resolve("shards"), ShardWriter.ShardSize.parse("4"), 3);
        local = ShardedDataset.open(dir.resolve("shards"));
        ShardManifest uploaded = new ShardUpload(objects, train).write(folder, ShardWriter.ShardSize.parse("4"), 3);
        remote = ShardedDataset.open(new S3ShardSource(objects, train));
        assertEquals(local.manifest(), uploaded);
    }

    @AfterAll
    static void stopServer() throws Exception {
        objects.close();
        server.close();
    }

    @Test
    void theUploadHoldsTheShardsAndManifestOfTheDirectoryByteForByte() throws Exception {
        List<String> keys = objects.list(train).stream().map(ObjectStore.ObjectInfo::key).toList();
        assertEquals(List.of("small/train/shard-000000.tar", "small/train/shard-000001.tar",
                "small/train/shard-000002.tar", "small/train/shard-000003.tar", "small/train/shards.json"), keys);
        for (String name : List.of("shard-000002.tar", ShardManifest.FILE)) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("shards").resolve(name)),
                    objects.getBytes(BUCKET, train.key(name)).orElseThrow(), name);
        }
        assertEquals(local.fingerprint(), remote.fingerprint(), "the same data, wherever it is");
        assertEquals("s3://datasets/small/train/shard-000001.tar sample 2", remote.sampleName(6));
        try (var left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith("milan-shard-")
                    && Files.isDirectory(p.resolve("shards"))), "no local shard left behind");
        }
    }

    @Test
    void anUploadToAPrefixHoldingObjectsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ShardUpload(objects,
                train).write(folder, ShardWriter.ShardSize.parse("4"), 3));
        assertTrue(e.getMessage().contains("s3://datasets/small/train already holds objects"), e.getMessage());
    }

    /** Every rank's stream, from the start and resumed inside the epoch, is the directory's, sample for sample. */
    @Test
    void streamsFromTheBucketEqualThoseFromTheDirectoryIncludingResumedOnes() {
        for (int rank = 0; rank < 2; rank++) {
            for (int skip : new int[] {0, 3, 6}) {
                List<EncodedSample> a = samples(local, 2, rank, skip);
                List<EncodedSample> b = samples(remote, 2, rank, skip);
                assertEquals(a.size(), b.size());
                for (int i = 0; i < a.size(); i++) {
                    assertEquals(a.get(i).index(), b.get(i).index(), "rank " + rank + " skip " + skip);
                    assertEquals(a.get(i).label(), b.get(i).label());
                    assertArrayEquals(a.get(i).bytes(), b.get(i).bytes());
                }
            }
        }
    }

    /** Through the loader (decode, augmentation), resumed at a batch: the same pixels as from the directory. */
    @Test
    void theLoaderGivesTheSameBatchesFromTheBucket() {
        List<float[]> fromDir = new ArrayList<>();
        List<float[]> fromBucket = new ArrayList<>();
        collect(local, fromDir);
        collect(remote, fromBucket);
        assertEquals(2, fromBucket.size(), "batches 2 and 3 of rank 1");
        for (int b = 0; b < fromDir.size(); b++) {
            assertArrayEquals(fromDir.get(b), fromBucket.get(b), 0f);
        }
    }

    @Test
    void aMissingManifestBucketOrShardAndRefusedCredentialsAreNamed() throws Exception {
        ShardFormatException noManifest = assertThrows(ShardFormatException.class,
                () -> ShardedDataset.open(new S3ShardSource(objects, new S3Location(BUCKET, "small/nothing"))));
        assertTrue(noManifest.getMessage().startsWith("s3://datasets/small/nothing/shards.json does not exist"),
                noManifest.getMessage());

        ObjectStoreException noBucket = assertThrows(ObjectStoreException.class,
                () -> ShardedDataset.open(new S3ShardSource(objects, new S3Location("no-such-bucket", "train"))));
        assertTrue(noBucket.getMessage().contains("s3://no-such-bucket/train/shards.json: bucket 'no-such-bucket'"
                + " does not exist"), noBucket.getMessage());

        ObjectStoreConfig wrong = new ObjectStoreConfig(server.endpoint(), "us-east-1", true,
                new ObjectStoreConfig.Credentials(server.config().credentials().accessKeyId(), "not-the-secret"));
        try (ObjectStore refused = new ObjectStore(wrong)) {
            ObjectStoreException e = assertThrows(ObjectStoreException.class,
                    () -> ShardedDataset.open(new S3ShardSource(refused, train)));
            assertTrue(e.getMessage().contains("cannot read s3://datasets/small/train/shards.json: the server refused"
                    + " the credentials"), e.getMessage());
            assertFalse(e.getMessage().contains("not-the-secret"), "never the secret");
        }

        S3Location copy = new S3Location(BUCKET, "damaged/train");
        new ShardUpload(objects, copy).write(folder, ShardWriter.ShardSize.parse("4"), 3);
        objects.delete(BUCKET, List.of(copy.key("shard-000001.tar")));
        ShardedDataset damaged = ShardedDataset.open(new S3ShardSource(objects, copy));
        RuntimeException missingShard = assertThrows(RuntimeException.class, () -> samples(damaged, 1, 0, 0));
        String message = causes(missingShard);
        assertTrue(message.contains("s3://datasets/damaged/train/shard-000001.tar is listed in shards.json but does"
                + " not exist"), message);
    }

    /** A teacher's "directory" in a bucket: downloaded once, used again while unchanged, again when replaced. */
    @Test
    void singleObjectsAreDownloadedOnceAndAgainWhenReplaced(@TempDir Path cache) throws Exception {
        S3Location teacher = new S3Location("datasets", "teachers/clip");
        objects.putBytes(BUCKET, teacher.key("model.safetensors"), "weights v1".getBytes(StandardCharsets.UTF_8));
        ObjectFiles files = new ObjectFiles(objects, cache);
        Path first = files.localCopy("--teacher_path", teacher.toString(), "model.safetensors");
        assertEquals("weights v1", Files.readString(first));
        // A marker time no download writes: a second download would replace the file and with it this time.
        long modified = 0;
        Files.setLastModifiedTime(first, java.nio.file.attribute.FileTime.fromMillis(modified));
        Path again = files.localCopy("--teacher_path", teacher.url("model.safetensors"), null);
        assertEquals(first, again);
        assertEquals(modified, Files.getLastModifiedTime(again).toMillis(), "not downloaded twice");

        objects.putBytes(BUCKET, teacher.key("model.safetensors"), "weights v2".getBytes(StandardCharsets.UTF_8));
        assertEquals("weights v2", Files.readString(files.localCopy("--teacher_path", teacher.toString(),
                "model.safetensors")));
        try (var left = Files.walk(cache)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "no temporary left");
        }

        ObjectStoreException none = assertThrows(ObjectStoreException.class,
                () -> files.localCopy("--finetune", "s3://datasets/models/missing.safetensors", null));
        assertTrue(none.getMessage().startsWith("--finetune: there is no object"
                + " s3://datasets/models/missing.safetensors"), none.getMessage());
        ObjectStoreException both = assertThrows(ObjectStoreException.class,
                () -> files.localCopy("--teacher_path", "s3://datasets/teachers/none", "model.safetensors"));
        assertTrue(both.getMessage().contains("s3://datasets/teachers/none nor"
                + " s3://datasets/teachers/none/model.safetensors"), both.getMessage());
    }

    private static List<EncodedSample> samples(ShardedDataset data, int world, int rank, int skip) {
        List<EncodedSample> out = new ArrayList<>();
        try (ShardStream s = data.stream(4, 11, world, rank, true, 5, skip)) {
            for (int i = skip; i < s.length(); i++) {
                out.add(s.next());
            }
        }
        return out;
    }

    private static void collect(ImageDataset data, List<float[]> pixels) {
        try (BatchLoader loader = new BatchLoader(data, TrainTransform.pretraining(16),
                new BatchLoader.Options(2, true, 2, 2, 0.0, 7).withShuffleBuffer(5));
                BatchLoader.EpochIterator it = loader.shuffledEpoch(4, 1, 2, 2)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    float[] f = new float[b.images().remaining()];
                    b.images().get(f);
                    pixels.add(f);
                }
            }
        }
    }

    private static String causes(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c.getMessage()).append(" | ");
        }
        return all.toString();
    }
}
