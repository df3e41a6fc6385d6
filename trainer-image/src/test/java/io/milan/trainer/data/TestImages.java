package io.milan.trainer.data;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.imgcodecs.Imgcodecs;

/** Test images: the formula image shared with make_golden.py, and small files on disk. */
final class TestImages {

    private TestImages() {
    }

    /** The same pattern as make_golden.py's test_image. */
    static RgbImage pattern(int width, int height) {
        byte[] px = new byte[width * height * 3];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < 3; c++) {
                    px[(y * width + x) * 3 + c] = (byte) ((x * 31 + y * 17 + c * 101 + (x * y) % 13 + (x ^ y) * 7) % 256);
                }
            }
        }
        return new RgbImage(width, height, px);
    }

    static JsonObject golden() {
        try (InputStream in = TestImages.class.getResourceAsStream("/data/golden.json")) {
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void writePng(Path file, RgbImage image) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, ImageDecoder.encodePng(image));
    }

    /** A JPEG of the pattern, encoded by OpenCV at quality 90. */
    static void writeJpeg(Path file, RgbImage image) throws IOException {
        ImageDecoder.ensureLoaded();
        Files.createDirectories(file.getParent());
        Mat rgb = new Mat(image.height(), image.width(), CvType.CV_8UC3);
        rgb.put(0, 0, image.pixels());
        Mat bgr = new Mat();
        org.opencv.imgproc.Imgproc.cvtColor(rgb, bgr, org.opencv.imgproc.Imgproc.COLOR_RGB2BGR);
        MatOfByte out = new MatOfByte();
        Imgcodecs.imencode(".jpg", bgr, out, new MatOfInt(Imgcodecs.IMWRITE_JPEG_QUALITY, 90));
        Files.write(file, out.toArray());
        rgb.release();
        bgr.release();
        out.release();
    }

    /**
     * A small ImageFolder under {@code root}: classes cat, dog and eel of 5 images each (JPEG and PNG alternating,
     * sizes 20..44 px), 15 samples.
     */
    static void writeSmallFolder(Path root) throws IOException {
        String[] classes = {"cat", "dog", "eel"};
        for (int c = 0; c < classes.length; c++) {
            for (int i = 0; i < 5; i++) {
                RgbImage image = pattern(20 + 6 * i, 24 + 4 * c);
                Path file = root.resolve(classes[c]).resolve("img" + i + (i % 2 == 0 ? ".jpg" : ".png"));
                if (i % 2 == 0) {
                    writeJpeg(file, image);
                } else {
                    writePng(file, image);
                }
            }
        }
    }
}
