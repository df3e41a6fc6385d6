package io.milan.trainer.data;

import java.nio.FloatBuffer;

/**
 * torchvision's {@code ToTensor()} followed by {@code Normalize(mean, std)}: HWC uint8 → CHW float32
 * {@code (v / 255 − mean[c]) / std[c]}, in float32 arithmetic like PyTorch's CPU kernels, optionally
 * mirrored left-right ({@code RandomHorizontalFlip} applied to the image before).
 */
public record Normalization(float[] mean, float[] std) {

    /** ImageNet statistics, as in the reference (timm's IMAGENET_DEFAULT_MEAN/STD). */
    public static final Normalization IMAGENET = new Normalization(new float[] {0.485f, 0.456f, 0.406f},
            new float[] {0.229f, 0.224f, 0.225f});

    public Normalization {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values (R, G, B)");
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** Writes {@code 3 × height × width} floats, channel-major, at the buffer's position. */
    public void write(RgbImage image, boolean flipHorizontally, FloatBuffer out) {
        int w = image.width();
        int h = image.height();
        byte[] px = image.pixels();
        float[] plane = new float[w * h];
        float[] table = new float[256];
        for (int c = 0; c < 3; c++) {
            // Only 256 possible inputs: compute each once, with the same float operations.
            for (int v = 0; v < 256; v++) {
                table[v] = (v / 255f - mean[c]) / std[c];
            }
            int i = 0;
            for (int y = 0; y < h; y++) {
                int row = y * w;
                for (int x = 0; x < w; x++) {
                    int sx = flipHorizontally ? w - 1 - x : x;
                    plane[i++] = table[px[(row + sx) * 3 + c] & 0xff];
                }
            }
            out.put(plane);
        }
    }
}
