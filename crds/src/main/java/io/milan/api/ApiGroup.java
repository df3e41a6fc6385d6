package io.milan.api;

/** Names shared by both kinds. */
public final class ApiGroup {
    public static final String GROUP = "milan.io";
    public static final String VERSION = "v1alpha1";
    /** {@code kubectl get milan} lists both kinds. */
    public static final String CATEGORY = "milan";

    /**
     * Prefix of the CEL rules that make run-shaping fields immutable: they may change freely until the run has
     * started (the operator stamps {@code status.startTime} when it first creates the pod group).
     */
    static final String UNLESS_STARTED = "!has(oldSelf.status) || !has(oldSelf.status.startTime) || ";

    private ApiGroup() {
    }
}
