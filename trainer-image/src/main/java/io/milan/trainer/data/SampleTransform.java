package io.milan.trainer.data;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.random.RandomGenerator;

/** Turns a decoded image into a normalised {@code 3 × size × size} float tensor. */
public interface SampleTransform {

    /** The output's height and width. */
    int size();

    /** Writes {@code 3 × size × size} floats (CHW) at the buffer's position, drawing randomness from {@code rng}. */
    void apply(RgbImage image, RandomGenerator rng, FloatBuffer out);

    /**
     * Decodes {@code encoded} (the bytes of {@code file}) and applies the transform, with the same result as
     * {@code apply(ImageDecoder.decode(file, encoded), rng, out)}. Transforms that read only part of the image
     * override it to decode less. Writes nothing when the image is unreadable.
     */
    default void decodeAndApply(Path file, byte[] encoded, RandomGenerator rng, FloatBuffer out)
            throws ImageDecoder.UnreadableImageException {
        apply(ImageDecoder.decode(file, encoded), rng, out);
    }
}
