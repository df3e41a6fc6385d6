/*
 * Decodes one rectangle of a JPEG with the system's libjpeg-turbo (libjpeg API), for the trainer's data
 * pipeline (io.milan.trainer.data.JpegRegionDecoder): a RandomResizedCrop only reads its crop, so the rows
 * below it need no decoding at all, the rows above it only their entropy decoding (jpeg_skip_scanlines), and
 * the columns beside it no IDCT, upsampling or colour conversion (jpeg_crop_scanline).
 *
 * The pixels must equal those of a full decode (TurboJPEG's tjDecompress2 to RGB, flags 0): same library,
 * accurate integer IDCT, fancy upsampling, RGB output. libjpeg widens a column crop to iMCU boundaries, and its
 * fancy upsampling then treats the widened region's left and right edges as image edges, so the outer chroma
 * columns there differ from a full decode. We therefore ask for MARGIN more columns on each side and copy out
 * only the requested ones (JpegRegionDecoderTest checks the equality byte for byte).
 *
 * Anything unusual (not YCbCr or greyscale, any libjpeg warning such as corrupt or truncated data, any error)
 * returns a negative value; the Java side then falls back to the full decode, which decides as before.
 * libjpeg reports errors through longjmp, which cannot cross JNA frames: hence this shim.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

/* Columns decoded beyond each side of the request: fancy upsampling reads one chroma sample (two pixels at
 * 2x horizontal subsampling) to each side. The tests (4:4:4, 4:4:0, 4:2:2, 4:2:0, 4:1:1, grey, progressive)
 * pass with 2 and fail with 1; 4 leaves headroom at no measurable cost (the crop widens to an iMCU anyway). */
#ifndef MARGIN
#define MARGIN 4
#endif

struct error_manager {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
};

static void fail(j_common_ptr cinfo) {
    longjmp(((struct error_manager *) cinfo->err)->jump, 1);
}

/* Level -1 is a warning (corrupt data, premature end of file): TurboJPEG's full decode declines those too.
 * Levels >= 0 are trace messages, off by default. */
static void on_message(j_common_ptr cinfo, int level) {
    if (level < 0) {
        fail(cinfo);
    }
}

/* Errors and warnings end the decode through err->jump (the caller's setjmp: it must be in the caller's frame). */
static void use_error_manager(j_decompress_ptr cinfo, struct error_manager *err) {
    cinfo->err = jpeg_std_error(&err->pub);
    err->pub.error_exit = fail;
    err->pub.emit_message = on_message;
}

/* Reads the header; 0 when this decoder takes the image (then width/height are set), negative otherwise. */
static int read_header(j_decompress_ptr cinfo, const unsigned char *jpeg, unsigned long size) {
    jpeg_mem_src(cinfo, jpeg, size);
    if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
        return -2;
    }
    if (cinfo->jpeg_color_space != JCS_YCbCr && cinfo->jpeg_color_space != JCS_GRAYSCALE) {
        return -3; /* CMYK, YCCK, RGB-coded: left to the full decode */
    }
    /* What tjDecompress2(..., TJPF_RGB, 0) sets: RGB out, accurate IDCT, fancy upsampling, no scaling. */
    cinfo->out_color_space = JCS_EXT_RGB;
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->do_fancy_upsampling = TRUE;
    cinfo->scale_num = cinfo->scale_denom = 1;
    return 0;
}

/*
 * info[0] = width, info[1] = height, info[2] = components. Returns 0 when milan_jpeg_decode_region can decode
 * this image (YCbCr or greyscale), negative when not (then info is unspecified).
 */
int milan_jpeg_info(const unsigned char *jpeg, unsigned long size, int *info) {
    struct jpeg_decompress_struct cinfo;
    struct error_manager err;
    int result;
    use_error_manager(&cinfo, &err);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    result = read_header(&cinfo, jpeg, size);
    info[0] = (int) cinfo.image_width;
    info[1] = (int) cinfo.image_height;
    info[2] = cinfo.num_components;
    jpeg_destroy_decompress(&cinfo);
    return result;
}

/*
 * Decodes pixels [x, x + w) x [y, y + h) to RGB, row-major, into out (w * h * 3 bytes). Returns 0, or a
 * negative value when the rectangle does not fit the image or libjpeg reports any warning or error.
 */
int milan_jpeg_decode_region(const unsigned char *jpeg, unsigned long size, int x, int y, int w, int h,
                             unsigned char *out) {
    struct jpeg_decompress_struct cinfo;
    struct error_manager err;
    int result;
    use_error_manager(&cinfo, &err);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo); /* frees libjpeg's pools, the row buffer with them */
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    result = read_header(&cinfo, jpeg, size);
    if (result == 0 && (x < 0 || y < 0 || w < 1 || h < 1 || (unsigned) x + (unsigned) w > cinfo.image_width
                        || (unsigned) y + (unsigned) h > cinfo.image_height)) {
        result = -4;
    }
    if (result != 0) {
        jpeg_destroy_decompress(&cinfo);
        return result;
    }
    jpeg_start_decompress(&cinfo);

    /* Columns [first, end) with the margin, clamped to the image; libjpeg moves first down to an iMCU
     * boundary and reports where the decoded rows start (crop_x) and how wide they are (crop_w). */
    JDIMENSION first = x > MARGIN ? (JDIMENSION) (x - MARGIN) : 0;
    JDIMENSION end = (JDIMENSION) (x + w) + MARGIN < cinfo.output_width ? (JDIMENSION) (x + w) + MARGIN
                                                                        : cinfo.output_width;
    JDIMENSION crop_x = first;
    JDIMENSION crop_w = end - first;
    if (crop_x > 0 || crop_w < cinfo.output_width) {
        jpeg_crop_scanline(&cinfo, &crop_x, &crop_w);
    } else {
        crop_x = 0;
        crop_w = cinfo.output_width;
    }
    /* One output row, from libjpeg's image pool (its allocation failure is an error like any other). */
    JSAMPARRAY rows = (*cinfo.mem->alloc_sarray)((j_common_ptr) &cinfo, JPOOL_IMAGE, crop_w * 3, 1);
    /* Rows above: entropy-decoded only (libjpeg decodes the iMCU row before y itself when upsampling needs
     * it as context). Rows below y + h are never read. */
    if (y > 0 && jpeg_skip_scanlines(&cinfo, (JDIMENSION) y) != (JDIMENSION) y) {
        result = -6;
    }
    size_t skip = (size_t) (x - (int) crop_x) * 3;
    for (int r = 0; result == 0 && r < h; r++) {
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
            result = -7; /* suspended: cannot happen with a memory source, but never copy stale data */
            break;
        }
        memcpy(out + (size_t) r * w * 3, rows[0] + skip, (size_t) w * 3);
    }
    /* The rest of the file is not needed: destroying the decompressor aborts it. */
    jpeg_destroy_decompress(&cinfo);
    return result;
}
