package io.milan.trainer.data;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/**
 * JPEG decoding with the system's libjpeg-turbo (Debian's {@code libturbojpeg0}, TurboJPEG API 2.x) through
 * JNA. Why not OpenCV's decoder: the libjpeg-turbo inside {@code org.openpnp:opencv} is built without its SIMD
 * code, which makes it 2.5× slower on the same files (docs/benchmarks.md, Data pipeline).
 *
 * <p>Same pixels as OpenCV's and Pillow's decode: TurboJPEG's defaults are libjpeg's (accurate integer IDCT,
 * fancy upsampling), and libjpeg-turbo's SIMD paths are bit-exact to its C code. CMYK and YCCK JPEGs are
 * decoded to CMYK and converted as Pillow converts them (Adobe-inverted, then its {@code cmyk2rgb}); OpenCV's
 * conversion differs by a level on most pixels. Anything this cannot decode (corrupt data, even a warning)
 * returns {@code null}, and the caller falls back to OpenCV, which then decides as before.
 */
final class TurboJpeg {
    private static final int TJPF_RGB = 0;
    private static final int TJPF_CMYK = 11;
    private static final int TJCS_CMYK = 3;
    private static final int TJCS_YCCK = 4;
    private static final int FLAGS = 0; // accurate IDCT, fancy upsampling: what Pillow and OpenCV use

    /** Why the library is not in use, or null when it is. */
    static final String UNAVAILABLE = load();

    /** One decompressor per thread: a TurboJPEG handle must not be shared between threads. */
    private static final ThreadLocal<Pointer> HANDLE = ThreadLocal.withInitial(TurboJpeg::tjInitDecompress);

    private TurboJpeg() {
    }

    private static String load() {
        try {
            NativeLibrary lib;
            try {
                lib = NativeLibrary.getInstance("turbojpeg");
            } catch (UnsatisfiedLinkError e) {
                lib = NativeLibrary.getInstance("libturbojpeg.so.0"); // only the runtime package: no .so link
            }
            Native.register(TurboJpeg.class, lib);
            return null;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse(""); // JNA appends its search path
            return "libturbojpeg is not loadable (" + why + "); install libturbojpeg0";
        }
    }

    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Whether the bytes start with a JPEG's start-of-image marker. */
    static boolean isJpeg(byte[] b) {
        return b.length > 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff;
    }

    /** The decoded RGB image, or null when TurboJPEG cannot decode these bytes cleanly. */
    static RgbImage decodeOrNull(byte[] jpeg) {
        if (!available()) {
            return null;
        }
        Pointer handle = HANDLE.get();
        if (handle == null) {
            return null;
        }
        NativeLong size = new NativeLong(jpeg.length);
        int[] width = new int[1];
        int[] height = new int[1];
        int[] subsampling = new int[1];
        int[] colorspace = new int[1];
        if (tjDecompressHeader3(handle, jpeg, size, width, height, subsampling, colorspace) != 0) {
            return null;
        }
        boolean cmyk = colorspace[0] == TJCS_CMYK || colorspace[0] == TJCS_YCCK;
        long bytes = (cmyk ? 4L : 3L) * width[0] * height[0];
        if (bytes > Integer.MAX_VALUE - 8) {
            return null; // OpenCV reports it
        }
        byte[] pixels = new byte[(int) bytes];
        if (tjDecompress2(handle, jpeg, size, pixels, width[0], 0, height[0], cmyk ? TJPF_CMYK : TJPF_RGB,
                FLAGS) != 0) {
            return null;
        }
        return new RgbImage(width[0], height[0], cmyk ? pillowCmykToRgb(pixels) : pixels);
    }

    /**
     * Pillow's reading of a CMYK JPEG: the stored samples are Adobe-inverted ({@code rawmode "CMYK;I"}, which
     * Pillow assumes for every CMYK JPEG), then {@code cmyk2rgb}: with nk = 255 − K, each channel is
     * nk − MULDIV255(C, nk), MULDIV255(a, b) = ((a·b + 128) + ((a·b + 128) >> 8)) >> 8.
     */
    static byte[] pillowCmykToRgb(byte[] stored) {
        byte[] rgb = new byte[stored.length / 4 * 3];
        for (int p = 0, q = 0; p < stored.length; p += 4, q += 3) {
            int nk = stored[p + 3] & 0xff; // 255 − K, K = 255 − stored
            for (int c = 0; c < 3; c++) {
                int ink = 255 - (stored[p + c] & 0xff);
                int t = ink * nk + 128;
                rgb[q + c] = (byte) Math.max(0, Math.min(255, nk - (((t >> 8) + t) >> 8)));
            }
        }
        return rgb;
    }

    private static native Pointer tjInitDecompress();

    private static native int tjDecompressHeader3(Pointer handle, byte[] jpegBuf, NativeLong jpegSize, int[] width,
            int[] height, int[] jpegSubsamp, int[] jpegColorspace);

    private static native int tjDecompress2(Pointer handle, byte[] jpegBuf, NativeLong jpegSize, byte[] dstBuf,
            int width, int pitch, int height, int pixelFormat, int flags);
}
