package io.milan.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

/**
 * A run written against a newer CRD (fields this build does not know, in spec and status) still reads: an operator
 * or trainer image one version behind its CRDs, as during a Helm upgrade (CRDs first, then the operator), must keep
 * working, not stop its informer. Kubernetes' API conventions: clients ignore fields they do not know.
 */
class NewerFieldsTest {
    static final String NEWER_RUN = """
            {"apiVersion": "milan.io/v1alpha1", "kind": "MilanPretrain",
             "metadata": {"name": "from-the-future", "namespace": "n"},
             "spec": {"dataset": {"path": "/data", "cacheFromANewerVersion": true},
                      "teacher": {"weights": {"path": "/t.safetensors"}},
                      "fieldFromANewerVersion": "x", "decoder": {"depth": 2, "newerDecoderField": 1}},
             "status": {"phase": "Running", "newerStatusField": {"a": 1},
                        "progress": {"attempt": 1, "globalStep": 5, "newerProgressField": 2}}}
            """;

    @Test
    void fabric8sDefaultSerializationReadsARunWithFieldsItDoesNotKnow() {
        MilanPretrain run = new KubernetesSerialization().unmarshal(NEWER_RUN, MilanPretrain.class);
        assertEquals("/data", run.getSpec().dataset.path);
        assertEquals(2, run.getSpec().decoder.depth);
        assertEquals(RunPhase.Running, run.getStatus().phase);
        assertEquals(5L, run.getStatus().progress.globalStep);
    }

    /** Each API type with fields of its own says so itself, so a type added later cannot forget it. */
    @Test
    void everyApiTypeIgnoresUnknownFields() throws Exception {
        List<String> missing = new ArrayList<>();
        int checked = 0;
        try (Stream<Path> files = Files.list(RepoFiles.root().resolve("crds/src/main/java/io/milan/api"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String name = f.getFileName().toString().replace(".java", "");
                if (name.equals("package-info")) {
                    continue;
                }
                Class<?> type = Class.forName("io.milan.api." + name);
                boolean bean = !type.isEnum() && !type.isInterface() && Stream.of(type.getDeclaredFields())
                        .anyMatch(field -> Modifier.isPublic(field.getModifiers())
                                && !Modifier.isStatic(field.getModifiers()));
                if (!bean) {
                    continue;
                }
                checked++;
                JsonIgnoreProperties a = type.getAnnotation(JsonIgnoreProperties.class);
                if (a == null || !a.ignoreUnknown()) {
                    missing.add(name);
                }
            }
        }
        assertTrue(checked >= 12, "found only " + checked + " API types with fields");
        assertEquals(List.of(), missing, "API types without @JsonIgnoreProperties(ignoreUnknown = true)");
    }
}
