package io.milan.trainer.checkpoint;

/**
 * When to save and how many checkpoints to keep. The reference saves when
 * {@code epoch % saveEvery == 0 or epoch + 1 == epochs} (every 20 epochs in pretraining, every epoch in
 * fine-tuning), and keeps everything; {@code keepLast > 0} keeps only that many newest.
 */
public record CheckpointPolicy(int saveEvery, int keepLast) {

    public CheckpointPolicy {
        if (saveEvery < 1) {
            throw new IllegalArgumentException("checkpoint interval must be >= 1 epoch, got " + saveEvery);
        }
        if (keepLast < 0) {
            throw new IllegalArgumentException("keep-last count must be >= 0 (0 keeps all), got " + keepLast);
        }
    }

    /** Pretraining: every 20 epochs and the last, keeping {@code keepLast} (0 = all). */
    public static CheckpointPolicy pretraining(int keepLast) {
        return new CheckpointPolicy(20, keepLast);
    }

    /** Fine-tuning and linear probing: every epoch, keeping {@code keepLast} (0 = all). */
    public static CheckpointPolicy finetuning(int keepLast) {
        return new CheckpointPolicy(1, keepLast);
    }

    /** Whether to save after (0-based) {@code epoch} of a run of {@code epochs}. */
    public boolean shouldSave(int epoch, int epochs) {
        return epoch % saveEvery == 0 || epoch + 1 == epochs;
    }
}
