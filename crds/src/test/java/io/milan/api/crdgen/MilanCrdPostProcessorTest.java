package io.milan.api.crdgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MilanCrdPostProcessorTest {

    /** The CRDs this build generated: columns in the order of the kind's annotations, the status defaulted. */
    @ParameterizedTest
    @ValueSource(classes = {MilanPretrain.class, MilanFinetune.class})
    void theGeneratedCrdKeepsTheDeclaredColumnOrderAndDefaultsTheStatus(Class<?> kind) throws IOException {
        String file = "/META-INF/fabric8/" + kind.getSimpleName().toLowerCase() + "s.milan.io-v1.yml";
        CustomResourceDefinition crd;
        try (InputStream in = getClass().getResourceAsStream(file)) {
            crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
        }
        var version = crd.getSpec().getVersions().get(0);
        List<String> declared = Arrays.stream(kind.getAnnotationsByType(AdditionalPrinterColumn.class))
                .map(AdditionalPrinterColumn::name).toList();
        assertEquals(declared, version.getAdditionalPrinterColumns().stream()
                .map(CustomResourceColumnDefinition::getName).toList());
        assertEquals("Age", declared.stream().filter(n -> !isWide(kind, n)).reduce((a, b) -> b).orElseThrow(),
                "AGE closes the default view");
        assertEquals("{\"observedGeneration\":0}",
                version.getSchema().getOpenAPIV3Schema().getProperties().get("status").getDefault().toString());
    }

    @Test
    void aColumnNoAnnotationDeclaresIsRefusedByName() {
        CustomResourceColumnDefinition stray = new CustomResourceColumnDefinitionBuilder().withName("Stray")
                .withJsonPath(".status.stray").withType("string").build();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MilanCrdPostProcessor.inDeclaredOrder(MilanPretrain.class, List.of(stray)));
        assertTrue(e.getMessage().contains("Stray (.status.stray)"), e.getMessage());
    }

    private static boolean isWide(Class<?> kind, String name) {
        return Arrays.stream(kind.getAnnotationsByType(AdditionalPrinterColumn.class))
                .anyMatch(c -> c.name().equals(name) && c.priority() > 0);
    }
}
