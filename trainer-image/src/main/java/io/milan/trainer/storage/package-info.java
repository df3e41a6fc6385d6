/**
 * S3-compatible object storage for the trainer: {@link io.milan.trainer.storage.S3Location} ({@code s3://bucket/prefix}),
 * {@link io.milan.trainer.storage.ObjectStoreConfig} (endpoint, region, path style, credentials from the
 * {@code MILAN_S3_*} variables or the AWS default chain) and {@link io.milan.trainer.storage.ObjectStore}, a small
 * client over the AWS SDK for Java v2 (list, stream, get, atomic download, put, multipart upload, delete) whose
 * errors name the location and never a secret. Checkpoints use it through
 * {@link io.milan.trainer.checkpoint.S3Checkpoints} (docs/storage.md).
 */
package io.milan.trainer.storage;
