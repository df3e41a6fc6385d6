package io.milan.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Where the tests' kubectl is: the local cluster's tests and the end-to-end suite use the same one. */
public final class Kubectl {
    private Kubectl() {}

    /** MILAN_KUBECTL, else the kubectl built by e2e/build-k8s.sh, else kubectl on PATH. */
    public static Optional<Path> find(Optional<Path> root, Optional<Path> binDir) {
        String explicit = System.getenv("MILAN_KUBECTL");
        if (explicit != null && !explicit.isBlank()) {
            return Optional.of(Path.of(explicit));
        }
        Optional<Path> bin = binDir;
        if (bin.isEmpty() && root.isPresent()) {
            CommandResult r = Commands.run(
                    List.of(root.get().resolve("e2e/build-k8s.sh").toString(), "--print-bin-dir"),
                    Map.of(), root.get(), Duration.ofMinutes(1));
            if (r.succeeded()) {
                bin = Optional.of(Path.of(r.stdout().trim()));
            }
        }
        if (bin.isPresent() && Files.isExecutable(bin.get().resolve("kubectl"))) {
            return Optional.of(bin.get().resolve("kubectl"));
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String entry : path.split(java.io.File.pathSeparator)) {
            if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, "kubectl"))) {
                return Optional.of(Path.of(entry, "kubectl"));
            }
        }
        return Optional.empty();
    }
}
