/**
 * Checkpoints as safetensors files that PyTorch can read ({@code safetensors.torch.load_file}), written
 * atomically and validated on load.
 *
 * <p>{@link io.milan.trainer.checkpoint.CheckpointStore} owns the layout
 * ({@code checkpoint-<epoch>.safetensors} = model state_dict + run metadata,
 * {@code checkpoint-<epoch>.optim.safetensors} = optimizer state; one rolling mid-epoch checkpoint
 * {@code checkpoint-<epoch>-step<globalStep>.safetensors} whose {@link io.milan.trainer.checkpoint.EpochPosition}
 * says where in the epoch it was taken), {@code --resume auto|<file>}, and keep-last-N pruning; {@link io.milan.trainer.checkpoint.CheckpointPolicy} says when to save;
 * {@link io.milan.trainer.checkpoint.SafeTensors} is the file format;
 * {@link io.milan.trainer.checkpoint.AtomicFiles} the crash-safe write;
 * {@link io.milan.trainer.checkpoint.RunIdentity} the run every checkpoint records, so that {@code --resume auto}
 * refuses another run's (docs/trainer.md); a {@link io.milan.trainer.checkpoint.CheckpointReplica} such as
 * {@link io.milan.trainer.checkpoint.S3Checkpoints} keeps a copy in object storage with a manifest (docs/storage.md).
 * <pre>{@code
 * CheckpointStore store = new CheckpointStore(outputDir, RunIdentity.fromEnvironment(shape, System.getenv()));
 * Optional<Checkpoint> resumed = store.resume(resumeFlag, manager);  // "" | "auto" | file
 * resumed.ifPresent(c -> { params.copyFrom(c.model()); adam.loadState(c.optimizer(), params.asMap()); });
 * ...
 * if (policy.shouldSave(epoch, epochs)) {
 *     store.save(new Checkpoint(epoch, globalStep, params.asMap(), adam.state(),
 *             Map.of(CheckpointStore.ARGS, argsJson, CheckpointStore.SEED, Long.toString(seed))));
 *     store.prune(epoch, policy.keepLast());
 * }
 * }</pre>
 */
package io.milan.trainer.checkpoint;
