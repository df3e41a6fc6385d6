package io.milan.api;

/** Where a run is in its life. Succeeded and Failed are final. */
public enum RunPhase {
    /** Accepted; waiting for something (children being created, a referenced pretrain to finish). */
    Pending,
    /** The pod group exists but a queue (Kueue) has not admitted it yet. */
    Queued,
    /** Pods of the current attempt are running. */
    Running,
    /** A pod failed; the whole group is being recreated as the next attempt after a backoff. */
    Restarting,
    /** Suspended by the user (spec.suspend) or by a queue; resumes from the latest checkpoint. */
    Suspended,
    Succeeded,
    Failed;

    public boolean isFinal() {
        return this == Succeeded || this == Failed;
    }
}
