package io.milan.operator.reconcile;

import io.fabric8.kubernetes.client.CustomResource;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.RunStatus;

/** The two kinds of run, and what differs between them in names. */
public enum RunKind {
    PRETRAIN(MilanPretrain.class, MilanPretrain.KIND, "milanpretrains", "pretrain"),
    FINETUNE(MilanFinetune.class, MilanFinetune.KIND, "milanfinetunes", "finetune");

    public final Class<? extends CustomResource<?, RunStatus>> type;
    public final String kind;
    /** Resource name in RBAC rules and URLs. */
    public final String plural;
    /** Value of the {@code milan.io/kind} label on children. */
    public final String label;

    RunKind(Class<? extends CustomResource<?, RunStatus>> type, String kind, String plural, String label) {
        this.type = type;
        this.kind = kind;
        this.plural = plural;
        this.label = label;
    }
}
