package io.milan.trainer.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Crash-safe file replacement: write a temporary file in the target's directory, fsync it, rename it over
 * the target in one atomic step, then fsync the directory so the rename itself survives a power cut. A
 * reader sees either the old file or the complete new one, never a partial file.
 */
public final class AtomicFiles {

    /** Prefix of temporary files; {@link #isTemporary} recognises leftovers of interrupted writes. */
    public static final String TEMP_PREFIX = ".tmp-";

    private AtomicFiles() {
    }

    /** Writes the content produced by {@code writer} to {@code target} atomically. */
    public static void write(Path target, ChannelWriter writer) throws IOException {
        Path dir = directoryOf(target);
        Files.createDirectories(dir);
        Path temp = dir.resolve(TEMP_PREFIX + target.getFileName() + "." + UUID.randomUUID());
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                writer.write(channel);
                channel.force(true);
            }
            moveAtomically(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
        fsyncDirectory(dir);
    }

    /** Writes {@code bytes} to {@code target} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, channel -> {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        });
    }

    /**
     * Creates the directory {@code target} atomically: {@code writer} fills a temporary sibling, which is renamed
     * to {@code target} at the end (and removed if anything fails), so readers never see a half-written
     * directory. {@code target} must not exist yet.
     *
     * @return what {@code writer} returns
     */
    public static <T> T writeDirectory(Path target, DirectoryWriter<T> writer) throws IOException {
        Path parent = directoryOf(target);
        Files.createDirectories(parent);
        Path temp = parent.resolve(TEMP_PREFIX + target.getFileName() + "." + UUID.randomUUID());
        try {
            Files.createDirectory(temp);
            T result = writer.write(temp);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(parent);
            return result;
        } finally {
            deleteRecursively(temp);
        }
    }

    /**
     * Renames {@code source} to {@code target} in one atomic step (both in the same directory, or at least
     * on the same file system) and fsyncs the target's directory. Works for directories too.
     */
    public static void moveAtomically(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + source + " to " + target + " atomically (different file"
                    + " systems?); refusing a non-atomic copy", e);
        }
        fsyncDirectory(directoryOf(target));
    }

    /** Whether {@code file} is a leftover temporary of an interrupted {@link #write}. */
    public static boolean isTemporary(Path file) {
        return file.getFileName().toString().startsWith(TEMP_PREFIX);
    }

    /** Makes a directory's entries (e.g. a rename) durable. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static Path directoryOf(Path target) {
        Path parent = target.toAbsolutePath().getParent();
        if (parent == null) {
            throw new IllegalArgumentException("no parent directory for " + target);
        }
        return parent;
    }

    /** Fills a new directory; returns what the caller wants to know about it. */
    @FunctionalInterface
    public interface DirectoryWriter<T> {
        T write(Path dir) throws IOException;
    }

    /** Writes a file's content to an open channel. */
    @FunctionalInterface
    public interface ChannelWriter {
        void write(FileChannel channel) throws IOException;
    }
}
