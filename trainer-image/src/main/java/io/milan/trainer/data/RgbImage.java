package io.milan.trainer.data;

/**
 * An 8-bit RGB image in row-major, pixel-interleaved order (HWC), the layout PIL and OpenCV use. Pixel
 * (x, y) channel c is at {@code (y * width + x) * 3 + c}.
 */
public record RgbImage(int width, int height, byte[] pixels) {

    public RgbImage {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("image size must be at least 1x1, got " + width + "x" + height);
        }
        if (pixels.length != width * height * 3) {
            throw new IllegalArgumentException("an RGB image of " + width + "x" + height + " needs "
                    + (width * height * 3) + " bytes, got " + pixels.length);
        }
    }

    /** Channel {@code c} of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xff;
    }
}
