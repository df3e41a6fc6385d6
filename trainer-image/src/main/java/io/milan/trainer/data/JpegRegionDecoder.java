package io.milan.trainer.data;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;

/**
 * Decodes only a rectangle of a JPEG: our C shim over the system's libjpeg-turbo ({@code src/main/c/milan_jpeg.c},
 * built into the classes as {@code linux-x86-64/libmilanjpeg.so}). A RandomResizedCrop keeps 20–100% of the
 * image; the rows below the crop are not decoded at all, those above only entropy-decoded, and the columns
 * beside it skip the IDCT, upsampling and colour conversion.
 *
 * <p>The pixels are those of {@link TurboJpeg}'s full decode (same library and settings; the shim decodes a
 * margin around the rectangle where libjpeg's cropped upsampling differs). Anything it declines (not YCbCr or
 * grey, any libjpeg warning or error) returns {@code null}, and the caller decodes the whole image as before.
 */
final class JpegRegionDecoder {

    /** Why the shim is not in use, or null when it is. */
    static final String UNAVAILABLE = load();

    private JpegRegionDecoder() {
    }

    private static String load() {
        try {
            // JNA finds linux-x86-64/libmilanjpeg.so on the classpath (extracting it from the jar if needed).
            Native.register(JpegRegionDecoder.class, NativeLibrary.getInstance("milanjpeg"));
            return null;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse(""); // JNA appends its search path
            return "the JPEG region decoder libmilanjpeg is not loadable (" + why
                    + "); it is built by the trainer's Maven build and needs libjpeg62-turbo";
        }
    }

    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Width and height of a JPEG this decoder can decode, or null (not a JPEG, unsupported, or no shim). */
    static int[] sizeOrNull(byte[] jpeg) {
        if (!available() || !TurboJpeg.isJpeg(jpeg)) {
            return null;
        }
        int[] info = new int[3];
        if (milan_jpeg_info(jpeg, new NativeLong(jpeg.length), info) != 0) {
            return null;
        }
        return new int[] {info[0], info[1]};
    }

    /** Pixels [x, x + w) × [y, y + h) as an RGB image, or null when the shim declines or fails. */
    static RgbImage decodeOrNull(byte[] jpeg, int x, int y, int w, int h) {
        if (!available() || w < 1 || h < 1 || (long) w * h * 3 > Integer.MAX_VALUE - 8) {
            return null;
        }
        byte[] pixels = new byte[w * h * 3];
        if (milan_jpeg_decode_region(jpeg, new NativeLong(jpeg.length), x, y, w, h, pixels) != 0) {
            return null;
        }
        return new RgbImage(w, h, pixels);
    }

    private static native int milan_jpeg_info(byte[] jpeg, NativeLong size, int[] info);

    private static native int milan_jpeg_decode_region(byte[] jpeg, NativeLong size, int x, int y, int w, int h,
            byte[] out);
}
