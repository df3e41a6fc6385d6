package io.milan.trainer.data;

import java.nio.FloatBuffer;
import java.util.random.RandomGenerator;

/** Turns a decoded image into a normalised {@code 3 × size × size} float tensor. */
public interface SampleTransform {

    /** The output's height and width. */
    int size();

    /** Writes {@code 3 × size × size} floats (CHW) at the buffer's position, drawing randomness from {@code rng}. */
    void apply(RgbImage image, RandomGenerator rng, FloatBuffer out);
}
