package io.milan.trainer.data.shards;

import java.util.SplittableRandom;

/**
 * The order a shuffle buffer of {@code size} samples gives a stream of {@code length} samples: the buffer fills
 * with the first {@code size}, then each incoming sample replaces a uniformly drawn buffered one, which is emitted;
 * at the end the buffer drains in random order (WebDataset's {@code shuffle(size)}). The draws depend only on the
 * counts, never on the samples, so the whole order is computed up front as a permutation of stream positions:
 * this is what makes a resume exact without saving the buffer — the first k emitted positions are known from
 * (seed, epoch, rank, k) alone.
 */
public final class ShuffleOrder {

    private ShuffleOrder() {
    }

    /** Emission order: element i is the stream position emitted i-th. {@code size} ≤ 1 keeps the stream's order. */
    public static int[] of(int length, int size, SplittableRandom random) {
        int[] order = new int[length];
        if (size <= 1) {
            for (int i = 0; i < length; i++) {
                order[i] = i;
            }
            return order;
        }
        int[] buffer = new int[Math.min(size, length)];
        int held = 0;
        int emitted = 0;
        for (int position = 0; position < length; position++) {
            if (held < buffer.length) {
                buffer[held++] = position;
                continue;
            }
            int j = random.nextInt(held);
            order[emitted++] = buffer[j];
            buffer[j] = position;
        }
        while (held > 0) {
            int j = random.nextInt(held);
            order[emitted++] = buffer[j];
            buffer[j] = buffer[--held];
        }
        return order;
    }
}
