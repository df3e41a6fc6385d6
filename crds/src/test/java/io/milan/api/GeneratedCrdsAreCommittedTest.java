package io.milan.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CRD YAML under crds/manifests/ is what users and the chart install; it must be exactly what this build
 * generates from the Java types (Fabric8's generator with our post-processor, io.milan.api.crdgen). To refresh it
 * after changing the types:
 * {@code ./mvnw -pl crds process-classes && cp crds/target/classes/META-INF/fabric8/*.yml crds/manifests/}.
 */
class GeneratedCrdsAreCommittedTest {

    @ParameterizedTest
    @ValueSource(strings = {"milanpretrains.milan.io-v1.yml", "milanfinetunes.milan.io-v1.yml"})
    void committedCrdEqualsGenerated(String file) throws IOException {
        String generated;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/fabric8/" + file)) {
            assertNotNull(in, "the CRD generator did not produce " + file);
            generated = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path committed = RepoFiles.root().resolve("crds/manifests").resolve(file);
        assertEquals(generated, Files.readString(committed),
                committed + " differs from the generated CRD; run ./mvnw -pl crds process-classes and copy"
                        + " crds/target/classes/META-INF/fabric8/" + file + " over it");
    }
}
