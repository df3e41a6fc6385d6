package io.milan.trainer.data;

import static io.milan.trainer.data.TurboJpegTest.encode;
import static io.milan.trainer.data.TurboJpegTest.photoLike;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opencv.core.CvType;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Decoding only a rectangle gives exactly the pixels of the full decode, for every subsampling, progressive,
 * grey, odd sizes and restart markers; the training transform's output does not change; bad input falls back.
 */
class JpegRegionDecoderTest {
    private static final Path NAME = Path.of("test.jpg");
    private static final Map<String, byte[]> JPEGS = new LinkedHashMap<>();

    @BeforeAll
    static void jpegs() throws Exception {
        for (String name : new String[] {"pillow-420.jpg", "pillow-422-progressive.jpg"}) {
            JPEGS.put(name, TurboJpegTest.resource(name));
        }
        int q = Imgcodecs.IMWRITE_JPEG_QUALITY;
        int sampling = Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR;
        // 500x375 like the benchmark's (ImageNet's typical size), 4:2:0
        JPEGS.put("500x375 4:2:0", encode(photoLike(500, 375, CvType.CV_8UC3, 7), q, 90));
        Map<String, Integer> samplings = Map.of("4:1:1", Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_411, "4:2:0",
                Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_420, "4:2:2", Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_422,
                "4:4:0", Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_440, "4:4:4",
                Imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_444);
        for (var s : samplings.entrySet()) {
            // odd sizes: partial iMCUs at the right and bottom edges
            JPEGS.put("333x251 " + s.getKey(), encode(photoLike(333, 251, CvType.CV_8UC3, s.getValue()), q, 90,
                    sampling, s.getValue()));
            JPEGS.put("203x149 progressive " + s.getKey(), encode(photoLike(203, 149, CvType.CV_8UC3, 3), q, 80,
                    sampling, s.getValue(), Imgcodecs.IMWRITE_JPEG_PROGRESSIVE, 1));
        }
        JPEGS.put("97x61 grey", encode(photoLike(97, 61, CvType.CV_8UC1, 1), q, 75));
        JPEGS.put("201x99 grey progressive", encode(photoLike(201, 99, CvType.CV_8UC1, 2), q, 75,
                Imgcodecs.IMWRITE_JPEG_PROGRESSIVE, 1));
        JPEGS.put("250x170 restart markers", encode(photoLike(250, 170, CvType.CV_8UC3, 4), q, 90,
                Imgcodecs.IMWRITE_JPEG_RST_INTERVAL, 3));
        JPEGS.put("1x1", encode(photoLike(1, 1, CvType.CV_8UC3, 5), q, 90));
        JPEGS.put("17x1", encode(photoLike(17, 1, CvType.CV_8UC3, 6), q, 90));
    }

    @Test
    void theShimIsBuiltAndLoads() {
        // The trainer's Maven build compiles it (src/main/c/build.sh); without it training decodes whole images.
        assertTrue(JpegRegionDecoder.available(), JpegRegionDecoder.UNAVAILABLE);
    }

    @Test
    void regionsEqualTheSameRegionOfTheFullDecode() {
        SplittableRandom random = new SplittableRandom(42);
        int checked = 0;
        for (var jpeg : JPEGS.entrySet()) {
            RgbImage full = TurboJpeg.decodeOrNull(jpeg.getValue());
            assertNotNull(full, jpeg.getKey());
            assertArrayEquals(new int[] {full.width(), full.height()},
                    JpegRegionDecoder.sizeOrNull(jpeg.getValue()), jpeg.getKey());
            for (int[] box : boxes(full.width(), full.height(), random)) {
                RgbImage region = JpegRegionDecoder.decodeOrNull(jpeg.getValue(), box[0], box[1], box[2], box[3]);
                String what = jpeg.getKey() + ", " + box[2] + "x" + box[3] + " at (" + box[0] + ", " + box[1] + ")";
                assertNotNull(region, what + ": declined");
                assertArrayEquals(PilResample.crop(full, box[0], box[1], box[2], box[3]).pixels(), region.pixels(),
                        what);
                checked++;
            }
        }
        assertTrue(checked > 5000, "only " + checked + " boxes checked");
    }

    @Test
    void trainingOutputIsTheSameAsWithTheFullDecode() throws Exception {
        List<TrainTransform> transforms = List.of(TrainTransform.pretraining(224), TrainTransform.finetuning(32),
                TrainTransform.linearProbing(48));
        int checked = 0;
        for (var jpeg : JPEGS.entrySet()) {
            RgbImage full = ImageDecoder.decode(NAME, jpeg.getValue());
            for (TrainTransform t : transforms) {
                for (long seed = 0; seed < 12; seed++) {
                    FloatBuffer expected = FloatBuffer.allocate(3 * t.size() * t.size());
                    t.apply(full, SampleRandom.forSample(seed, 1, 5, 0), expected);
                    FloatBuffer actual = FloatBuffer.allocate(expected.capacity());
                    t.decodeAndApply(NAME, jpeg.getValue(), SampleRandom.forSample(seed, 1, 5, 0), actual);
                    assertEquals(expected.capacity(), actual.position(), "buffer position after the image");
                    assertArrayEquals(expected.array(), actual.array(), jpeg.getKey() + ", seed " + seed);
                    checked++;
                }
            }
        }
        assertEquals(JPEGS.size() * transforms.size() * 12, checked);
    }

    @Test
    void badInputFallsBackToTheWholeImagePath() throws Exception {
        byte[] jpeg = JPEGS.get("333x251 4:2:0");
        RgbImage full = TurboJpeg.decodeOrNull(jpeg);
        TrainTransform t = TrainTransform.pretraining(64);

        // Truncated: the rows before the cut still decode (same pixels); a region reaching past it is declined.
        byte[] truncated = Arrays.copyOf(jpeg, jpeg.length / 2);
        assertNotNull(JpegRegionDecoder.sizeOrNull(truncated), "the header is intact");
        RgbImage top = JpegRegionDecoder.decodeOrNull(truncated, 10, 0, 200, 16);
        assertNotNull(top);
        assertArrayEquals(PilResample.crop(full, 10, 0, 200, 16).pixels(), top.pixels());
        assertNull(JpegRegionDecoder.decodeOrNull(truncated, 0, 200, 333, 51), "premature end is a warning");
        for (long seed = 0; seed < 20; seed++) {
            // Whatever the crop, no exception: OpenCV decodes what the region decoder declines, as before.
            FloatBuffer out = FloatBuffer.allocate(3 * 64 * 64);
            t.decodeAndApply(NAME, truncated, SampleRandom.forSample(seed, 0, 0, 0), out);
            assertEquals(out.capacity(), out.position());
        }

        // Header only, and corrupt entropy data: declined, the whole-image path decides.
        byte[] headerOnly = Arrays.copyOf(jpeg, 700);
        assertNull(JpegRegionDecoder.decodeOrNull(headerOnly, 0, 0, 8, 8));
        byte[] corrupt = jpeg.clone();
        corrupt[jpeg.length / 4] = (byte) 0xff; // a marker inside the entropy-coded data: libjpeg warns
        corrupt[jpeg.length / 4 + 1] = 0x01;
        for (byte[] bad : List.of(headerOnly, corrupt)) {
            RgbImage region = JpegRegionDecoder.decodeOrNull(bad, 0, 0, 333, 251);
            assertNull(region, "a warning must decline the region");
            FloatBuffer out = FloatBuffer.allocate(3 * 64 * 64);
            try {
                t.decodeAndApply(NAME, bad, SampleRandom.forSample(1, 0, 0, 0), out);
            } catch (ImageDecoder.UnreadableImageException e) {
                assertTrue(e.getMessage().startsWith(NAME + ": "), e.getMessage()); // the only exception allowed
            }
        }

        // Not a JPEG the shim takes: the whole-image path, and its UnreadableImageException.
        byte[] notAnImage = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0, 1, 2, 3};
        assertNull(JpegRegionDecoder.sizeOrNull(notAnImage));
        assertNull(JpegRegionDecoder.decodeOrNull(notAnImage, 0, 0, 1, 1));
        var e = assertThrows(ImageDecoder.UnreadableImageException.class, () -> t.decodeAndApply(NAME, notAnImage,
                SampleRandom.forSample(1, 0, 0, 0), FloatBuffer.allocate(3 * 64 * 64)));
        assertTrue(e.getMessage().startsWith(NAME + ": not a decodable image"), e.getMessage());
        byte[] png = ImageDecoder.encodePng(new RgbImage(2, 1, new byte[] {1, 2, 3, 4, 5, 6}));
        assertNull(JpegRegionDecoder.sizeOrNull(png));

        // A rectangle outside the image is declined, not read out of bounds.
        assertNull(JpegRegionDecoder.decodeOrNull(jpeg, 300, 0, 34, 1));
        assertNull(JpegRegionDecoder.decodeOrNull(jpeg, 0, 251, 1, 1));
        assertNull(JpegRegionDecoder.decodeOrNull(jpeg, -1, 0, 1, 1));
    }

    /**
     * Random rectangles, plus those where libjpeg's cropping and upsampling have edges: 1-pixel-wide and -high
     * boxes, boxes starting or ending at or next to iMCU boundaries (8, 16, 32 pixels), at every image edge.
     */
    private static List<int[]> boxes(int width, int height, SplittableRandom random) {
        List<int[]> boxes = new ArrayList<>();
        boxes.add(new int[] {0, 0, width, height});
        for (int i = 0; i < 150; i++) {
            int x = random.nextInt(width);
            int y = random.nextInt(height);
            int w = 1 + random.nextInt(width - x);
            int h = 1 + random.nextInt(height - y);
            switch (i % 6) {
                case 0 -> w = 1;
                case 1 -> h = 1;
                case 2 -> x = width - w;
                case 3 -> y = height - h;
                default -> {
                }
            }
            boxes.add(new int[] {x, y, w, h});
        }
        for (int edge = 0; edge <= Math.max(width, height); edge += 8) {
            for (int d = -2; d <= 2; d++) {
                int x = Math.max(0, Math.min(width - 1, edge + d));
                int y = Math.max(0, Math.min(height - 1, edge + d));
                boxes.add(new int[] {x, y, 1 + random.nextInt(width - x), 1 + random.nextInt(height - y)});
                boxes.add(new int[] {0, 0, x + 1, y + 1}); // ending at the boundary
                boxes.add(new int[] {x, 0, 1, height});
            }
        }
        return boxes;
    }
}
