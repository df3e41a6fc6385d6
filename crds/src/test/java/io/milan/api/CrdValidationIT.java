package io.milan.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.milan.testsupport.Await;
import io.milan.testsupport.CommandResult;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The generated CRDs on a real API server: the examples and crds/testdata/valid are accepted, every bad manifest of
 * crds/testdata/invalid is refused with a message naming its field, and kubectl renders the
 * field descriptions and printer columns. The CRDs are installed by {@link WithLocalCluster}.
 */
@WithLocalCluster
class CrdValidationIT {
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    static Stream<Path> examples() {
        return RepoFiles.yamlFiles(RepoFiles.root().resolve("examples")).stream();
    }

    /** Manifests the rules must not refuse: every field of spec.podTemplate, the edges of its rules. */
    static Stream<Path> validManifests() {
        return RepoFiles.yamlFiles(RepoFiles.root().resolve("crds/testdata/valid")).stream();
    }

    static Stream<Path> invalidManifests() {
        return RepoFiles.yamlFiles(RepoFiles.root().resolve("crds/testdata/invalid")).stream();
    }

    static List<CustomResourceDefinition> crds(KubernetesClient client) {
        List<Path> files = RepoFiles.yamlFiles(RepoFiles.root().resolve("crds/manifests"));
        assertFalse(files.isEmpty(), "no CRD files in crds/manifests");
        return files.stream()
                .map(f -> client.apiextensions().v1().customResourceDefinitions().load(f.toFile()).item())
                .toList();
    }

    static GenericKubernetesResource load(KubernetesClient client, Path file) throws IOException {
        return client.getKubernetesSerialization().unmarshal(Files.readString(file), GenericKubernetesResource.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void everyExampleIsAccepted(Path file, KubernetesClient client) throws IOException {
        GenericKubernetesResource example = load(client, file);
        GenericKubernetesResource accepted = client.resource(example).dryRun().create();
        assertEquals(example.getMetadata().getName(), accepted.getMetadata().getName());
        assertEquals(client.getNamespace(), accepted.getMetadata().getNamespace());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validManifests")
    void everyValidManifestIsAccepted(Path file, KubernetesClient client) throws IOException {
        GenericKubernetesResource valid = load(client, file);
        GenericKubernetesResource accepted = client.resource(valid).dryRun().create();
        assertEquals(valid.getMetadata().getName(), accepted.getMetadata().getName());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidManifests")
    void everyBadManifestIsRefusedNamingItsField(Path file, KubernetesClient client) throws IOException {
        List<String> lines = Files.readAllLines(file);
        String field = InvalidManifestTableTest.header(lines, "# field: ", file);
        String expect = InvalidManifestTableTest.header(lines, "# expect: ", file);
        GenericKubernetesResource bad = load(client, file);

        KubernetesClientException refused = assertThrows(KubernetesClientException.class,
                () -> client.resource(bad).dryRun().create(), file + " must be refused");
        assertEquals(422, refused.getCode(), refused.getMessage());
        String message = refused.getStatus().getMessage();
        assertTrue(message.contains(expect), "message must contain '" + expect + "': " + message);
        assertTrue(message.contains(field), "message must name " + field + ": " + message);
        List<String> causeFields = refused.getStatus().getDetails().getCauses().stream()
                .map(StatusCause::getField).toList();
        assertTrue(causeFields.contains(field), "status causes must name " + field + ": " + causeFields);
    }

    @Test
    void kubectlExplainPrintsTheFieldDescription(KubernetesClient client, TestCluster cluster) {
        CustomResourceDefinition crd = crds(client).stream()
                .filter(c -> c.getSpec().getNames().getKind().equals("MilanPretrain")).findFirst().orElseThrow();
        JSONSchemaProps maskRatio = served(crd).getSchema().getOpenAPIV3Schema()
                .getProperties().get("spec").getProperties().get("maskRatio");
        assertNotNull(maskRatio, "MilanPretrain has spec.maskRatio");
        String description = maskRatio.getDescription();
        assertFalse(description == null || description.isBlank(), "spec.maskRatio has a description in the CRD");

        // The API server publishes a new CRD's OpenAPI a moment after it is Established.
        CommandResult explain = Await.until("kubectl explain milanpretrain.spec.maskRatio", TIMEOUT,
                () -> cluster.kubectl("explain", "milanpretrain.spec.maskRatio"), CommandResult::succeeded);
        assertTrue(squash(explain.stdout()).contains(squash(description)),
                "kubectl explain must print '" + description + "':\n" + explain.stdout());
        assertTrue(explain.stdout().contains("FIELD: maskRatio"), explain.stdout());
    }

    @Test
    void kubectlGetMilanListsBothKindsWithTheirPrinterColumns(KubernetesClient client, TestCluster cluster)
            throws IOException {
        List<String> names = new ArrayList<>();
        for (Path file : examples().toList()) {
            names.add(client.resource(load(client, file)).create().getMetadata().getName());
        }
        List<CustomResourceDefinition> crds = crds(client);

        CommandResult get = Await.until("kubectl get milan to list all " + names.size() + " examples", TIMEOUT,
                () -> cluster.kubectl("get", "milan", "-n", cluster.namespace()),
                r -> r.succeeded() && names.stream().allMatch(n -> r.stdout().contains("/" + n + " ")));
        CommandResult wide = cluster.kubectl("get", "milan", "-n", cluster.namespace(), "-o", "wide").orThrow();

        for (CustomResourceDefinition crd : crds) {
            List<CustomResourceColumnDefinition> columns = served(crd).getAdditionalPrinterColumns();
            assertFalse(columns == null || columns.isEmpty(), crd.getMetadata().getName() + " has printer columns");
            String kind = crd.getSpec().getNames().getKind();
            List<String> defaultColumns = columns.stream()
                    .filter(c -> c.getPriority() == null || c.getPriority() == 0)
                    .map(CustomResourceColumnDefinition::getName).toList();
            assertHeader(get.stdout(), crd, defaultColumns, kind);
            assertHeader(wide.stdout(), crd, columns.stream().map(CustomResourceColumnDefinition::getName).toList(),
                    kind + " (-o wide)");
        }
        // The intended order, as the API server's Table puts it: what a user reads first (phase, mode, progress and
        // the figure that matters), AGE closing the default view, the -o wide columns after it (kubectl's own
        // layout for Jobs and Pods). The CRD generator sorts columns by jsonPath, which put AGE first.
        Map<String, CustomResourceDefinition> byKind = crds.stream()
                .collect(Collectors.toMap(c -> c.getSpec().getNames().getKind(), c -> c));
        assertEquals(List.of("NAME", "PHASE", "EPOCH", "PROGRESS", "LOSS", "AGE"),
                columnsOf(get.stdout(), byKind.get("MilanPretrain"), "MilanPretrain"));
        assertEquals(List.of("NAME", "PHASE", "MODEL", "EPOCH", "PROGRESS", "LOSS", "AGE", "NODES", "WORLD", "ATTEMPT",
                "CHECKPOINT", "MESSAGE"), columnsOf(wide.stdout(), byKind.get("MilanPretrain"), "MilanPretrain -o wide"));
        assertEquals(List.of("NAME", "PHASE", "MODE", "EPOCH", "PROGRESS", "TOP-1", "AGE"),
                columnsOf(get.stdout(), byKind.get("MilanFinetune"), "MilanFinetune"));
        assertEquals(List.of("NAME", "PHASE", "MODE", "MODEL", "EPOCH", "PROGRESS", "TOP-1", "BEST", "AGE", "NODES",
                "WORLD", "ATTEMPT", "MESSAGE"), columnsOf(wide.stdout(), byKind.get("MilanFinetune"),
                        "MilanFinetune -o wide"));
    }

    /** The column names of the table that lists {@code crd}'s objects (names hold no spaces; kubectl pads by 3). */
    static List<String> columnsOf(String output, CustomResourceDefinition crd, String what) {
        return List.of(headerOf(output, crd, what).trim().split("\\s+"));
    }

    /** The header line of the table that lists {@code crd}'s objects in kubectl's output. */
    static String headerOf(String output, CustomResourceDefinition crd, String what) {
        String prefix = crd.getSpec().getNames().getSingular() + "." + crd.getSpec().getGroup() + "/";
        List<String> tables = Arrays.asList(output.split("\n\n"));
        String table = tables.stream().filter(t -> t.contains("\n" + prefix)).findFirst()
                .orElseThrow(() -> new AssertionError(
                        "no table with rows " + prefix + "* for " + what + ":\n" + output));
        return table.lines().findFirst().orElseThrow();
    }

    /** The header of the table that lists {@code crd}'s objects holds its columns, in the CRD's order. */
    static void assertHeader(String output, CustomResourceDefinition crd, List<String> columns, String what) {
        String header = headerOf(output, crd, what);
        assertTrue(header.startsWith("NAME"), what + " header: " + header);
        int from = 0;
        for (String column : columns) {
            int at = header.indexOf(column.toUpperCase(Locale.ROOT), from);
            assertTrue(at >= 0, what + ": column " + column.toUpperCase(Locale.ROOT) + " missing or out of order in '"
                    + header + "' (expected " + columns + ")");
            from = at + column.length();
        }
    }

    static CustomResourceDefinitionVersion served(CustomResourceDefinition crd) {
        return crd.getSpec().getVersions().stream().filter(v -> "v1alpha1".equals(v.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(crd.getMetadata().getName() + " has no v1alpha1 version"));
    }

    static String squash(String s) {
        return Arrays.stream(s.split("\\s+")).filter(w -> !w.isEmpty()).collect(Collectors.joining(" "));
    }
}
