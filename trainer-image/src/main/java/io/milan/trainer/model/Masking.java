package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * Which patches the encoder sees (milan-reference.md §1.2, §3). All index arrays are int64 [N, ·]:
 *
 * @param idsShuffle  a permutation of 0..L-1 per sample; its first K entries are kept (visible)
 * @param idsRestore  argsort(idsShuffle): "unshuffle" = gather(cat(kept, masked), idsRestore)
 * @param idsKeep     idsShuffle[:, :K], the visible patches in shuffled order
 * @param idsDump     idsShuffle[:, K:], the masked patches
 * @param mask        float [N, L] in original patch order: 1 = masked, 0 = visible
 * @param badWeights  for semantic masking on a GPU: a boolean scalar on the device, true if the importance weights
 *                    were not all finite and >= 0, checked by {@link #requireValidWeights()} once the step's loss is
 *                    read anyway (checking here would stall the GPU every micro-batch); else null (checked already)
 */
public record Masking(NDArray idsShuffle, NDArray idsRestore, NDArray idsKeep, NDArray idsDump, NDArray mask,
        NDArray badWeights) implements AutoCloseable {

    /** K = int(L·(1 − ratio)), the reference's truncation (196 patches, ratio 0.75 → 49). */
    public static int keepCount(int numPatches, double maskRatio) {
        if (!(maskRatio >= 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("mask ratio must be in [0, 1), got " + maskRatio);
        }
        int keep = (int) (numPatches * (1 - maskRatio));
        if (keep < 1) {
            throw new IllegalArgumentException("mask ratio " + maskRatio + " leaves no visible patch of "
                    + numPatches);
        }
        return keep;
    }

    /** MAE's random_masking: ids_shuffle = argsort(U[0,1)^(N×L)), noise drawn from {@code random}. */
    public static Masking random(NDManager manager, int batch, int numPatches, double maskRatio, Random random) {
        float[] noise = new float[batch * numPatches];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = random.nextFloat();
        }
        return random(manager, batch, numPatches, maskRatio, noise);
    }

    /** Random masking from given uniforms [N·L] in [0, 1), row-major (e.g. drawn per sample). */
    public static Masking random(NDManager manager, int batch, int numPatches, double maskRatio, float[] noise) {
        int keep = keepCount(numPatches, maskRatio);
        requireLength(noise.length, batch, numPatches);
        NDArray keys = manager.create(noise, new Shape(batch, numPatches));
        return fromShuffle(keys.argSort(1, true), keep);
    }

    /**
     * Semantic-aware masking: a full order of the patches sampled without replacement in proportion to
     * {@code importance} [N, L] (the teacher's cls→patch attention), as torch.multinomial(w, L, replacement=False);
     * the first K drawn stay visible. Drawn with the Gumbel-top-k trick, which has the same (Plackett–Luce)
     * distribution: keys = log(w) + G with G = −log(−log U) standard Gumbel, order = argsort(keys, descending).
     *
     * <p>Zero weights: clamped to the smallest normal float, so such patches come after every positive one (in
     * random order) instead of failing like torch.multinomial would when fewer than L weights are positive.
     */
    public static Masking semantic(NDArray importance, double maskRatio, Random random) {
        Shape s = importance.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("importance: expected [N, L], got " + s);
        }
        double[] uniforms = new double[(int) (s.get(0) * s.get(1))];
        for (int i = 0; i < uniforms.length; i++) {
            uniforms[i] = openUnit(random);
        }
        return semantic(importance, maskRatio, uniforms);
    }

    /** Semantic-aware masking from given uniforms [N·L] in (0, 1), row-major (e.g. drawn per sample). */
    public static Masking semantic(NDArray importance, double maskRatio, double[] uniforms) {
        Shape s = importance.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("importance: expected [N, L], got " + s);
        }
        int batch = (int) s.get(0);
        int numPatches = (int) s.get(1);
        int keep = keepCount(numPatches, maskRatio);
        requireLength(uniforms.length, batch, numPatches);
        NDArray bad = null;
        if (importance.getDevice().isGpu()) {
            bad = badWeights(importance);
        } else {
            try (NDArray checked = badWeights(importance)) {
                requireValid(checked);
            }
        }
        float[] gumbel = new float[batch * numPatches];
        for (int i = 0; i < gumbel.length; i++) {
            gumbel[i] = (float) -Math.log(-Math.log(uniforms[i]));
        }
        NDManager m = importance.getManager();
        NDArray w = importance.toType(DataType.FLOAT32, false).maximum(Float.MIN_NORMAL);
        NDArray keys = w.log().add(m.create(gumbel, s).toDevice(importance.getDevice(), false));
        Masking drawn = fromShuffle(keys.argSort(1, false), keep);
        return new Masking(drawn.idsShuffle, drawn.idsRestore, drawn.idsKeep, drawn.idsDump, drawn.mask, bad);
    }

    /** Fails if the importance weights of a GPU semantic masking were not all finite and >= 0 (reads the flag). */
    public void requireValidWeights() {
        if (badWeights != null) {
            requireValid(badWeights);
        }
    }

    /** The masking defined by a given order ids_shuffle [N, L] (int64) keeping its first {@code keep} entries. */
    public static Masking fromShuffle(NDArray idsShuffle, int keep) {
        Shape s = idsShuffle.getShape();
        if (s.dimension() != 2 || keep < 1 || keep > s.get(1)) {
            throw new IllegalArgumentException("ids_shuffle: expected [N, L] with 1 <= keep <= L, got " + s
                    + " and keep " + keep);
        }
        NDArray shuffle = idsShuffle.toType(DataType.INT64, false);
        NDArray restore = shuffle.argSort(1, true);
        NDArray idsKeep = shuffle.get(":, :" + keep);
        NDArray idsDump = shuffle.get(":, " + keep + ":");
        // position j is masked iff its rank in the shuffled order is >= K
        NDArray mask = restore.gte(keep).toType(DataType.FLOAT32, false);
        return new Masking(shuffle, restore, idsKeep, idsDump, mask, null);
    }

    /** K, the number of visible patches. */
    public int keepCount() {
        return (int) idsKeep.getShape().get(1);
    }

    /** L, the number of patches. */
    public int numPatches() {
        return (int) idsShuffle.getShape().get(1);
    }

    /** A boolean scalar: whether any weight is negative, NaN or infinite (computed where the weights are). */
    private static NDArray badWeights(NDArray importance) {
        try (NDArray bad = importance.lt(0).logicalOr(importance.isNaN()).logicalOr(importance.isInfinite())) {
            return bad.any();
        }
    }

    private static void requireValid(NDArray badWeights) {
        if (badWeights.getBoolean()) {
            throw new IllegalArgumentException("importance: weights must be finite and >= 0");
        }
    }

    private static void requireLength(int length, int batch, int numPatches) {
        if (length != batch * numPatches) {
            throw new IllegalArgumentException("masking noise: expected " + batch + " x " + numPatches
                    + " values, got " + length);
        }
    }

    /** Uniform on the open interval (0, 1): 53 random bits, shifted half a step off zero. */
    public static double openUnit(Random random) {
        return ((random.nextLong() >>> 11) + 0.5) * 0x1.0p-53;
    }

    @Override
    public void close() {
        idsShuffle.close();
        idsRestore.close();
        idsKeep.close();
        idsDump.close();
        mask.close();
        if (badWeights != null) {
            badWeights.close();
        }
    }
}
