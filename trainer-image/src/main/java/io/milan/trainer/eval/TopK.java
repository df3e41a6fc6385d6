package io.milan.trainer.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

/**
 * The k largest logits per sample, as {@code torch.topk(logits, k, dim=1, largest=True, sorted=True)} (DJL's
 * {@code topK} runs that very op, so ties resolve as in torch), copied to the host.
 *
 * @param classes [N][k] class indices, best first
 * @param logits  [N][k] their logits
 */
public record TopK(long[][] classes, float[][] logits) {

    /** Top {@code min(k, C)} of logits [N, C]. */
    public static TopK of(NDArray logits, int k) {
        if (logits.getShape().dimension() != 2) {
            throw new IllegalArgumentException("logits must be [N, classes], got " + logits.getShape());
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        int n = (int) logits.getShape().get(0);
        int kk = (int) Math.min(k, logits.getShape().get(1));
        long[][] classes = new long[n][kk];
        float[][] values = new float[n][kk];
        if (n == 0) {
            return new TopK(classes, values);
        }
        NDList top = logits.topK(kk, 1, true, true);
        try (NDArray v = top.get(0).toType(DataType.FLOAT32, false);
                NDArray i = top.get(1).toType(DataType.INT64, false)) {
            float[] flatValues = v.toFloatArray();
            long[] flatIndices = i.toLongArray();
            for (int r = 0; r < n; r++) {
                System.arraycopy(flatValues, r * kk, values[r], 0, kk);
                System.arraycopy(flatIndices, r * kk, classes[r], 0, kk);
            }
        } finally {
            top.close();
        }
        return new TopK(classes, values);
    }

    public int size() {
        return classes.length;
    }

    /** How many samples have their label among their first {@code k} classes ({@code k} capped at those kept). */
    public long correct(long[] labels, int k) {
        if (labels.length != classes.length) {
            throw new IllegalArgumentException(labels.length + " labels for " + classes.length + " samples");
        }
        long hits = 0;
        for (int r = 0; r < classes.length; r++) {
            int limit = Math.min(k, classes[r].length);
            for (int j = 0; j < limit; j++) {
                if (classes[r][j] == labels[r]) {
                    hits++;
                    break;
                }
            }
        }
        return hits;
    }

    /** timm.utils.accuracy: percentage of samples whose label is in their top {@code k}. */
    public double accuracy(long[] labels, int k) {
        return classes.length == 0 ? 0 : 100.0 * correct(labels, k) / classes.length;
    }
}
