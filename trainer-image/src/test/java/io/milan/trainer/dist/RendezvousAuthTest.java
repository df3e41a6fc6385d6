package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rendezvous secret as the operator mounts it: read from its file, bound to attempt and rank. */
class RendezvousAuthTest {
    @TempDir
    Path dir;

    @Test
    void theMountedSecretIsReadAndEachProofBelongsToOneAttemptAndRank() throws Exception {
        Path file = Files.write(dir.resolve("token"), "0123456789abcdef0123456789abcdef".getBytes(
                StandardCharsets.UTF_8));
        RendezvousAuth auth = RendezvousAuth.fromEnv(Map.of(RendezvousAuth.SECRET_FILE_ENV, file.toString()));
        assertTrue(auth.enabled());
        assertEquals(auth.proof(3, 1), RendezvousAuth.of(Files.readAllBytes(file)).proof(3, 1), "same secret");
        assertNotEquals(auth.proof(3, 1), auth.proof(3, 2), "another rank");
        assertNotEquals(auth.proof(3, 1), auth.proof(4, 1), "another attempt");
        assertNotEquals(auth.proof(3, 1), RendezvousAuth.of("another secret, 16+ bytes".getBytes(
                StandardCharsets.UTF_8)).proof(3, 1), "another secret");
        assertNotEquals(0L, auth.proof(0, 0));
    }

    @Test
    void noVariableMeansNoCheckAndAMissingFileIsAConfigurationError() {
        assertFalse(RendezvousAuth.fromEnv(Map.of()).enabled());
        Path missing = dir.resolve("gone");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RendezvousAuth.fromEnv(Map.of(RendezvousAuth.SECRET_FILE_ENV, missing.toString())));
        assertTrue(e.getMessage().startsWith("MILAN_RENDEZVOUS_SECRET_FILE=" + missing + ": cannot read"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RendezvousAuth.of(new byte[8]), "too short");
    }
}
