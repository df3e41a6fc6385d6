package io.milan.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-manifest table (crds/testdata/invalid) that CrdValidationIT applies to a real API server: each file
 * names the field its error must name ({@code # field:}) and a substring of the expected message
 * ({@code # expect:}). Here only the table itself is checked, so a malformed entry fails fast.
 */
class InvalidManifestTableTest {
    static Stream<Path> cases() {
        return RepoFiles.yamlFiles(RepoFiles.root().resolve("crds/testdata/invalid")).stream();
    }

    @Test
    void tableHasAtLeastFifteenCases() {
        assertTrue(cases().count() >= 15, "bad-manifest table has " + cases().count() + " cases");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void eachCaseNamesItsFieldInTheExpectedMessage(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        String field = header(lines, "# field: ", file);
        String expect = header(lines, "# expect: ", file);
        assertTrue(field.startsWith("spec."), file + ": field must be a spec path");
        assertTrue(expect.contains(field), file + ": the expected message must name the field " + field);
    }

    static String header(List<String> lines, String prefix, Path file) {
        return lines.stream().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()).trim())
                .findFirst().orElseThrow(() -> new AssertionError(file + " lacks a '" + prefix.trim() + "' line"));
    }
}
