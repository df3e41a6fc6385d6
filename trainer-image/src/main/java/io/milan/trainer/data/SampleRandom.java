package io.milan.trainer.data;

import java.util.SplittableRandom;

/**
 * Per-sample random generators derived from (seed, epoch, sample index, attempt), so a sample's
 * augmentation does not depend on which worker thread handles it or in what order.
 */
public final class SampleRandom {

    private SampleRandom() {
    }

    public static SplittableRandom forSample(long seed, int epoch, long index, int attempt) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        h = mix(h ^ (epoch * 0xBF58476D1CE4E5B9L));
        h = mix(h ^ (index * 0x94D049BB133111EBL));
        h = mix(h ^ attempt);
        return new SplittableRandom(h);
    }

    /**
     * The generator of batch-level randomness (Mixup/CutMix) for batch {@code batch} of {@code epoch} on
     * {@code rank}: each rank mixes its own batch, as the reference's per-process numpy state does. Salted so
     * it never coincides with a sample's stream.
     */
    public static SplittableRandom forBatch(long seed, int epoch, long batch, int rank) {
        return forSample(seed ^ 0x6D69787570L, epoch, batch, -1 - rank); // "mixup"; attempts are >= 0
    }

    /** SplitMix64's finaliser: a bijective 64-bit mixer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
