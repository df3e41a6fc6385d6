package io.milan.operator.podgroup;

import io.milan.api.StorageLocation;

/**
 * The encoder a fine-tune starts from, as its pods see it.
 *
 * @param checkpointPath the {@code --finetune} argument: a path inside the trainer container, or an s3:// URL
 * @param mount a claim to mount read-only for it, or the object storage location (its s3) the trainer downloads
 *     it from; null when the path needs neither
 */
public record ResolvedPretrained(String checkpointPath, StorageLocation mount) {
    /** Where a referenced MilanPretrain's output claim is mounted in the fine-tune's pods. */
    public static final String PRETRAIN_OUTPUT_MOUNT = "/milan/pretrained";
}
