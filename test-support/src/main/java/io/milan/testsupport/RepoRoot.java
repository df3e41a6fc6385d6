package io.milan.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Finds the repository root: the nearest directory at or above a start directory holding e2e/local-cluster.sh. */
public final class RepoRoot {
    static final String MARKER = "e2e/local-cluster.sh";

    private RepoRoot() {}

    /** Walks up from {@code start}; empty when no ancestor holds {@value #MARKER}. */
    public static Optional<Path> find(Path start) {
        for (Path dir = start.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(MARKER))) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    /** Walks up from the working directory ({@code user.dir}). */
    public static Optional<Path> fromWorkingDirectory() {
        return find(Path.of(System.getProperty("user.dir")));
    }
}
