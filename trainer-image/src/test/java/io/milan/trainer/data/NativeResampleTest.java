package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The native resampler (src/main/c/milan_resample.c) writes exactly the floats of the Java code
 * ({@link PilResample}'s reference path, itself golden-tested against Pillow in TransformsTest), on its AVX2 and
 * its plain C path, for random crops of noise images: up- and downscaling, 1-pixel crops, crops at the image's
 * edges (the last pixel of the buffer, which the AVX2 loads must not read past), unchanged widths and/or heights,
 * both filters, both flips, odd sizes, heap and direct buffers.
 */
class NativeResampleTest {

    private static final PilResample.Path[] NATIVE_PATHS = {PilResample.Path.NATIVE, PilResample.Path.NATIVE_PLAIN_C};

    @Test
    void isBuiltLoadsAndIsUsedByTheTrainingPath() {
        // The trainer's Maven build compiles it (src/main/c/build.sh); without it training runs the Java code.
        assertTrue(NativeResample.available(), NativeResample.UNAVAILABLE);
        assertTrue(PilResample.NATIVE, "PilResample does not use the native resampler");
    }

    @Test
    void randomCropsEqualTheJavaCodeBitForBit() throws IOException {
        boolean avx2 = Files.readString(Path.of("/proc/cpuinfo")).contains(" avx2");
        SplittableRandom random = new SplittableRandom(7);
        int checked = 0;
        for (int i = 0; i < 3000; i++) {
            RgbImage image = noise(1 + random.nextInt(90), 1 + random.nextInt(70), random);
            int[] c = crop(image, random);
            checked += compare(image, c, random, avx2);
        }
        // ImageNet-sized images to 224, as in training (crops of 20-100% on both axes)
        for (int i = 0; i < 40; i++) {
            RgbImage image = noise(500, 375, random);
            int w = 100 + random.nextInt(401);
            int h = 75 + random.nextInt(301);
            int left = random.nextBoolean() ? image.width() - w : random.nextInt(image.width() - w + 1);
            int top = random.nextBoolean() ? image.height() - h : random.nextInt(image.height() - h + 1);
            checked += compare(image, new int[] {left, top, w, h, 224, 224}, random, avx2);
        }
        assertEquals(2 * 2 * 3040, checked);
    }

    @Test
    void leavesTheBufferPositionAfterThePlanesAndTheRestUntouched() {
        RgbImage image = noise(40, 30, new SplittableRandom(3));
        for (PilResample.Path path : NATIVE_PATHS) {
            for (boolean direct : new boolean[] {false, true}) {
                FloatBuffer out = buffer(3 * 16 * 16 + 20, direct);
                for (int i = 0; i < out.capacity(); i++) {
                    out.put(i, -7f);
                }
                out.position(9);
                assertEquals(path, PilResample.resizeRegionNormalized(image, 1, 2, 33, 25, 16, 16,
                        PilResample.Filter.BICUBIC, Normalization.IMAGENET, true, out, path));
                assertEquals(9 + 3 * 16 * 16, out.position());
                for (int i : new int[] {0, 8, 9 + 3 * 16 * 16, out.capacity() - 1}) {
                    assertEquals(-7f, out.get(i), "float " + i + " outside the planes was written, " + path);
                }
            }
        }
    }

    /** Runs crop {@code c} (left, top, width, height, out width, out height) both ways; returns the runs checked. */
    private static int compare(RgbImage image, int[] c, SplittableRandom random, boolean avx2) {
        PilResample.Filter filter = random.nextBoolean() ? PilResample.Filter.BICUBIC : PilResample.Filter.BILINEAR;
        int n = 3 * c[4] * c[5];
        int checked = 0;
        for (boolean flip : new boolean[] {false, true}) {
            FloatBuffer expected = FloatBuffer.allocate(n);
            assertEquals(PilResample.Path.JAVA, PilResample.resizeRegionNormalized(image, c[0], c[1], c[2], c[3],
                    c[4], c[5], filter, Normalization.IMAGENET, flip, expected, PilResample.Path.JAVA));
            for (PilResample.Path path : NATIVE_PATHS) {
                int offset = random.nextInt(4);
                FloatBuffer out = buffer(n + offset, random.nextBoolean());
                out.position(offset);
                PilResample.Path ran = PilResample.resizeRegionNormalized(image, c[0], c[1], c[2], c[3], c[4], c[5],
                        filter, Normalization.IMAGENET, flip, out, path);
                String what = image.width() + "x" + image.height() + " crop " + Arrays.toString(c) + " " + filter
                        + " flip " + flip + " " + path + (out.isDirect() ? " direct" : " heap");
                assertEquals(path == PilResample.Path.NATIVE && !avx2 ? PilResample.Path.NATIVE_PLAIN_C : path, ran,
                        what);
                float[] got = new float[n];
                out.get(offset, got);
                assertArrayEquals(expected.array(), got, 0f, what);
                checked++;
            }
        }
        return checked;
    }

    /** A random crop and output size, often at the image's edges, 1 pixel wide or high, or of unchanged size. */
    private static int[] crop(RgbImage image, SplittableRandom random) {
        int w = random.nextInt(5) == 0 ? 1 : 1 + random.nextInt(image.width());
        int h = random.nextInt(5) == 0 ? 1 : 1 + random.nextInt(image.height());
        int left = random.nextInt(3) == 0 ? image.width() - w : random.nextInt(image.width() - w + 1);
        int top = random.nextInt(3) == 0 ? image.height() - h : random.nextInt(image.height() - h + 1);
        int outW = random.nextInt(4) == 0 ? w : 1 + random.nextInt(100);
        int outH = random.nextInt(4) == 0 ? h : 1 + random.nextInt(100);
        return new int[] {left, top, w, h, outW, outH};
    }

    /** Random pixels, a quarter of them 0 or 255: sharp edges make the bicubic sums overshoot both clip limits. */
    private static RgbImage noise(int width, int height, SplittableRandom random) {
        byte[] pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.length; i++) {
            int r = random.nextInt(8);
            pixels[i] = (byte) (r == 0 ? 0 : r == 1 ? 255 : random.nextInt(256));
        }
        return new RgbImage(width, height, pixels);
    }

    private static FloatBuffer buffer(int floats, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer()
                : FloatBuffer.allocate(floats);
    }
}
