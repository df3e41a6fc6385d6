package io.milan.trainer.data;

import java.util.random.RandomGenerator;

/** Chooses the crop rectangle of a random-resized-crop for an image of the given size. */
public interface CropSampler {

    CropBox sample(int width, int height, RandomGenerator rng);
}
