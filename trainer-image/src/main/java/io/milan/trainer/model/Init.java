package io.milan.trainer.model;

import java.util.Arrays;
import java.util.Random;

/** The reference's initialisers (MAE's initialize_weights), drawn from an explicit seedable {@link Random}. */
final class Init {

    private Init() {
    }

    /** torch.nn.init.xavier_uniform_ on a [fanOut, fanIn] matrix: U(-a, a), a = sqrt(6 / (fanIn + fanOut)). */
    static float[] xavierUniform(Random random, int fanOut, int fanIn) {
        return uniform(random, Math.sqrt(6.0 / (fanIn + fanOut)), (long) fanOut * fanIn);
    }

    /** U(-bound, bound). */
    static float[] uniform(Random random, double bound, long count) {
        float[] v = new float[Math.toIntExact(count)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((2 * random.nextDouble() - 1) * bound);
        }
        return v;
    }

    /** N(0, std²), torch.nn.init.normal_. */
    static float[] normal(Random random, double std, long count) {
        float[] v = new float[Math.toIntExact(count)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        return v;
    }

    static float[] constant(float value, long count) {
        float[] v = new float[Math.toIntExact(count)];
        Arrays.fill(v, value);
        return v;
    }
}
