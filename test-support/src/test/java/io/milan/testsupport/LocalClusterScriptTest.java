package io.milan.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input and missing prerequisites of e2e/local-cluster.sh give errors that say what to do. */
class LocalClusterScriptTest {
    static final Path REPO = RepoRoot.fromWorkingDirectory()
            .orElseThrow(() -> new IllegalStateException("run inside the repository"));

    static CommandResult script(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(REPO.resolve("e2e/local-cluster.sh").toString()));
        cmd.addAll(List.of(args));
        return Commands.run(cmd, env, REPO, Duration.ofMinutes(1));
    }

    @Test
    void missingBinariesNameTheBuildScript(@TempDir Path emptyCache, @TempDir Path dir) throws IOException {
        CommandResult r = script(Map.of("MILAN_CACHE", emptyCache.toString()), "up", "--dir", dir.toString());
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("Kubernetes binaries missing in " + emptyCache), r.describe());
        assertTrue(r.stderr().contains("e2e/build-k8s.sh"), r.describe());
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "nothing was started or written");
        }
    }

    @Test
    void theExtensionReportsTheScriptsAdvice(@TempDir Path emptyCache, @TempDir Path dir) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SharedCluster.startLocal(REPO, dir, Map.of("MILAN_CACHE", emptyCache.toString())));
        assertTrue(e.getMessage().contains("the local test cluster did not start"), e.getMessage());
        assertTrue(e.getMessage().contains("e2e/build-k8s.sh"), e.getMessage());
    }

    @Test
    void badNodeCountIsRefusedByName(@TempDir Path dir) {
        CommandResult r = script(Map.of(), "up", "--dir", dir.toString(), "--nodes", "0");
        assertNotEquals(0, r.exitCode());
        assertTrue(r.stderr().contains("--nodes must be a positive integer, got '0'"), r.describe());
    }

    @Test
    void unknownCommandAndOptionAreRefused(@TempDir Path dir) {
        CommandResult cmd = script(Map.of(), "start");
        assertNotEquals(0, cmd.exitCode());
        assertTrue(cmd.stderr().contains("expected up, down, status or kueue as first argument, got 'start'"),
                cmd.describe());
        CommandResult opt = script(Map.of(), "up", "--dir", dir.toString(), "--gpu", "8");
        assertNotEquals(0, opt.exitCode());
        assertTrue(opt.stderr().contains("unknown option '--gpu'"), opt.describe());
    }

    @Test
    void statusOfAStoppedClusterSaysStoppedAndFails(@TempDir Path dir) {
        CommandResult r = script(Map.of(), "status", "--dir", dir.toString());
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stdout().contains("kube-apiserver") && r.stdout().contains("stopped"), r.describe());
    }
}
