package io.milan.trainer.train;

import io.milan.trainer.data.SampleRandom;
import java.util.SplittableRandom;

/**
 * The uniforms each image's masking is drawn from, derived from (seed, epoch, dataset index) like its
 * augmentation. So an image gets the same mask whichever rank or device it lands on, and a resumed run draws
 * exactly what an uninterrupted one would.
 */
final class MaskNoise {
    /** Keeps the masking stream apart from the augmentation stream of the same sample. */
    private static final int MASK_STREAM = 0x6d61736b;

    private MaskNoise() {
    }

    /** Uniforms in (0, 1), row-major [indices.length x patches]. */
    static double[] open(long seed, int epoch, long[] indices, int patches) {
        double[] out = new double[indices.length * patches];
        for (int i = 0; i < indices.length; i++) {
            SplittableRandom r = SampleRandom.forSample(seed, epoch, indices[i], MASK_STREAM);
            for (int j = 0; j < patches; j++) {
                out[i * patches + j] = ((r.nextLong() >>> 11) + 0.5) * 0x1.0p-53;
            }
        }
        return out;
    }

    static float[] asFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
