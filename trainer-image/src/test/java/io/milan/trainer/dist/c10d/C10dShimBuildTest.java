package io.milan.trainer.dist.c10d;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * src/main/cpp/build.sh refuses, by name, what it cannot build from (the build never skips the shim). The
 * successful build is the Maven build itself; {@link C10dProcessGroupTest} proves its output.
 */
class C10dShimBuildTest {

    @TempDir
    Path dir;

    @Test
    void aMissingLibtorchJarIsNamed() throws Exception {
        Path jar = dir.resolve("pytorch-native-cpu-2.7.1-linux-x86_64.jar");
        Result result = build(jar.toString());
        assertEquals(1, result.code, result.output);
        assertTrue(result.output.contains("the pytorch-native-cpu jar Maven resolved is missing: " + jar),
                result.output);
    }

    @Test
    void aJarOfAnotherVersionIsRefused() throws Exception {
        Path jar = Files.createFile(dir.resolve("pytorch-native-cpu-2.5.1-linux-x86_64.jar"));
        Result result = build(jar.toString());
        assertEquals(1, result.code, result.output);
        assertTrue(result.output.contains("expected DJL's pytorch-native-cpu 2.7.1 jar"), result.output);
    }

    @Test
    void aJarThatIsNotLibtorchIsRefusedByWhatItHolds() throws Exception {
        // A zip without native/lib/pytorch.properties, named like the real jar.
        Path jar = dir.resolve("pytorch-native-cpu-2.7.1-linux-x86_64.jar");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("README"));
            zip.write("not libtorch".getBytes(StandardCharsets.UTF_8));
        }
        Result result = build(jar.toString(), "MILAN_CACHE", dir.resolve("cache").toString());
        assertEquals(1, result.code, result.output);
        assertTrue(result.output.contains(jar + " has no native/lib/pytorch.properties"), result.output);
        assertTrue(Files.notExists(dir.resolve("cache/torch-wheel-2.7.1")), "nothing is downloaded for a bad jar");
    }

    private record Result(int code, String output) {
    }

    private Result build(String jar, String... env) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("bash", Path.of("src/main/cpp/build.sh").toAbsolutePath()
                .toString(), dir.resolve("classes").toString(), jar).redirectErrorStream(true);
        for (int i = 0; i < env.length; i += 2) {
            builder.environment().put(env[i], env[i + 1]);
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "build.sh hangs: " + output);
        return new Result(process.exitValue(), output);
    }
}
