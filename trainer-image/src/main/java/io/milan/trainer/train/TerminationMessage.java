package io.milan.trainer.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Kubernetes' termination message: what a finished container leaves in {@code /dev/termination-log}, which the
 * operator copies into the run's status. Without it the kubelet falls back to the log's tail, which for an early
 * failure is mostly the engine's start-up lines. Best effort: outside Kubernetes the file does not exist.
 */
public final class TerminationMessage {
    /** Where the kubelet reads it (the pod's terminationMessagePath); a system property overrides it in tests. */
    static Path path() {
        return Path.of(System.getProperty("milan.terminationLog", "/dev/termination-log"));
    }

    private TerminationMessage() {
    }

    /** Writes {@code message} (the kubelet keeps at most 4096 bytes) if the file is there and writable. */
    public static void write(String message) {
        Path file = path();
        if (!Files.isWritable(file)) {
            return;
        }
        try {
            Files.writeString(file, message, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // Nothing better to do: the message is on stderr too.
        }
    }
}
