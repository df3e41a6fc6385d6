package io.milan.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs external commands (the e2e scripts, kubectl) with captured output and a time limit. */
public final class Commands {
    private Commands() {}

    public static CommandResult run(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("milan-cmd", ".out");
            err = Files.createTempFile("milan-cmd", ".err");
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (workDir != null) {
                pb.directory(workDir.toFile());
            }
            pb.environment().putAll(env);
            Process process = pb.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within "
                        + timeout.toSeconds() + " s; output so far:\n" + Files.readString(out, StandardCharsets.UTF_8)
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new CommandResult(List.copyOf(command), process.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }
}
