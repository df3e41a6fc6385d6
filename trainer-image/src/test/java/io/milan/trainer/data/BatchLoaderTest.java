package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchLoaderTest {

    private static final int SIZE = 16;

    @TempDir
    Path root;
    private ImageFolder dataset;

    /** 3 classes × 5 images (JPEG and PNG, sizes 20..44 px) = 15 samples. */
    @BeforeEach
    void makeDataset() throws IOException {
        TestImages.writeSmallFolder(root);
        dataset = ImageFolder.scan(root);
    }

    @Test
    void yieldsFullBatchesInOrderAndDropsThePartialOne() {
        int[] order = DistributedSampler.indices(dataset.size(), 1, 0, 0, 0, true, false);
        try (BatchLoader loader = loader(4, true, 2, 0.0, 7); BatchLoader.EpochIterator epoch = loader.epoch(0, order);
                NDManager manager = NDManager.newBaseManager()) {
            assertEquals(3, epoch.batches()); // 15 samples, batch 4, drop_last → 3 batches, 3 samples dropped
            int position = 0;
            while (epoch.hasNext()) {
                try (Batch batch = epoch.next()) {
                    assertEquals(4, batch.size());
                    NDList arrays = batch.toNDList(manager);
                    assertEquals(new Shape(4, 3, SIZE, SIZE), arrays.get(0).getShape());
                    assertEquals(DataType.FLOAT32, arrays.get(0).getDataType());
                    assertEquals(DataType.INT64, arrays.get(1).getDataType());
                    long[] indices = arrays.get(2).toLongArray();
                    long[] labels = arrays.get(1).toLongArray();
                    for (int k = 0; k < 4; k++) {
                        assertEquals(order[position + k], indices[k]);
                        assertEquals(dataset.get(order[position + k]).label(), labels[k]);
                    }
                    // The array holds exactly what the transform gives for each sample.
                    float[] all = arrays.get(0).toFloatArray();
                    float[] first = expected(order[position], 7, 0);
                    assertArrayEquals(first, java.util.Arrays.copyOf(all, first.length), 0f);
                    position += 4;
                }
            }
            assertEquals(12, position);
        }
    }

    @Test
    void keepsThePartialBatchWithoutDropLast() {
        int[] order = DistributedSampler.indices(dataset.size(), 1, 0, 0, 0, false, false);
        try (BatchLoader loader = loader(4, false, 2, 0.0, 7); BatchLoader.EpochIterator epoch = loader.epoch(0, order)) {
            List<Integer> sizes = new ArrayList<>();
            epoch.forEachRemaining(b -> {
                sizes.add(b.size());
                b.close();
            });
            assertEquals(List.of(4, 4, 4, 3), sizes);
        }
    }

    /** A resume inside an epoch: starting at batch k yields exactly the full pass's batches from k on. */
    @Test
    void startingAtALaterBatchYieldsTheRestOfTheFullPass() {
        int[] order = DistributedSampler.indices(dataset.size(), 1, 0, 2, 0, true, false);
        List<float[]> full = collect(loader(4, true, 2, 0.0, 11), 2, order);
        List<float[]> rest = new ArrayList<>();
        List<Long> numbers = new ArrayList<>();
        try (BatchLoader loader = loader(4, true, 2, 0.0, 11); BatchLoader.EpochIterator epoch = loader.epoch(2,
                order, 1)) {
            assertEquals(3, epoch.batches());
            while (epoch.hasNext()) {
                try (Batch b = epoch.next()) {
                    numbers.add((long) b.number());
                    float[] copy = new float[b.images().remaining()];
                    b.images().get(copy);
                    rest.add(copy);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> loader.epoch(2, order, 4));
        }
        assertEquals(List.of(1L, 2L), numbers);
        assertEquals(2, rest.size());
        for (int i = 0; i < rest.size(); i++) {
            assertArrayEquals(full.get(i + 1), rest.get(i), 0f, "batch " + (i + 1));
        }
    }

    @Test
    void outputIsTheSameForAnyNumberOfWorkers() {
        int[] order = DistributedSampler.indices(dataset.size(), 1, 0, 2, 0, true, false);
        List<float[]> one = collect(loader(5, true, 1, 0.0, 11), 2, order);
        List<float[]> three = collect(loader(5, true, 3, 0.0, 11), 2, order);
        assertEquals(3, one.size());
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i), three.get(i), 0f, "batch " + i);
        }
        List<float[]> otherSeed = collect(loader(5, true, 3, 0.0, 12), 2, order);
        assertFalse(java.util.Arrays.equals(one.get(0), otherSeed.get(0)), "a different seed changes the crops");
        List<float[]> otherEpoch = collect(loader(5, true, 3, 0.0, 11), 3, order);
        assertFalse(java.util.Arrays.equals(one.get(0), otherEpoch.get(0)), "a different epoch changes the crops");
    }

    @Test
    void unreadableImagesAreSkippedAndCounted() throws IOException {
        Path corrupt = root.resolve("dog/img9.jpg");
        Files.write(corrupt, new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
        ImageFolder withCorrupt = ImageFolder.scan(root);
        int[] order = DistributedSampler.indices(withCorrupt.size(), 1, 0, 0, 0, false, false);
        BatchLoader.Options options = new BatchLoader.Options(4, true, 2, 2, 0.1, 0); // 1 of 16 tolerated
        try (BatchLoader loader = new BatchLoader(withCorrupt, TrainTransform.pretraining(SIZE), options);
                BatchLoader.EpochIterator epoch = loader.epoch(0, order)) {
            int batches = 0;
            while (epoch.hasNext()) {
                try (Batch b = epoch.next()) {
                    for (long index : b.indices()) {
                        assertFalse(withCorrupt.get((int) index).file().equals(corrupt), "corrupt image was returned");
                    }
                    batches++;
                }
            }
            assertEquals(4, batches);
            assertEquals(1, epoch.skippedImages());
        }
    }

    @Test
    void tooManyUnreadableImagesFailTheEpochNamingAFile() throws IOException {
        Path corrupt = root.resolve("dog/img9.jpg");
        Files.write(corrupt, "not an image".getBytes());
        ImageFolder withCorrupt = ImageFolder.scan(root);
        int[] order = DistributedSampler.indices(withCorrupt.size(), 1, 0, 0, 0, false, false);
        BatchLoader.Options options = new BatchLoader.Options(4, true, 2, 2, 0.01, 0); // 0 of 16 tolerated
        try (BatchLoader loader = new BatchLoader(withCorrupt, TrainTransform.pretraining(SIZE), options);
                BatchLoader.EpochIterator epoch = loader.epoch(0, order)) {
            DataLoadingException e = assertThrows(DataLoadingException.class, () -> {
                while (epoch.hasNext()) {
                    epoch.next().close();
                }
            });
            assertTrue(e.getMessage().contains("1 unreadable images in epoch 0 exceed the tolerated 1.0% of 16"),
                    e.getMessage());
            assertTrue(e.getMessage().contains(corrupt + ": not a decodable image"), e.getMessage());
        }
    }

    @Test
    void workerFailureSurfacesWithTheFileName() {
        Path bad = dataset.get(7).file();
        SampleTransform failing = new SampleTransform() {
            @Override
            public int size() {
                return SIZE;
            }

            @Override
            public void apply(RgbImage image, RandomGenerator rng, FloatBuffer out) {
                if (image.width() == 20 + 6 * 2 && image.height() == 28) { // dog/img2.jpg
                    throw new IllegalStateException("boom");
                }
                EvalTransform.imagenet(SIZE).apply(image, rng, out);
            }
        };
        assertTrue(bad.endsWith("dog/img2.jpg"), bad.toString());
        int[] order = DistributedSampler.indices(dataset.size(), 1, 0, 0, 0, false, false);
        BatchLoader.Options options = new BatchLoader.Options(4, true, 2, 2, 0.0, 0);
        try (BatchLoader loader = new BatchLoader(dataset, failing, options);
                BatchLoader.EpochIterator epoch = loader.epoch(0, order)) {
            epoch.next().close();
            DataLoadingException e = assertThrows(DataLoadingException.class, () -> epoch.next().close());
            assertTrue(e.getMessage().contains("transforming " + bad + " (sample 7) failed"), e.getMessage());
            assertTrue(e.getMessage().contains("boom"), e.getMessage());
            assertFalse(epoch.hasNext());
        }
    }

    @Test
    void closingEarlyStopsTheWorkers() {
        int[] order = DistributedSampler.indices(dataset.size(), 1, 0, 0, 0, true, false);
        BatchLoader loader = loader(2, true, 3, 0.0, 0);
        BatchLoader.EpochIterator epoch = loader.epoch(0, order);
        epoch.next().close();
        epoch.close();
        assertFalse(epoch.hasNext());
        loader.close();
        boolean alive = Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().startsWith("milan-data-") && t.isAlive());
        assertFalse(alive, "data worker threads must stop on close");
    }

    @Test
    void indexOutsideTheDatasetIsRejected() {
        try (BatchLoader loader = loader(2, true, 1, 0.0, 0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> loader.epoch(0, new int[] {0, 15}));
            assertTrue(e.getMessage().contains("sample index 15 is outside the dataset of 15 images"), e.getMessage());
        }
    }

    private BatchLoader loader(int batch, boolean dropLast, int workers, double maxSkipped, long seed) {
        return new BatchLoader(dataset, TrainTransform.pretraining(SIZE),
                new BatchLoader.Options(batch, dropLast, workers, 2, maxSkipped, seed));
    }

    private float[] expected(int index, long seed, int epoch) {
        FloatBuffer out = FloatBuffer.allocate(3 * SIZE * SIZE);
        try {
            TrainTransform.pretraining(SIZE).apply(ImageDecoder.decode(dataset.get(index).file()),
                    SampleRandom.forSample(seed, epoch, index, 0), out);
        } catch (ImageDecoder.UnreadableImageException e) {
            throw new AssertionError(e);
        }
        return out.array();
    }

    private static List<float[]> collect(BatchLoader loader, int epochNumber, int[] order) {
        List<float[]> batches = new ArrayList<>();
        try (loader; BatchLoader.EpochIterator epoch = loader.epoch(epochNumber, order)) {
            while (epoch.hasNext()) {
                try (Batch b = epoch.next()) {
                    FloatBuffer images = b.images();
                    float[] copy = new float[images.remaining()];
                    images.get(copy);
                    batches.add(copy);
                }
            }
        }
        return batches;
    }
}
