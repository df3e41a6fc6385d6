/**
 * Datasets as tar shards of the WebDataset layout (docs/shards.md): {@link io.milan.trainer.data.shards.ShardWriter}
 * and the {@code shard} command write them with a {@link io.milan.trainer.data.shards.ShardManifest};
 * {@link io.milan.trainer.data.shards.ShardedDataset} streams one rank's part of an epoch
 * ({@link io.milan.trainer.data.shards.ShardEpochPlan}, {@link io.milan.trainer.data.shards.ShuffleOrder},
 * {@link io.milan.trainer.data.shards.ShardStream}) to {@link io.milan.trainer.data.BatchLoader}, which decodes as
 * for an ImageFolder. Bytes come through a {@link io.milan.trainer.data.shards.ShardSource}: a local directory today.
 */
package io.milan.trainer.data.shards;
