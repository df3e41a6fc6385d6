package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * The system libjpeg-turbo decodes JPEGs to exactly Pillow's and OpenCV's pixels, and whatever it declines goes
 * to OpenCV.
 */
class TurboJpegTest {
    private static final Path NAME = Path.of("test.jpg");

    @Test
    void theSystemLibraryIsInstalled() {
        // CI and the trainer image install libturbojpeg0; without it JPEG decoding is 2.5x slower.
        assertTrue(TurboJpeg.available(), TurboJpeg.UNAVAILABLE);
    }

    @Test
    void decodesPillowsJpegsToPillowsPixels() throws Exception {
        // Fixtures from data/make_jpegs.py: JPEGs Pillow wrote, and Pillow's Image.open(f).convert('RGB') of them.
        for (String name : new String[] {"pillow-420.jpg", "pillow-422-progressive.jpg"}) {
            byte[] jpeg = resource(name);
            RgbImage pillow = ImageDecoder.decode(Path.of(name + ".png"), resource(name + ".png"));
            RgbImage turbo = TurboJpeg.decodeOrNull(jpeg);
            assertNotNull(turbo, name + ": TurboJPEG declined a clean JPEG");
            assertEquals(pillow.width(), turbo.width(), name);
            assertEquals(pillow.height(), turbo.height(), name);
            assertArrayEquals(pillow.pixels(), turbo.pixels(), name + ": TurboJPEG's pixels differ from Pillow's");
            assertArrayEquals(pillow.pixels(), ImageDecoder.decodeWithOpenCv(Path.of(name), jpeg).pixels(),
                    name + ": OpenCV's pixels differ from Pillow's");
        }
    }

    /** ImageNet's train set has CMYK JPEGs; OpenCV converted them a level brighter than Pillow (issue 23). */
    @Test
    void decodesPillowsCmykJpegToPillowsPixels() throws Exception {
        String name = "pillow-cmyk.jpg";
        byte[] jpeg = resource(name);
        RgbImage pillow = ImageDecoder.decode(Path.of(name + ".png"), resource(name + ".png"));
        RgbImage ours = ImageDecoder.decode(Path.of(name), jpeg);
        assertEquals(pillow.width(), ours.width());
        assertEquals(pillow.height(), ours.height());
        assertArrayEquals(pillow.pixels(), ours.pixels(), "CMYK JPEG: our pixels differ from Pillow's");
        RgbImage openCv = ImageDecoder.decodeWithOpenCv(Path.of(name), jpeg);
        int differing = 0;
        for (int i = 0; i < pillow.pixels().length; i++) {
            differing += pillow.pixels()[i] != openCv.pixels()[i] ? 1 : 0;
        }
        System.out.printf("CMYK JPEG: OpenCV's conversion differs from Pillow's on %d of %d samples%n", differing,
                pillow.pixels().length);
    }

    @Test
    void decodesColourJpegsOfEverySubsamplingToOpenCvsPixels() throws Exception {
        int[] samplings = {Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_420, Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_422,
            Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_444, Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_411};
        for (int sampling : samplings) {
            // odd sizes: partial MCUs at the right and bottom edges, where upsampling rounds differently
            byte[] jpeg = encode(photoLike(333, 251, CvType.CV_8UC3, sampling), Imgcodecs.IMWRITE_JPEG_QUALITY, 90,
                    Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR, sampling);
            assertSameAsOpenCv(jpeg, "sampling 0x" + Integer.toHexString(sampling));
        }
    }

    @Test
    void decodesGreyAndProgressiveJpegsToOpenCvsPixels() throws Exception {
        assertSameAsOpenCv(encode(photoLike(97, 61, CvType.CV_8UC1, 1), Imgcodecs.IMWRITE_JPEG_QUALITY, 75), "grey");
        assertSameAsOpenCv(encode(photoLike(200, 150, CvType.CV_8UC3, 2), Imgcodecs.IMWRITE_JPEG_PROGRESSIVE, 1),
                "progressive");
    }

    @Test
    void declinesWhatItCannotDecodeCleanlyAndOpenCvDecidesAsBefore() throws Exception {
        byte[] jpeg = encode(photoLike(64, 48, CvType.CV_8UC3, 3), Imgcodecs.IMWRITE_JPEG_QUALITY, 90);
        byte[] truncated = Arrays.copyOf(jpeg, jpeg.length / 2);
        assertNull(TurboJpeg.decodeOrNull(truncated), "a truncated JPEG only decodes with a warning");
        // OpenCV decides, as before TurboJPEG was used: it returns the full-size image. (Its pixels for a truncated
        // file are not repeatable from one decode to the next, so they are not compared.)
        RgbImage partial = ImageDecoder.decode(NAME, truncated);
        assertEquals(64, partial.width());
        assertEquals(48, partial.height());

        byte[] png = ImageDecoder.encodePng(new RgbImage(2, 1, new byte[] {1, 2, 3, 4, 5, 6}));
        assertTrue(!TurboJpeg.isJpeg(png));
        assertNull(TurboJpeg.decodeOrNull(png));

        byte[] notAnImage = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0, 1, 2, 3};
        assertNull(TurboJpeg.decodeOrNull(notAnImage));
        var e = assertThrows(ImageDecoder.UnreadableImageException.class,
                () -> ImageDecoder.decode(NAME, notAnImage));
        assertTrue(e.getMessage().startsWith(NAME + ": not a decodable image"), e.getMessage());
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = TurboJpegTest.class.getResourceAsStream("/data/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource data/" + name + " is missing");
            }
            return in.readAllBytes();
        }
    }

    private static void assertSameAsOpenCv(byte[] jpeg, String what) throws Exception {
        RgbImage turbo = TurboJpeg.decodeOrNull(jpeg);
        assertNotNull(turbo, what + ": TurboJPEG declined a clean JPEG");
        RgbImage opencv = ImageDecoder.decodeWithOpenCv(NAME, jpeg);
        assertEquals(opencv.width(), turbo.width(), what);
        assertEquals(opencv.height(), turbo.height(), what);
        assertArrayEquals(opencv.pixels(), turbo.pixels(), what);
    }

    /** Smooth gradients with noise and a sharp edge: every DCT frequency gets some energy. */
    static Mat photoLike(int width, int height, int type, long seed) {
        ImageDecoder.ensureLoaded();
        int channels = CvType.channels(type);
        byte[] pixels = new byte[width * height * channels];
        Random random = new Random(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < channels; c++) {
                    int v = (x * (c + 1) + y * (3 - c)) % 256 + random.nextInt(41) - 20 + (x > width / 2 ? 60 : 0);
                    pixels[(y * width + x) * channels + c] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        }
        Mat mat = new Mat(height, width, type);
        mat.put(0, 0, pixels);
        return mat;
    }

    static byte[] encode(Mat image, int... params) {
        MatOfByte out = new MatOfByte();
        try {
            if (!Imgcodecs.imencode(".jpg", image, out, new MatOfInt(params))) {
                throw new IllegalStateException("OpenCV could not encode a JPEG");
            }
            return out.toArray();
        } finally {
            image.release();
            out.release();
        }
    }
}
