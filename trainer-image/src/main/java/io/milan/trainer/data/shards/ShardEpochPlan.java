package io.milan.trainer.data.shards;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Which samples of which shards one rank streams in one epoch. The shard list is shuffled with a generator seeded
 * {@code seed + epoch} (the same on every rank, as {@code DistributedSampler} shuffles indices), the shards' samples
 * laid end to end in that order, and rank r takes the contiguous range {@code [r·q, (r+1)·q)} of it, where
 * {@code q = ceil(n / world)}: so every sample is read by exactly one rank, each rank gets exactly q samples (the
 * same number of steps on every rank, which the collectives need), and the last ranks' ranges run past the end
 * and wrap to the start (the padding of {@code DistributedSampler}: at most world − 1 samples are seen twice). A
 * range usually starts and ends inside a shard; that shard is read by both neighbouring ranks (whole shards are
 * read and checked; each rank uses its part).
 */
public final class ShardEpochPlan {

    /** Samples {@code [from, to)} of the shard at {@code shard} (its position in the manifest). */
    public record Segment(int shard, int from, int to) {
        public int length() {
            return to - from;
        }
    }

    private ShardEpochPlan() {
    }

    /** Samples per rank per epoch: {@code ceil(samples / world)}, as DistributedSampler without drop_last. */
    public static int samplesPerRank(int samples, int world) {
        return (int) ((samples + (long) world - 1) / world);
    }

    /**
     * Rank {@code rank}'s segments of an epoch over shards of {@code counts} samples (manifest order), in the order
     * they are streamed; {@code shuffle} false keeps the manifest's order (evaluation).
     */
    public static List<Segment> segments(int[] counts, int epoch, long seed, int world, int rank, boolean shuffle) {
        if (world < 1 || rank < 0 || rank >= world) {
            throw new IllegalArgumentException("rank must be in [0, world size " + world + "), got " + rank);
        }
        int[] order = shardOrder(counts.length, epoch, seed, shuffle);
        long total = 0;
        for (int c : counts) {
            total += c;
        }
        int perRank = samplesPerRank((int) total, world);
        long start = (long) rank * perRank % total;
        long remaining = perRank;
        // Find the shard the range starts in, then walk the shards, wrapping at the end.
        int k = 0;
        long before = 0;
        while (before + counts[order[k]] <= start) {
            before += counts[order[k]];
            k++;
        }
        int offset = (int) (start - before);
        List<Segment> segments = new ArrayList<>();
        while (remaining > 0) {
            int shard = order[k];
            int take = (int) Math.min(remaining, counts[shard] - offset);
            segments.add(new Segment(shard, offset, offset + take));
            remaining -= take;
            offset = 0;
            k = (k + 1) % order.length;
        }
        return segments;
    }

    /** The shard positions in streaming order: a seeded Fisher-Yates shuffle (Java's, as DistributedSampler's). */
    static int[] shardOrder(int shards, int epoch, long seed, boolean shuffle) {
        int[] order = new int[shards];
        for (int i = 0; i < shards; i++) {
            order[i] = i;
        }
        if (shuffle) {
            Random random = new Random(seed + epoch);
            for (int i = shards - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }
}
