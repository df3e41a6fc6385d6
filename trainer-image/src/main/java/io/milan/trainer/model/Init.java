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

    /**
     * timm's {@code trunc_normal_(std=std)}: N(0, std²) restricted to its default bounds [-2, 2] (absolute
     * values, not multiples of std), drawn by rejection, which has the same distribution.
     */
    static float[] truncNormal(Random random, double std, long count) {
        float[] v = new float[Math.toIntExact(count)];
        for (int i = 0; i < v.length; i++) {
            double x;
            do {
                x = random.nextGaussian() * std;
            } while (x < -2 || x > 2);
            v[i] = (float) x;
        }
        return v;
    }

    /** How a Linear weight [fanOut, fanIn] starts. */
    @FunctionalInterface
    interface MatrixInit {
        float[] draw(Random random, int fanOut, int fanIn);

        /** MAE's initialize_weights: xavier_uniform. */
        MatrixInit XAVIER = Init::xavierUniform;

        /** timm's ViT _init_weights: trunc_normal(std 0.02). */
        MatrixInit TIMM = (random, fanOut, fanIn) -> truncNormal(random, 0.02, (long) fanOut * fanIn);
    }

    static float[] constant(float value, long count) {
        float[] v = new float[Math.toIntExact(count)];
        Arrays.fill(v, value);
        return v;
    }
}
