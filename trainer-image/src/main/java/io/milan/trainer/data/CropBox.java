package io.milan.trainer.data;

/** A crop rectangle in torchvision's (top, left, height, width) convention. */
public record CropBox(int top, int left, int height, int width) {
}
