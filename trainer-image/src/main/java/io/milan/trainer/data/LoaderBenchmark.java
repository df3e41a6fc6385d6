package io.milan.trainer.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
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
 * existing ImageFolder. A command, not a test: the figures depend on the machine.
 *
 * <pre>java -cp … io.milan.trainer.data.LoaderBenchmark [images=512] [maxWorkers=2] [size=224] [imageFolder]</pre>
 */
public final class LoaderBenchmark {

    private static final int WARMUP_EPOCHS = 3;

    private LoaderBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int maxWorkers = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 224;
        Path root = args.length > 3 ? Path.of(args[3]) : null;
        Path temp = null;
        if (root == null) {
            temp = Files.createTempDirectory("milan-loader-bench");
            root = temp;
            writeJpegs(root, images);
        }
        try {
            ImageFolder dataset = ImageFolder.scan(root);
            int[] order = DistributedSampler.indices(dataset.size(), 1, 0, 0, 0, true, false);
            System.out.printf(Locale.ROOT, "%d images in %s, output %dx%d, %d cores%n", dataset.size(), root, size,
                    size, Runtime.getRuntime().availableProcessors());
            for (int workers = 1; workers <= maxWorkers; workers++) {
                // Warm-up (page cache, JIT): one epoch leaves the hot loops half-compiled; training runs for hours.
                for (int epoch = 0; epoch < WARMUP_EPOCHS; epoch++) {
                    run(dataset, order, size, workers, epoch);
                }
                long cpuStart = processCpuNanos();
                long start = System.nanoTime();
                int count = run(dataset, order, size, workers, WARMUP_EPOCHS);
                double seconds = (System.nanoTime() - start) / 1e9;
                double cpuSeconds = (processCpuNanos() - cpuStart) / 1e9;
                System.out.printf(Locale.ROOT, "workers=%d: %.1f images/s%n", workers, count / seconds);
                // Less sensitive to other load on the machine than the wall-clock rate (includes JIT and GC).
                System.out.printf(Locale.ROOT, "workers=%d: %.1f images per CPU-second%n", workers,
                        count / cpuSeconds);
            }
        } finally {
            if (temp != null) {
                try (Stream<Path> walk = Files.walk(temp)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Loads one epoch; returns the number of images. */
    private static int run(ImageFolder dataset, int[] order, int size, int workers, int epoch) {
        BatchLoader.Options options = new BatchLoader.Options(32, true, workers, 4, 0.0, 0);
        int count = 0;
        try (BatchLoader loader = new BatchLoader(dataset, TrainTransform.pretraining(size), options);
                BatchLoader.EpochIterator it = loader.epoch(epoch, order)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    count += b.size();
                }
            }
        }
        return count;
    }

    /** Smooth gradients plus noise (compresses like a photo, unlike flat colour), JPEG quality 90. */
    private static void writeJpegs(Path root, int images) throws IOException {
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
