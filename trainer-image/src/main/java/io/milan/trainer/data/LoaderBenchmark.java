package io.milan.trainer.data;

import io.milan.trainer.data.shards.ShardManifest;
import io.milan.trainer.data.shards.ShardWriter;
import io.milan.trainer.data.shards.ShardedDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Prints the data pipeline's throughput (decode + RandomResizedCrop + flip + normalise into batch buffers)
 * for 1..N worker threads, on {@code images} synthetic 500×375 JPEGs (ImageNet's typical size) or on an
 * existing ImageFolder: read as files, then as tar shards written from it ({@code milan-trainer shard}, shards of
 * {@code shardSize}) and streamed with a shuffle buffer of 1000. A command, not a test: the figures depend on the
 * machine (and on the page cache: both read from local disk, warm).
 *
 * <pre>java -cp … io.milan.trainer.data.LoaderBenchmark [images=512] [maxWorkers=2] [size=224] [imageFolder|-]
 *     [shardSize=16MB]</pre>
 */
public final class LoaderBenchmark {

    private static final int WARMUP_EPOCHS = 3;

    private LoaderBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int maxWorkers = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 224;
        Path root = args.length > 3 && !args[3].equals("-") ? Path.of(args[3]) : null;
        String shardSize = args.length > 4 ? args[4] : "16MB";
        Path temp = Files.createTempDirectory("milan-loader-bench");
        if (root == null) {
            root = temp.resolve("folder");
            writeJpegs(root, images);
        }
        try {
            ImageFolder folder = ImageFolder.scan(root);
            ShardManifest manifest = ShardWriter.write(folder, temp.resolve("shards"),
                    ShardWriter.ShardSize.parse(shardSize), 0);
            System.out.printf(Locale.ROOT, "%d images in %s (and %d shards of %s), output %dx%d, %d cores%n",
                    folder.size(), root, manifest.shards().size(), shardSize, size, size,
                    Runtime.getRuntime().availableProcessors());
            for (ImageDataset dataset : List.of(folder, ShardedDataset.open(temp.resolve("shards")))) {
                String source = dataset instanceof ShardedDataset ? "shards" : "imagefolder";
                for (int workers = 1; workers <= maxWorkers; workers++) {
                    measure(dataset, source, size, workers, () -> 0);
                }
            }
        } finally {
            try (Stream<Path> walk = Files.walk(temp)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * Loads warm-up epochs, then times one and prints its images/s and images per CPU-second of this process plus
     * {@code otherCpuNanos} (another process serving the data, e.g. an object store on the same machine).
     */
    static void measure(ImageDataset dataset, String source, int size, int workers,
            java.util.function.LongSupplier otherCpuNanos) {
        // Warm-up (page cache, JIT): one epoch leaves the hot loops half-compiled; training runs for hours.
        for (int epoch = 0; epoch < WARMUP_EPOCHS; epoch++) {
            run(dataset, size, workers, epoch);
        }
        long cpuStart = processCpuNanos();
        long otherStart = otherCpuNanos.getAsLong();
        long start = System.nanoTime();
        int count = run(dataset, size, workers, WARMUP_EPOCHS);
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (processCpuNanos() - cpuStart) / 1e9;
        double otherSeconds = (otherCpuNanos.getAsLong() - otherStart) / 1e9;
        System.out.printf(Locale.ROOT, "%s workers=%d: %.1f images/s%n", source, workers, count / seconds);
        // Less sensitive to other load on the machine than the wall-clock rate (includes JIT and GC).
        System.out.printf(Locale.ROOT, "%s workers=%d: %.1f images per CPU-second%s%n", source, workers,
                count / cpuSeconds, otherSeconds == 0 ? "" : String.format(Locale.ROOT,
                        " of the loader, %.1f counting the server's %.2f CPU-s", count / (cpuSeconds + otherSeconds),
                        otherSeconds));
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Loads one epoch; returns the number of images. */
    private static int run(ImageDataset dataset, int size, int workers, int epoch) {
        BatchLoader.Options options = new BatchLoader.Options(32, true, workers, 4, 0.0, 0);
        int count = 0;
        try (BatchLoader loader = new BatchLoader(dataset, TrainTransform.pretraining(size), options);
                BatchLoader.EpochIterator it = loader.shuffledEpoch(epoch, 0, 1, 0)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    count += b.size();
                }
            }
        }
        return count;
    }

    /** Smooth gradients plus noise (compresses like a photo, unlike flat colour), JPEG quality 90. */
    static void writeJpegs(Path root, int images) throws IOException {
        ImageDecoder.ensureLoaded();
        SplittableRandom rng = new SplittableRandom(1);
        byte[] px = new byte[500 * 375 * 3];
        for (int i = 0; i < images; i++) {
            int phase = rng.nextInt(256);
            for (int y = 0; y < 375; y++) {
                for (int x = 0; x < 500; x++) {
                    for (int c = 0; c < 3; c++) {
                        int v = (x * (c + 1) / 3 + y * (3 - c) / 4 + phase + rng.nextInt(24)) & 0xff;
                        px[(y * 500 + x) * 3 + c] = (byte) v;
                    }
                }
            }
            Mat mat = new Mat(375, 500, CvType.CV_8UC3);
            MatOfByte out = new MatOfByte();
            mat.put(0, 0, px);
            Imgcodecs.imencode(".jpg", mat, out, new MatOfInt(Imgcodecs.IMWRITE_JPEG_QUALITY, 90));
            Path file = root.resolve("class" + (i % 4)).resolve(String.format(Locale.ROOT, "img%05d.jpg", i));
            Files.createDirectories(file.getParent());
            Files.write(file, out.toArray());
            mat.release();
            out.release();
        }
    }
}
