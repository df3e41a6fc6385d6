package io.milan.operator.naming;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.milan.operator.reconcile.RunKind;
import java.util.LinkedHashMap;
import java.util.Map;

/** Labels and annotations on a run's children, so the operator finds them and maps them back to the run. */
public final class Labels {
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY_VALUE = "milan-operator";
    public static final String NAME = "app.kubernetes.io/name";
    /** {@code pretrain} or {@code finetune}. */
    public static final String KIND = "milan.io/kind";
    /** The run's {@link ChildNames#base() base name} (a label value holds at most 63 characters). */
    public static final String RUN = "milan.io/run";
    public static final String ATTEMPT = "milan.io/attempt";
    /** Annotation with the run's full name, which may be longer than a label value. */
    public static final String RUN_NAME_ANNOTATION = "milan.io/run-name";

    private Labels() {
    }

    /** Labels of every child of a run. */
    public static Map<String, String> of(RunKind kind, ChildNames names) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(NAME, "milan-trainer");
        labels.put(MANAGED_BY, MANAGED_BY_VALUE);
        labels.put(KIND, kind.label);
        labels.put(RUN, names.base());
        return labels;
    }

    /** Selects every managed child of one kind: the informers' label selector. */
    public static String selectorFor(RunKind kind) {
        return MANAGED_BY + "=" + MANAGED_BY_VALUE + "," + KIND + "=" + kind.label;
    }

    /** The run a child belongs to, from its annotation (null when it has none). */
    public static String runName(HasMetadata child) {
        Map<String, String> annotations = child.getMetadata().getAnnotations();
        return annotations == null ? null : annotations.get(RUN_NAME_ANNOTATION);
    }
}
