package io.milan.trainer.data;

import io.milan.trainer.checkpoint.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code prepare-fashion-mnist}: converts the Fashion-MNIST IDX files (Debian package
 * {@code dataset-fashion-mnist}) into an RGB ImageFolder the trainer reads like ImageNet:
 * {@code <output>/train/<class>/<record>.png} from the 60,000 training records and
 * {@code <output>/val/<class>/<record>.png} from the 10,000 test records. Images are resized from 28×28 to
 * {@code --size} with PIL-equivalent bicubic resampling and stored as 3 equal channels. Class folders are
 * named {@code <label>-<name>} ({@code 0-t-shirt-top} … {@code 9-ankle-boot}) so their alphabetical order,
 * which gives ImageFolder's class indices, is the dataset's label order. {@code --train-fraction} keeps a
 * stratified random subset of the training records (e.g. 0.1 = 600 per class). The output appears
 * atomically: everything is written to a temporary sibling directory that is renamed at the end.
 */
@Command(name = "prepare-fashion-mnist", mixinStandardHelpOptions = true,
        description = "Convert Fashion-MNIST (Debian dataset-fashion-mnist) into an RGB ImageFolder.")
public final class FashionMnistConverter implements Callable<Integer> {

    public static final Path DEBIAN_SOURCE = Path.of("/usr/share/datasets/fashion-mnist");
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    @Option(names = "--source", description = "Directory with the *-ubyte.gz files (default: ${DEFAULT-VALUE}).")
    Path source = DEBIAN_SOURCE;

    @Option(names = "--output", required = true, description = "Directory to create (must not exist).")
    Path output;

    @Option(names = "--size", description = "Output width and height in pixels (default: ${DEFAULT-VALUE}).")
    int size = 32;

    @Option(names = "--train-fraction", description = "Fraction of training records to keep, stratified by class"
            + " (default: ${DEFAULT-VALUE}).")
    double trainFraction = 1.0;

    @Option(names = "--seed", description = "Seed of the subset choice (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    /** What was written. */
    public record Summary(Path output, int trainImages, int valImages) {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new FashionMnistConverter()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        Summary s = convert(source, output, size, trainFraction, seed);
        System.out.printf(Locale.ROOT, "Wrote %d training and %d validation images (%dx%d RGB PNG) to %s%n",
                s.trainImages(), s.valImages(), size, size, s.output());
        return 0;
    }

    /** The class folder name for a label, e.g. {@code 0-t-shirt-top}. */
    public static String folderName(int label) {
        String slug = CLASS_NAMES.get(label).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
        return label + "-" + slug;
    }

    /** Converts the dataset in {@code source} into a new directory {@code output}. */
    public static Summary convert(Path source, Path output, int size, double trainFraction, long seed)
            throws IOException {
        if (size < 1) {
            throw new IllegalArgumentException("--size must be >= 1, got " + size);
        }
        if (!(trainFraction > 0 && trainFraction <= 1)) {
            throw new IllegalArgumentException("--train-fraction must be in (0, 1], got " + trainFraction);
        }
        if (Files.exists(output)) {
            throw new IOException("output directory " + output + " already exists; remove it or choose another");
        }
        if (!Files.isDirectory(source)) {
            throw new IOException("Fashion-MNIST directory " + source + " does not exist (on Debian: apt-get install"
                    + " dataset-fashion-mnist)");
        }
        Idx train = Idx.read(source, "train");
        Idx val = Idx.read(source, "t10k");
        return AtomicFiles.writeDirectory(output, dir -> {
            List<Integer> kept = stratifiedSubset(train.labels(), trainFraction, seed);
            writeSplit(train, kept, dir.resolve("train"), size);
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < val.count(); i++) {
                all.add(i);
            }
            writeSplit(val, all, dir.resolve("val"), size);
            return new Summary(output, kept.size(), all.size());
        });
    }

    /**
     * Per class, a seeded random {@code round(fraction × count)} (at least 1) of its records, returned in
     * record order.
     */
    static List<Integer> stratifiedSubset(byte[] labels, double fraction, long seed) {
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < CLASS_NAMES.size(); c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < labels.length; i++) {
            byClass.get(labels[i]).add(i);
        }
        Random random = new Random(seed);
        List<Integer> kept = new ArrayList<>();
        for (List<Integer> members : byClass) {
            if (members.isEmpty()) {
                continue;
            }
            java.util.Collections.shuffle(members, random);
            int keep = fraction >= 1 ? members.size() : (int) Math.max(1, Math.round(fraction * members.size()));
            kept.addAll(members.subList(0, keep));
        }
        kept.sort(Comparator.naturalOrder());
        return kept;
    }

    private static void writeSplit(Idx data, List<Integer> records, Path dir, int size) throws IOException {
        for (int c = 0; c < CLASS_NAMES.size(); c++) {
            Files.createDirectories(dir.resolve(folderName(c)));
        }
        int pixels = data.rows() * data.cols();
        for (int record : records) {
            byte[] rgb = new byte[pixels * 3];
            for (int p = 0; p < pixels; p++) {
                byte v = data.images()[record * pixels + p];
                rgb[p * 3] = v;
                rgb[p * 3 + 1] = v;
                rgb[p * 3 + 2] = v;
            }
            RgbImage image = new RgbImage(data.cols(), data.rows(), rgb);
            if (image.width() != size || image.height() != size) {
                image = PilResample.resize(image, size, size, PilResample.Filter.BICUBIC);
            }
            Path file = dir.resolve(folderName(data.labels()[record])).resolve(String.format(Locale.ROOT, "%05d.png",
                    record));
            Files.write(file, ImageDecoder.encodePng(image));
        }
    }

    /** One split's images (count × rows × cols bytes) and labels. */
    record Idx(int count, int rows, int cols, byte[] images, byte[] labels) {

        static Idx read(Path dir, String split) throws IOException {
            Path imagesFile = dir.resolve(split + "-images-idx3-ubyte.gz");
            Path labelsFile = dir.resolve(split + "-labels-idx1-ubyte.gz");
            int[] imageDims;
            byte[] images;
            try (DataInputStream in = open(imagesFile)) {
                imageDims = header(in, imagesFile, 0x803, 3);
                images = body(in, imagesFile, (long) imageDims[0] * imageDims[1] * imageDims[2]);
            }
            byte[] labels;
            try (DataInputStream in = open(labelsFile)) {
                int[] labelDims = header(in, labelsFile, 0x801, 1);
                labels = body(in, labelsFile, labelDims[0]);
            }
            if (labels.length != imageDims[0]) {
                throw new IOException(labelsFile + " has " + labels.length + " labels but " + imagesFile + " has "
                        + imageDims[0] + " images");
            }
            boolean[] present = new boolean[CLASS_NAMES.size()];
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0 || labels[i] >= CLASS_NAMES.size()) {
                    throw new IOException(labelsFile + ": label " + labels[i] + " of record " + i + " is not in 0..9");
                }
                present[labels[i]] = true;
            }
            for (int c = 0; c < present.length; c++) {
                // An empty class folder would make ImageFolder fail (or shift class indices if left out).
                if (!present[c]) {
                    throw new IOException(labelsFile + " has no record of class " + c + " (" + CLASS_NAMES.get(c) + ")");
                }
            }
            return new Idx(imageDims[0], imageDims[1], imageDims[2], images, labels);
        }

        private static DataInputStream open(Path file) throws IOException {
            if (!Files.isRegularFile(file)) {
                throw new IOException("Fashion-MNIST file " + file + " does not exist (on Debian: apt-get install"
                        + " dataset-fashion-mnist)");
            }
            InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            try {
                return new DataInputStream(new BufferedInputStream(new GZIPInputStream(raw), 1 << 16));
            } catch (IOException e) {
                raw.close();
                throw new IOException(file + " is not a gzip file: " + e.getMessage(), e);
            }
        }

        private static int[] header(DataInputStream in, Path file, int magic, int dims) throws IOException {
            try {
                int actual = in.readInt();
                if (actual != magic) {
                    throw new IOException(String.format(Locale.ROOT, "%s: magic number 0x%08x, expected 0x%08x (an"
                            + " IDX file of %d-D unsigned bytes)", file, actual, magic, dims));
                }
                int[] sizes = new int[dims];
                for (int d = 0; d < dims; d++) {
                    sizes[d] = in.readInt();
                    if (sizes[d] < 1) {
                        throw new IOException(file + ": dimension " + d + " is " + sizes[d]);
                    }
                }
                return sizes;
            } catch (EOFException e) {
                throw new IOException(file + " ends inside its header (truncated)", e);
            }
        }

        private static byte[] body(DataInputStream in, Path file, long length) throws IOException {
            if (length > Integer.MAX_VALUE - 16) {
                throw new IOException(file + ": " + length + " bytes of data is too large");
            }
            byte[] data = new byte[(int) length];
            try {
                in.readFully(data);
            } catch (EOFException e) {
                throw new IOException(file + " is truncated: expected " + length + " bytes of data", e);
            }
            return data;
        }
    }
}
