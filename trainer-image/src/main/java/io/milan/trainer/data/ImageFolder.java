package io.milan.trainer.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * torchvision's {@code ImageFolder}: {@code <root>/<class>/**&#47;<image>}, classes sorted by name and
 * numbered from 0, files of each class found recursively and sorted by (directory, name). Accepted
 * extensions (any case): .jpg, .jpeg, .png.
 */
public final class ImageFolder implements ImageDataset {

    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png");

    /** One image and its class index. */
    public record Sample(Path file, int label) {
    }

    private final Path root;
    private final List<String> classes;
    private final List<Sample> samples;

    private ImageFolder(Path root, List<String> classes, List<Sample> samples) {
        this.root = root;
        this.classes = List.copyOf(classes);
        this.samples = List.copyOf(samples);
    }

    /**
     * Scans {@code root}. Fails with a message naming the path when it does not exist, is not a directory,
     * has no class directories, or a class directory has no images (as torchvision does).
     */
    public static ImageFolder scan(Path root) throws IOException {
        if (!Files.exists(root)) {
            throw new DatasetException("dataset directory " + root + " does not exist");
        }
        if (!Files.isDirectory(root)) {
            throw new DatasetException("dataset path " + root + " is not a directory");
        }
        List<Path> classDirs;
        try (Stream<Path> entries = Files.list(root)) {
            classDirs = entries.filter(Files::isDirectory)
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
        if (classDirs.isEmpty()) {
            throw new DatasetException("dataset directory " + root + " has no class subdirectories (expected "
                    + root + "/<class>/<image>.jpg)");
        }
        List<String> classes = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        for (Path dir : classDirs) {
            int label = classes.size();
            classes.add(dir.getFileName().toString());
            List<Path> files = imagesUnder(dir);
            if (files.isEmpty()) {
                empty.add(dir.toString());
            }
            files.forEach(f -> samples.add(new Sample(f, label)));
        }
        if (!empty.isEmpty()) {
            throw new DatasetException("no images (" + String.join(", ", new java.util.TreeSet<>(EXTENSIONS))
                    + ") in class director" + (empty.size() == 1 ? "y " : "ies ") + String.join(", ", empty));
        }
        return new ImageFolder(root, classes, samples);
    }

    public Path root() {
        return root;
    }

    /** Class names; a class's index is its position. */
    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public String location() {
        return root.toString();
    }

    @Override
    public String sampleName(long index) {
        return samples.get((int) index).file().toString();
    }

    @Override
    public String fingerprint() {
        return "imagefolder:" + samples.size() + ":" + classes.size();
    }

    public List<Sample> samples() {
        return samples;
    }

    @Override
    public int size() {
        return samples.size();
    }

    public Sample get(int index) {
        return samples.get(index);
    }

    private static List<Path> imagesUnder(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir, FileVisitOption.FOLLOW_LINKS)) {
            return walk.filter(Files::isRegularFile).filter(ImageFolder::hasImageExtension)
                    .sorted(Comparator.comparing((Path p) -> p.getParent().toString())
                            .thenComparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static boolean hasImageExtension(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot >= 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** The dataset directory is missing, empty or malformed. */
    public static final class DatasetException extends IOException {
        private static final long serialVersionUID = 1L;

        public DatasetException(String message) {
            super(message);
        }
    }
}
