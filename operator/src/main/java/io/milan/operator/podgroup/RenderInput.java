package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.milan.api.RunSpec;
import io.milan.operator.config.OperatorSettings;
import io.milan.operator.naming.ChildNames;
import io.milan.operator.naming.Labels;
import io.milan.operator.reconcile.RunKind;
import java.util.List;
import java.util.Map;

/**
 * Everything a renderer needs about one run: the resource, its spec, the names of its children, the attempt being
 * rendered and, for a fine-tune, the resolved pretrained encoder.
 */
public record RenderInput(RunKind kind, HasMetadata run, RunSpec spec, ChildNames names, int attempt,
        ResolvedPretrained pretrained, OperatorSettings settings) {

    public String namespace() {
        return run.getMetadata().getNamespace();
    }

    public String runName() {
        return run.getMetadata().getName();
    }

    public String image() {
        return spec.image != null && !spec.image.isBlank() ? spec.image : settings.trainerImage();
    }

    /** Metadata of a child called {@code name}: the run's namespace, labels, annotations and owner reference. */
    public ObjectMeta childMetadata(String name) {
        return new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(namespace())
                .withLabels(labels())
                .withAnnotations(annotations())
                .withOwnerReferences(owner())
                .build();
    }

    /** Labels of every child. */
    public Map<String, String> labels() {
        return Labels.of(kind, names);
    }

    /** Annotations of every child: the run's full name, for mapping back. */
    public Map<String, String> annotations() {
        return Map.of(Labels.RUN_NAME_ANNOTATION, runName());
    }

    /**
     * The run as controller owner: deleting the run deletes the child (garbage collector). No
     * blockOwnerDeletion, which would need update on the run's finalizers.
     */
    public List<OwnerReference> owner() {
        return List.of(new OwnerReferenceBuilder()
                .withApiVersion(run.getApiVersion())
                .withKind(run.getKind())
                .withName(runName())
                .withUid(run.getMetadata().getUid())
                .withController(true)
                .build());
    }
}
