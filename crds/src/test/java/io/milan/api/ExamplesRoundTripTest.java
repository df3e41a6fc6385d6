package io.milan.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.client.CustomResource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example reads into the Java types with no unknown field (so a typo in an example fails here) and writes
 * back without losing or changing any value it set.
 */
class ExamplesRoundTripTest {
    private static final ObjectMapper STRICT = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    static Stream<Path> examples() {
        return RepoFiles.yamlFiles(RepoFiles.root().resolve("examples")).stream();
    }

    @Test
    void examplesCoverBothKindsAndTheSeedRecipes() {
        List<String> names = examples().map(p -> p.getFileName().toString()).toList();
        assertTrue(names.size() >= 8, "examples: " + names);
        for (String required : List.of("pretrain-vit-base.yaml", "finetune-vit-base.yaml", "linprobe-vit-base.yaml",
                "pretrain-vit-large.yaml", "quickstart-cpu-pretrain.yaml")) {
            assertTrue(names.contains(required), "missing example " + required);
        }
    }

    @ParameterizedTest
    @MethodSource("examples")
    void roundTripsWithoutLoss(Path example) throws IOException {
        JsonNode original = STRICT.readTree(example.toFile());
        Class<? extends CustomResource<?, ?>> type = switch (original.path("kind").asText()) {
            case MilanPretrain.KIND -> MilanPretrain.class;
            case MilanFinetune.KIND -> MilanFinetune.class;
            default -> throw new AssertionError(example + ": unexpected kind " + original.path("kind"));
        };
        Object typed = STRICT.treeToValue(original, type);
        JsonNode written = STRICT.valueToTree(typed);
        assertContains(original, written, example.getFileName() + ":");
    }

    @Test
    void seedRecipesGiveTheReferenceEffectiveBatch() throws IOException {
        Map<String, Integer> expected = Map.of(
                "pretrain-vit-base.yaml", 4096, "pretrain-vit-large.yaml", 4096,
                "finetune-vit-base.yaml", 1024, "finetune-vit-large.yaml", 1024,
                "linprobe-vit-base.yaml", 16384, "linprobe-vit-large.yaml", 16384);
        for (var e : expected.entrySet()) {
            JsonNode spec = STRICT.readTree(RepoFiles.root().resolve("examples").resolve(e.getKey()).toFile())
                    .path("spec");
            int effective = spec.path("batchSize").asInt() * spec.path("gpusPerNode").asInt()
                    * spec.path("nodes").asInt() * spec.path("accumIter").asInt(1);
            assertEquals(e.getValue(), effective, e.getKey());
        }
    }

    /** Every value set in {@code expected} is present and equal in {@code actual} (which may add defaults). */
    private static void assertContains(JsonNode expected, JsonNode actual, String path) {
        if (expected.isObject()) {
            assertTrue(actual.isObject(), path + " is no longer an object: " + actual);
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                assertFalse(actual.path(field.getKey()).isMissingNode(), path + "." + field.getKey() + " was lost");
                assertContains(field.getValue(), actual.get(field.getKey()), path + "." + field.getKey());
            }
        } else if (expected.isArray()) {
            assertEquals(expected.size(), actual.size(), path + " length");
            for (int i = 0; i < expected.size(); i++) {
                assertContains(expected.get(i), actual.get(i), path + "[" + i + "]");
            }
        } else if (expected.isNumber()) {
            assertTrue(actual.isNumber(), path + " is no longer a number: " + actual);
            assertEquals(expected.asDouble(), actual.asDouble(), 0.0, path);
        } else {
            assertEquals(expected.asText(), actual.asText(), path);
        }
    }
}
