package io.milan.api.crdgen;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.model.annotation.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What the generator's annotations cannot say, applied to each generated CRD:
 * <ul>
 * <li>Printer columns in the order the kind declares its {@link AdditionalPrinterColumn}s. The generator sorts them
 * by jsonPath, which put AGE ({@code .metadata.creationTimestamp}) first in {@code kubectl get}.</li>
 * <li>The default {@code status: {observedGeneration: 0}}. A create cannot set the status (the status subresource
 * drops it), but the API server applies schema defaults whenever it reads an object from etcd, so a run the operator
 * has not reconciled yet reads as generation 1 with observed generation 0: InProgress to kstatus (Flux) and
 * Progressing to the Argo CD health check. With no status at all kstatus finds no condition and calls the run
 * Current before the operator has seen it. (Fabric8's {@code @SchemaCustomizer} on the kind would do this too, but
 * its merge patch on the root schema replaces the status's properties instead of merging into them.)</li>
 * <li>The lists of Kubernetes types in spec.podTemplate keyed by name (mount path for mounts), as in a PodSpec: the
 * API server then refuses a duplicate itself, and the bounded names keep the cost the API server estimates for the
 * CEL rules that compare them within its budget (it refuses a CRD whose rules could run long on huge strings).</li>
 * </ul>
 */
final class MilanCrdPostProcessor implements CRDPostProcessor {
    private final Map<String, Class<? extends HasMetadata>> kinds;

    MilanCrdPostProcessor(List<Class<? extends HasMetadata>> kinds) {
        this.kinds = kinds.stream().collect(Collectors.toMap(MilanCrdPostProcessor::kindOf, Function.identity()));
    }

    @Override
    public HasMetadata process(HasMetadata generated, String crdSpecVersion) {
        CustomResourceDefinition crd = (CustomResourceDefinition) generated;
        String kind = crd.getSpec().getNames().getKind();
        Class<?> type = kinds.get(kind);
        if (type == null) {
            throw new IllegalStateException("no API type for the generated kind " + kind + " (known: "
                    + kinds.keySet() + ")");
        }
        for (CustomResourceDefinitionVersion version : crd.getSpec().getVersions()) {
            version.setAdditionalPrinterColumns(inDeclaredOrder(type, version.getAdditionalPrinterColumns()));
            JSONSchemaProps status = version.getSchema().getOpenAPIV3Schema().getProperties().get("status");
            if (status == null) {
                throw new IllegalStateException(kind + " " + version.getName() + " has no status in its schema");
            }
            status.setDefault(JsonNodeFactory.instance.objectNode().put("observedGeneration", 0));
            keyPodTemplateLists(kind, version.getSchema().getOpenAPIV3Schema().getProperties().get("spec"));
        }
        return crd;
    }

    /** A DNS label, what Kubernetes allows for volume and container names. */
    static final long NAME_LENGTH = 63;
    /** Linux's PATH_MAX. */
    static final long PATH_LENGTH = 4096;

    static void keyPodTemplateLists(String kind, JSONSchemaProps spec) {
        JSONSchemaProps pod = child(kind, child(kind, spec, "podTemplate"), "spec");
        keyed(kind, child(kind, pod, "volumes"), "name", NAME_LENGTH);
        keyed(kind, child(kind, pod, "containers"), "name", NAME_LENGTH);
        keyed(kind, child(kind, pod, "initContainers"), "name", NAME_LENGTH);
        JSONSchemaProps mounts = child(kind, child(kind, pod, "trainer"), "volumeMounts");
        keyed(kind, mounts, "mountPath", PATH_LENGTH);
        child(kind, mounts.getItems().getSchema(), "name").setMaxLength(NAME_LENGTH);
    }

    /** A list whose items are told apart by {@code key}: required, at most {@code maxLength} long, unique. */
    private static void keyed(String kind, JSONSchemaProps list, String key, long maxLength) {
        JSONSchemaProps item = list.getItems().getSchema();
        child(kind, item, key).setMaxLength(maxLength);
        List<String> required = new ArrayList<>(item.getRequired() == null ? List.of() : item.getRequired());
        if (!required.contains(key)) {
            required.add(key);
        }
        item.setRequired(required);
        list.setXKubernetesListType("map");
        list.setXKubernetesListMapKeys(List.of(key));
    }

    private static JSONSchemaProps child(String kind, JSONSchemaProps parent, String name) {
        JSONSchemaProps child = parent.getProperties() == null ? null : parent.getProperties().get(name);
        if (child == null) {
            throw new IllegalStateException(kind + " has no " + name + " in its schema where spec.podTemplate's"
                    + " lists are keyed");
        }
        return child;
    }

    /** The columns sorted by the position of their annotation on {@code type} (matched by jsonPath). */
    static List<CustomResourceColumnDefinition> inDeclaredOrder(Class<?> type,
            List<CustomResourceColumnDefinition> columns) {
        List<String> declared = Arrays.stream(type.getAnnotationsByType(AdditionalPrinterColumn.class))
                .map(AdditionalPrinterColumn::jsonPath).toList();
        for (CustomResourceColumnDefinition c : columns) {
            if (!declared.contains(c.getJsonPath())) {
                throw new IllegalStateException("printer column " + c.getName() + " (" + c.getJsonPath() + ") of "
                        + type.getSimpleName() + " is not declared by an @AdditionalPrinterColumn on it");
            }
        }
        List<CustomResourceColumnDefinition> sorted = new ArrayList<>(columns);
        sorted.sort(Comparator.comparingInt(c -> declared.indexOf(c.getJsonPath())));
        return sorted;
    }

    private static String kindOf(Class<?> type) {
        Kind kind = type.getAnnotation(Kind.class);
        return kind != null ? kind.value() : type.getSimpleName();
    }
}
