package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/** Decoding behaves like PIL's {@code Image.open(f).convert('RGB')}. */
class ImageDecoderTest {

    @TempDir
    Path dir;

    @Test
    void pngRoundTripIsExactAndInRgbOrder() throws Exception {
        RgbImage image = new RgbImage(2, 1, new byte[] {(byte) 255, 0, 0, 0, 0, (byte) 200}); // red, blue
        Path file = dir.resolve("rb.png");
        TestImages.writePng(file, image);
        RgbImage back = ImageDecoder.decode(file);
        assertArrayEquals(image.pixels(), back.pixels());
        assertEquals(255, back.get(0, 0, 0)); // R first
    }

    @Test
    void greyscaleBecomesThreeEqualChannelsAndAlphaIsDropped() throws Exception {
        ImageDecoder.ensureLoaded();
        Mat grey = new Mat(1, 2, CvType.CV_8UC1);
        grey.put(0, 0, new byte[] {10, (byte) 250});
        Path greyFile = write(grey, "grey.png");
        assertArrayEquals(new byte[] {10, 10, 10, (byte) 250, (byte) 250, (byte) 250},
                ImageDecoder.decode(greyFile).pixels());

        Mat bgra = new Mat(1, 1, CvType.CV_8UC4);
        bgra.put(0, 0, new byte[] {30, 20, 10, 0}); // B, G, R, fully transparent
        Path rgbaFile = write(bgra, "rgba.png");
        assertArrayEquals(new byte[] {10, 20, 30}, ImageDecoder.decode(rgbaFile).pixels());
    }

    @Test
    void unreadableFilesAreNamed() throws IOException {
        Path empty = Files.write(dir.resolve("empty.jpg"), new byte[0]);
        ImageDecoder.UnreadableImageException e = assertThrows(ImageDecoder.UnreadableImageException.class,
                () -> ImageDecoder.decode(empty));
        assertEquals(empty + ": file is empty", e.getMessage());
        assertEquals(empty, e.file());

        Path garbage = Files.write(dir.resolve("garbage.png"), "definitely not a PNG".getBytes());
        e = assertThrows(ImageDecoder.UnreadableImageException.class, () -> ImageDecoder.decode(garbage));
        assertTrue(e.getMessage().startsWith(garbage + ": not a decodable image"), e.getMessage());

        Path missing = dir.resolve("missing.jpg");
        e = assertThrows(ImageDecoder.UnreadableImageException.class, () -> ImageDecoder.decode(missing));
        assertTrue(e.getMessage().startsWith(missing + ": cannot read file"), e.getMessage());
    }

    private Path write(Mat mat, String name) throws IOException {
        MatOfByte out = new MatOfByte();
        Imgcodecs.imencode(".png", mat, out);
        Path file = Files.write(dir.resolve(name), out.toArray());
        out.release();
        mat.release();
        return file;
    }
}
