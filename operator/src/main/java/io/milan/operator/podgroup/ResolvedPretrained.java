package io.milan.operator.podgroup;

import io.milan.api.StorageLocation;

/**
 * The encoder a fine-tune starts from, as its pods see it.
 *
 * @param checkpointPath the {@code --finetune} argument: a path inside the trainer container
 * @param mount a claim to mount read-only for it (null when the path needs none)
 */
public record ResolvedPretrained(String checkpointPath, StorageLocation mount) {
    /** Where a referenced MilanPretrain's output claim is mounted in the fine-tune's pods. */
    public static final String PRETRAIN_OUTPUT_MOUNT = "/milan/pretrained";
}
