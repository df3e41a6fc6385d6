package io.milan.trainer.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes JPEG/PNG files to RGB: JPEGs with the system's libjpeg-turbo ({@link TurboJpeg}) when it is installed
 * and the file decodes cleanly with it, everything else with OpenCV (native code from {@code org.openpnp:opencv}).
 *
 * <p>Matches torchvision's PIL loader ({@code Image.open(f).convert('RGB')}): grey images become three equal
 * channels, alpha is dropped, 16-bit PNGs are reduced to 8 bits, and the EXIF orientation is ignored (PIL
 * does not apply it; OpenCV would by default). JPEG pixels: libjpeg-turbo on all three sides with the same IDCT
 * and upsampling, so equal to Pillow's (all 256 benchmark JPEGs) and to OpenCV's (TurboJpegTest).
 *
 * <p>Training crops ({@link TrainTransform}) decode only their rectangle with {@link JpegRegionDecoder}, to the
 * same pixels (JpegRegionDecoderTest). Data below a crop is not read: a file corrupt only there, which the
 * whole-image path hands to OpenCV (which decodes past warnings to the same pixels, or gives up), yields its crop.
 */
public final class ImageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(ImageDecoder.class);

    private static final int FLAGS = Imgcodecs.IMREAD_COLOR | Imgcodecs.IMREAD_IGNORE_ORIENTATION;
    /**
     * Per-thread destination of the BGR→RGB conversion. A fresh Mat each time costs ~6× the conversion
     * itself (the allocator hands out new pages that are faulted in on first write).
     */
    private static final ThreadLocal<Mat> RGB = ThreadLocal.withInitial(Mat::new);

    static {
        nu.pattern.OpenCV.loadLocally();
        // The loader parallelises over samples; OpenCV's own thread pool would only oversubscribe the cores.
        org.opencv.core.Core.setNumThreads(1);
        if (TurboJpeg.available()) {
            LOG.info("JPEG decoder: the system's libjpeg-turbo (TurboJPEG); OpenCV for other formats");
        } else {
            LOG.warn("JPEG decoder: OpenCV's bundled libjpeg-turbo, without SIMD (about 2.5x slower): {}",
                    TurboJpeg.UNAVAILABLE);
        }
        if (JpegRegionDecoder.available()) {
            LOG.info("JPEG crops: training crops decode only their region (libmilanjpeg over libjpeg-turbo)");
        } else {
            LOG.warn("JPEG crops: training decodes whole images (~0.13 ms more per 500x375 image): {}",
                    JpegRegionDecoder.UNAVAILABLE);
        }
    }

    private ImageDecoder() {
    }

    /** Loads the native decoders and logs which one JPEGs get (idempotent; the first decode does it too). */
    public static void ensureLoaded() {
        // the static initialiser does the work
    }

    /** Decodes {@code file}; throws {@link UnreadableImageException} naming it when it cannot be read. */
    public static RgbImage decode(Path file) throws UnreadableImageException {
        return decode(file, read(file));
    }

    /** The file's bytes; throws {@link UnreadableImageException} naming it when it cannot be read. */
    public static byte[] read(Path file) throws UnreadableImageException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UnreadableImageException(file, "cannot read file: " + e, e);
        }
    }

    /**
     * Width and height from the header of a JPEG whose regions {@link #decodeRegion} can decode on their own, or
     * null: then decode the whole image.
     */
    static int[] regionDecodableSize(byte[] encoded) {
        return JpegRegionDecoder.sizeOrNull(encoded);
    }

    /**
     * The pixels of {@code box} in an image of {@code size} (from {@link #regionDecodableSize}): only the box when
     * the region decoder manages, else the whole image as {@link #decode} gives it.
     */
    static ImageRegion decodeRegion(Path file, byte[] encoded, int[] size, CropBox box)
            throws UnreadableImageException {
        RgbImage crop = JpegRegionDecoder.decodeOrNull(encoded, box.left(), box.top(), box.width(), box.height());
        if (crop != null) {
            return new ImageRegion(crop, box.left(), box.top());
        }
        RgbImage whole = decode(file, encoded);
        if (whole.width() != size[0] || whole.height() != size[1]) {
            // Cannot happen with libjpeg-turbo on both sides; the crop was drawn for the header's size.
            throw new UnreadableImageException(file, "decoded to " + whole.width() + "x" + whole.height()
                    + " but its JPEG header says " + size[0] + "x" + size[1], null);
        }
        return new ImageRegion(whole, 0, 0);
    }

    /** Pixels of an image whose (0, 0) is the image's pixel ({@code left}, {@code top}). */
    record ImageRegion(RgbImage pixels, int left, int top) {
    }

    /** Decodes encoded image bytes; {@code file} only names the source in errors. */
    public static RgbImage decode(Path file, byte[] encoded) throws UnreadableImageException {
        if (encoded.length == 0) {
            throw new UnreadableImageException(file, "file is empty", null);
        }
        if (TurboJpeg.isJpeg(encoded)) {
            RgbImage image = TurboJpeg.decodeOrNull(encoded);
            if (image != null) {
                return image;
            }
        }
        return decodeWithOpenCv(file, encoded);
    }

    /** OpenCV's decode: every format it knows, and the JPEGs TurboJPEG declined. */
    static RgbImage decodeWithOpenCv(Path file, byte[] encoded) throws UnreadableImageException {
        MatOfByte buffer = new MatOfByte(encoded);
        Mat bgr = Imgcodecs.imdecode(buffer, FLAGS);
        Mat rgb = RGB.get();
        try {
            if (bgr.empty()) {
                throw new UnreadableImageException(file, "not a decodable image (corrupt or unsupported format)",
                        null);
            }
            Imgproc.cvtColor(bgr, rgb, Imgproc.COLOR_BGR2RGB);
            byte[] pixels = new byte[(int) (rgb.total() * rgb.channels())];
            rgb.get(0, 0, pixels);
            return new RgbImage(rgb.cols(), rgb.rows(), pixels);
        } finally {
            buffer.release();
            bgr.release();
        }
    }

    /** Encodes an RGB image as PNG bytes. */
    public static byte[] encodePng(RgbImage image) {
        Mat rgb = new Mat(image.height(), image.width(), org.opencv.core.CvType.CV_8UC3);
        Mat bgr = new Mat();
        MatOfByte out = new MatOfByte();
        try {
            rgb.put(0, 0, image.pixels());
            Imgproc.cvtColor(rgb, bgr, Imgproc.COLOR_RGB2BGR);
            if (!Imgcodecs.imencode(".png", bgr, out)) {
                throw new IllegalStateException("OpenCV could not encode a PNG");
            }
            return out.toArray();
        } finally {
            rgb.release();
            bgr.release();
            out.release();
        }
    }

    /** An image file that cannot be read or decoded. */
    public static final class UnreadableImageException extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Path file;

        public UnreadableImageException(Path file, String problem, Throwable cause) {
            super(file + ": " + problem, cause);
            this.file = file;
        }

        public Path file() {
            return file;
        }
    }
}
