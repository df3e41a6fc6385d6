package io.milan.trainer.data;

import java.util.random.RandomGenerator;

/**
 * Beta(a, b) draws for Mixup's λ (numpy's {@code np.random.beta}; DJL's engine has no gamma sampler):
 * {@code X / (X + Y)} with X ~ Gamma(a), Y ~ Gamma(b), Gamma by Marsaglia–Tsang (2000), boosted by
 * {@code U^(1/shape)} for shapes below 1.
 */
public final class BetaSampler {

    private BetaSampler() {
    }

    public static double beta(RandomGenerator rng, double a, double b) {
        if (!(a > 0) || !(b > 0) || Double.isInfinite(a) || Double.isInfinite(b)) {
            throw new IllegalArgumentException("Beta parameters must be finite and > 0, got (" + a + ", " + b + ")");
        }
        while (true) {
            double x = gamma(rng, a);
            double y = gamma(rng, b);
            double sum = x + y;
            if (sum > 0) { // both can underflow to 0 for tiny shapes; redraw then
                return x / sum;
            }
        }
    }

    /** Gamma(shape, 1). */
    public static double gamma(RandomGenerator rng, double shape) {
        if (shape < 1) {
            // Gamma(k) = Gamma(k + 1) · U^(1/k)
            double u = 1 - rng.nextDouble(); // (0, 1]
            return gamma(rng, shape + 1) * Math.pow(u, 1 / shape);
        }
        double d = shape - 1.0 / 3.0;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = rng.nextGaussian();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = 1 - rng.nextDouble(); // (0, 1]
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }
}
