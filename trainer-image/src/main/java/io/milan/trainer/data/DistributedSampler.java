package io.milan.trainer.data;

import java.util.Random;

/**
 * The sample indices one rank reads in one epoch, with the semantics of PyTorch's
 * {@code DistributedSampler}: optionally shuffle all indices with a generator seeded {@code seed + epoch}
 * (the same on every rank), then either pad by repeating from the start until the count divides evenly
 * ({@code dropLast = false}) or cut the tail ({@code dropLast = true}), and give rank r every
 * {@code worldSize}-th index starting at r. The permutation is Java's (a seeded Fisher-Yates shuffle), not
 * torch's {@code randperm}; the sharding is identical.
 */
public final class DistributedSampler {

    private DistributedSampler() {
    }

    /** This rank's indices for {@code epoch}. */
    public static int[] indices(int datasetSize, int worldSize, int rank, int epoch, long seed, boolean shuffle,
            boolean dropLast) {
        if (datasetSize < 1) {
            throw new IllegalArgumentException("dataset size must be >= 1, got " + datasetSize);
        }
        if (worldSize < 1 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank must be in [0, world size " + worldSize + "), got " + rank);
        }
        int[] order = new int[datasetSize];
        for (int i = 0; i < datasetSize; i++) {
            order[i] = i;
        }
        if (shuffle) {
            Random random = new Random(seed + epoch);
            for (int i = datasetSize - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        int perRank = samplesPerRank(datasetSize, worldSize, dropLast);
        int[] mine = new int[perRank];
        for (int k = 0; k < perRank; k++) {
            // Position in the padded (or cut) list; padding repeats the list from its start.
            mine[k] = order[(rank + k * worldSize) % datasetSize];
        }
        return mine;
    }

    /** Samples each rank gets: {@code ceil(n / world)}, or {@code floor(n / world)} with dropLast. */
    public static int samplesPerRank(int datasetSize, int worldSize, boolean dropLast) {
        if (dropLast && datasetSize % worldSize != 0) {
            return (int) Math.ceil((datasetSize - worldSize) / (double) worldSize);
        }
        return (int) Math.ceil(datasetSize / (double) worldSize);
    }
}
