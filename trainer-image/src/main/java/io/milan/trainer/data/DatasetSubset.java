package io.milan.trainer.data;

import io.milan.trainer.checkpoint.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code subset}: copies a class-balanced slice of an ImageFolder dataset, the first N files (by name) of every
 * class of each named split, e.g. {@code --per-class train=600,val=100}. The demo, the end-to-end tests and the
 * image's self-test train on such slices of the image's Fashion-MNIST. Like {@code prepare-fashion-mnist}, the
 * output appears atomically: it is written to a temporary sibling and renamed at the end.
 */
@Command(name = "subset", mixinStandardHelpOptions = true,
        description = "Copy the first N images of every class of an ImageFolder dataset's splits.")
public final class DatasetSubset implements Callable<Integer> {

    @Option(names = "--from", required = true, description = "The dataset: <from>/<split>/<class>/<image>.")
    Path from;

    @Option(names = "--to", required = true, description = "Where the slice goes; must not exist yet.")
    Path to;

    @Option(names = "--per-class", required = true, split = ",", paramLabel = "SPLIT=N",
            description = "Images per class of each split, e.g. train=600,val=100.")
    Map<String, Integer> perClass = new LinkedHashMap<>();

    @Override
    public Integer call() throws IOException {
        Map<String, Integer> copied = copy(from, to, perClass);
        StringBuilder line = new StringBuilder("subset: ").append(to);
        copied.forEach((split, n) -> line.append(", ").append(split).append(' ').append(n).append(" images"));
        System.out.println(line);
        return 0;
    }

    /**
     * Copies up to {@code perClass.get(split)} files of every class directory of each split (sorted by name) and
     * returns how many were copied per split.
     *
     * @throws IllegalArgumentException for a count below 1, a missing split or class-less split, or an existing
     *     {@code to}
     */
    static Map<String, Integer> copy(Path from, Path to, Map<String, Integer> perClass) throws IOException {
        if (Files.exists(to)) {
            throw new IllegalArgumentException("--to " + to + " already exists; remove it or choose another");
        }
        for (Map.Entry<String, Integer> e : perClass.entrySet()) {
            if (e.getValue() == null || e.getValue() < 1) {
                throw new IllegalArgumentException("--per-class " + e.getKey() + "=" + e.getValue()
                        + ": the count must be at least 1");
            }
            if (classes(from.resolve(e.getKey())).isEmpty()) {
                throw new IllegalArgumentException("--from " + from + ": split '" + e.getKey()
                        + "' has no class directories");
            }
        }
        return AtomicFiles.writeDirectory(to, dir -> {
            Map<String, Integer> copied = new LinkedHashMap<>();
            for (Map.Entry<String, Integer> e : perClass.entrySet()) {
                int n = 0;
                for (Path classDir : classes(from.resolve(e.getKey()))) {
                    Path target = Files.createDirectories(dir.resolve(e.getKey()).resolve(classDir.getFileName()));
                    for (Path file : firstFiles(classDir, e.getValue())) {
                        Files.copy(file, target.resolve(file.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                        n++;
                    }
                }
                copied.put(e.getKey(), n);
            }
            return copied;
        });
    }

    private static List<Path> classes(Path split) throws IOException {
        if (!Files.isDirectory(split)) {
            throw new IllegalArgumentException("--from: " + split + " is not a directory");
        }
        try (Stream<Path> s = Files.list(split)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    private static List<Path> firstFiles(Path classDir, int n) throws IOException {
        try (Stream<Path> s = Files.list(classDir)) {
            return s.filter(Files::isRegularFile).sorted().limit(n).toList();
        }
    }
}
