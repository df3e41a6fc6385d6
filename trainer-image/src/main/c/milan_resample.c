/*
 * Pillow's Image.resize (libImaging/Resample.c, 8-bit RGB) of a crop, written straight into normalised,
 * optionally mirrored float planes: the native form of io.milan.trainer.data.PilResample.resizeRegionNormalized
 * (called through io.milan.trainer.data.NativeResample). The Java code is the reference; NativeResampleTest
 * checks this file's output against it bit for bit, on the AVX2 and on the plain C path.
 *
 * Arithmetic exactly as Pillow's: separable, horizontal pass first (only over the rows the vertical pass reads),
 * int32 sums of uint8 * 22-bit fixed-point weights starting at 1 << 21, then clip8 (arithmetic shift, clamp to
 * 0..255) after each pass. The weights and bounds come from Java (PilResample.Coefficients), so the double
 * math stays in one place. The AVX2 code adds the same int32 products in another order, which cannot change a
 * wrapping integer sum. Built with -fwrapv: int overflow wraps as in Java (and in the SIMD lanes).
 *
 * The AVX2 functions carry __attribute__((target("avx2"))) and are chosen at run time with
 * __builtin_cpu_supports, so the library still runs on x86-64 CPUs without AVX2 (the plain C path).
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)
#define HALF (1 << (PRECISION_BITS - 1))

/* flags of milan_resample_normalized */
#define FLAG_FLIP 1
#define FLAG_SCALAR 2 /* tests: force the plain C path */

/* One axis's coefficients (PilResample.Coefficients): per output pixel the first source index and the number
 * of source pixels (bounds[2i], bounds[2i + 1]), and `size` fixed-point weights from fixed[i * size]. */
struct coeffs {
    int size;
    const int32_t *bounds;
    const int32_t *fixed;
};

static inline uint8_t clip8(int32_t v) {
    v >>= PRECISION_BITS;
    return (uint8_t) (v < 0 ? 0 : v > 255 ? 255 : v);
}

/* ---- plain C (any x86-64; also the reference for the SIMD functions below) ---- */

/* ImagingResampleHorizontal_8bpc over `rows` rows of `src` (RGB, `stride` bytes apart) into `out`. */
static void horizontal_c(const uint8_t *src, size_t stride, int rows, const struct coeffs *k, int out_width,
        uint8_t *out, size_t out_stride) {
    for (int y = 0; y < rows; y++) {
        const uint8_t *row = src + y * stride;
        uint8_t *o = out + y * out_stride;
        for (int xx = 0; xx < out_width; xx++) {
            const uint8_t *p = row + k->bounds[2 * xx] * 3;
            const int32_t *w = k->fixed + xx * k->size;
            int count = k->bounds[2 * xx + 1];
            int32_t s0 = HALF, s1 = HALF, s2 = HALF;
            for (int x = 0; x < count; x++, p += 3) {
                s0 += p[0] * w[x];
                s1 += p[1] * w[x];
                s2 += p[2] * w[x];
            }
            o[3 * xx] = clip8(s0);
            o[3 * xx + 1] = clip8(s1);
            o[3 * xx + 2] = clip8(s2);
        }
    }
}

/* ImagingResampleVertical_8bpc for output row yy: `src` row 0 is row `skip` of the coefficients' input. */
static void vertical_row_c(const uint8_t *src, size_t stride, int skip, const struct coeffs *k, int yy,
        int length, uint8_t *out) {
    const uint8_t *first = src + (size_t) (k->bounds[2 * yy] - skip) * stride;
    const int32_t *w = k->fixed + yy * k->size;
    int count = k->bounds[2 * yy + 1];
    for (int i = 0; i < length; i++) {
        int32_t s = HALF;
        for (int y = 0; y < count; y++) {
            s += first[y * stride + i] * w[y];
        }
        out[i] = clip8(s);
    }
}

/* ToTensor + Normalize (+ mirror) of one RGB row into row y of the three planes (Normalization.PlaneWriter). */
static void normalize_row(const uint8_t *row, int width, const float *table, int flip, float *out,
        size_t plane_size) {
    float *r = out, *g = out + plane_size, *b = out + 2 * plane_size;
    for (int x = 0; x < width; x++) {
        const uint8_t *p = row + 3 * (flip ? width - 1 - x : x);
        r[x] = table[p[0]];
        g[x] = table[256 + p[1]];
        b[x] = table[512 + p[2]];
    }
}

/* ---- AVX2 ---- */

/* clip8 of 8 int32 lanes, packed to 8 bytes (lanes 0-3 then 4-7): the shift is arithmetic and the two
 * saturating packs clamp to int16 and then to 0..255, which is clip8. */
__attribute__((target("avx2")))
static inline __m128i clip8x8(__m256i v) {
    __m256i s = _mm256_srai_epi32(v, PRECISION_BITS);
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    return _mm_packus_epi16(w, w);
}

/*
 * The horizontal weights spread for horizontal_pair_avx2: per output pixel, per pair of taps, 8 int32 lanes
 * {w0, w0, w0, w1, w1, w1, 0, 0} (w1 = 0 past the last tap), `*pairs_out` pairs per output pixel. Returns NULL
 * when out of memory.
 */
static int32_t *spread_weights(const struct coeffs *k, int out_width, int *pairs_out) {
    int pairs = (k->size + 1) / 2;
    int32_t *spread = calloc((size_t) out_width * pairs * 8, sizeof(int32_t));
    if (!spread) {
        return NULL;
    }
    for (int xx = 0; xx < out_width; xx++) {
        const int32_t *w = k->fixed + xx * k->size;
        for (int x = 0; x < k->bounds[2 * xx + 1]; x++) {
            int32_t *lanes = spread + ((size_t) xx * pairs + x / 2) * 8 + (x % 2) * 3;
            lanes[0] = lanes[1] = lanes[2] = w[x];
        }
    }
    *pairs_out = pairs;
    return spread;
}

/*
 * Two rows at once, two taps per register: 8 bytes from a tap's pixel (R, G, B of it and of the next pixel,
 * and 2 bytes ignored) widened to int32 and multiplied by {w0, w0, w0, w1, w1, w1, 0, 0}; the two halves are
 * added at the end. A pair past the last tap has weight 0 but still loads, so up to 5 bytes past a row's last
 * pixel must be readable (see readable()); `out` rows need 1 byte of room after their last pixel (each 4-byte
 * store writes the next pixel's R before it is written itself). Integer sums: the order does not matter.
 */
__attribute__((target("avx2")))
static void horizontal_pair_avx2(const uint8_t *a, const uint8_t *b, const struct coeffs *k,
        const int32_t *spread, int pairs, int out_width, uint8_t *oa, uint8_t *ob) {
    const __m256i upper = _mm256_setr_epi32(3, 4, 5, 7, 7, 7, 7, 7); /* lanes 3-5 down to 0-2 */
    for (int xx = 0; xx < out_width; xx++) {
        int offset = k->bounds[2 * xx] * 3;
        const uint8_t *pa = a + offset, *pb = b + offset;
        const int32_t *w = spread + (size_t) xx * pairs * 8;
        int n = (k->bounds[2 * xx + 1] + 1) / 2;
        __m256i sa = _mm256_setzero_si256(), sb = sa;
        for (int x = 0; x < n; x++, pa += 6, pb += 6, w += 8) {
            __m256i wx = _mm256_loadu_si256((const __m256i *) w);
            __m256i va = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) pa));
            __m256i vb = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) pb));
            sa = _mm256_add_epi32(sa, _mm256_mullo_epi32(va, wx));
            sb = _mm256_add_epi32(sb, _mm256_mullo_epi32(vb, wx));
        }
        sa = _mm256_add_epi32(sa, _mm256_permutevar8x32_epi32(sa, upper));
        sb = _mm256_add_epi32(sb, _mm256_permutevar8x32_epi32(sb, upper));
        __m256i both = _mm256_inserti128_si256(sa, _mm256_castsi256_si128(sb), 1);
        __m128i packed = clip8x8(_mm256_add_epi32(both, _mm256_set1_epi32(HALF))); /* bytes 0-3: a, 4-7: b */
        uint32_t va = (uint32_t) _mm_cvtsi128_si32(packed);
        uint32_t vb = (uint32_t) _mm_extract_epi32(packed, 1);
        memcpy(oa + 3 * xx, &va, 4);
        memcpy(ob + 3 * xx, &vb, 4);
    }
}

/* The vertical pass for one output row, 32 values per step in four registers (the taps inner, so the sums
 * stay in registers), the rest in plain C. */
__attribute__((target("avx2")))
static void vertical_row_avx2(const uint8_t *src, size_t stride, int skip, const struct coeffs *k, int yy,
        int length, uint8_t *out) {
    const uint8_t *first = src + (size_t) (k->bounds[2 * yy] - skip) * stride;
    const int32_t *w = k->fixed + yy * k->size;
    int count = k->bounds[2 * yy + 1];
    int i = 0;
    for (; i + 32 <= length; i += 32) {
        __m256i s0 = _mm256_set1_epi32(HALF), s1 = s0, s2 = s0, s3 = s0;
        const uint8_t *p = first + i;
        for (int y = 0; y < count; y++, p += stride) {
            __m256i wy = _mm256_set1_epi32(w[y]);
            __m128i lo = _mm_loadu_si128((const __m128i *) p);
            __m128i hi = _mm_loadu_si128((const __m128i *) (p + 16));
            s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(lo), wy));
            s1 = _mm256_add_epi32(s1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)), wy));
            s2 = _mm256_add_epi32(s2, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(hi), wy));
            s3 = _mm256_add_epi32(s3, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)), wy));
        }
        _mm_storel_epi64((__m128i *) (out + i), clip8x8(s0));
        _mm_storel_epi64((__m128i *) (out + i + 8), clip8x8(s1));
        _mm_storel_epi64((__m128i *) (out + i + 16), clip8x8(s2));
        _mm_storel_epi64((__m128i *) (out + i + 24), clip8x8(s3));
    }
    for (; i < length; i++) {
        int32_t s = HALF;
        for (int y = 0; y < count; y++) {
            s += first[y * stride + i] * w[y];
        }
        out[i] = clip8(s);
    }
}

/* ---- the pipeline ---- */

/* Bytes past a row's last pixel that horizontal_pair_avx2 may read (and `spare` has room for). */
#define OVERREAD 5

/* `row` if its `width` pixels and OVERREAD more bytes lie before `end`, else a copy of the pixels in `spare`
 * (3 * width + OVERREAD bytes; only the source's last rows need it). */
static const uint8_t *readable(const uint8_t *row, size_t width, const uint8_t *end, uint8_t *spare) {
    if (row + 3 * width + OVERREAD <= end) {
        return row;
    }
    memcpy(spare, row, 3 * width);
    memset(spare + 3 * width, 0, OVERREAD);
    return spare;
}

/* Returns -2 when out of memory. */
static int horizontal_avx2(const uint8_t *src, size_t stride, int rows, int width, const uint8_t *end,
        const struct coeffs *k, int out_width, uint8_t *out, size_t out_stride) {
    int pairs;
    int32_t *spread = spread_weights(k, out_width, &pairs);
    uint8_t *spare_a = malloc(2 * (3 * (size_t) width + OVERREAD)); /* the last two rows may both need it */
    if (!spread || !spare_a) {
        free(spread);
        free(spare_a);
        return -2;
    }
    uint8_t *spare_b = spare_a + 3 * (size_t) width + OVERREAD;
    for (int y = 0; y < rows; y += 2) {
        const uint8_t *a = readable(src + y * stride, width, end, spare_a);
        /* odd count: the last row twice, one result kept */
        const uint8_t *b = y + 1 < rows ? readable(src + (y + 1) * stride, width, end, spare_b) : a;
        uint8_t *ob = out + (y + 1 < rows ? y + 1 : y) * out_stride;
        horizontal_pair_avx2(a, b, k, spread, pairs, out_width, out + y * out_stride, ob);
    }
    free(spread);
    free(spare_a);
    return 0;
}

/*
 * Resamples the crop (left, top, width × height) of the RGB image `src` (`src_length` bytes, rows `stride`
 * bytes apart) to out_width × out_height and writes it as three float planes (R, G, B; out_width × out_height
 * each, channel-major) to `out`: table[c * 256 + v] for value v of channel c, mirrored left-right with
 * FLAG_FLIP. h_bounds/h_fixed (h_size weights per output column) are null when width == out_width (no
 * horizontal pass, as Pillow), likewise v_* when height == out_height. Returns 1 when the AVX2 path ran, 0 for
 * plain C, negative on a bad argument or no memory (the caller then uses the Java code).
 */
int milan_resample_normalized(const uint8_t *src, int64_t src_length, int stride, int left, int top, int width,
        int height, int out_width, int out_height, int h_size, const int32_t *h_bounds, const int32_t *h_fixed,
        int v_size, const int32_t *v_bounds, const int32_t *v_fixed, const float *table, int flags, float *out) {
    if (!src || !table || !out || left < 0 || top < 0 || width < 1 || height < 1 || out_width < 1
            || out_height < 1 || stride < 3 * (left + width)
            || (int64_t) stride * (top + height - 1) + 3 * (int64_t) (left + width) > src_length
            || (width != out_width && (!h_bounds || !h_fixed || h_size < 1))
            || (height != out_height && (!v_bounds || !v_fixed || v_size < 1))) {
        return -1;
    }
    int avx2 = !(flags & FLAG_SCALAR) && __builtin_cpu_supports("avx2");
    int flip = flags & FLAG_FLIP;
    struct coeffs h = {h_size, h_bounds, h_fixed}, v = {v_size, v_bounds, v_fixed};
    const uint8_t *crop = src + (size_t) top * stride + 3 * (size_t) left;
    size_t plane = (size_t) out_width * out_height;
    size_t length = 3 * (size_t) out_width;
    /* The crop rows the vertical pass reads, as Pillow (all of them without a vertical pass). */
    int first = height != out_height ? v.bounds[0] : 0;
    int last = height != out_height ? v.bounds[2 * (out_height - 1)] + v.bounds[2 * (out_height - 1) + 1] : height;
    int rows = last - first;

    /* The horizontal pass's output (or the crop itself without one), rows a few bytes longer for the AVX2
     * stores, and `line` for one output row of the vertical pass. */
    size_t temp_stride = length + 4;
    uint8_t *temp = NULL;
    uint8_t *line = malloc(length);
    const uint8_t *rows_src = crop + (size_t) first * stride;
    size_t rows_stride = stride;
    if (!line) {
        return -2;
    }
    if (width != out_width) {
        temp = malloc(temp_stride * rows);
        if (!temp || (avx2 ? horizontal_avx2(rows_src, stride, rows, width, src + src_length, &h, out_width,
                                     temp, temp_stride)
                           : (horizontal_c(rows_src, stride, rows, &h, out_width, temp, temp_stride), 0))) {
            free(temp);
            free(line);
            return -2;
        }
        rows_src = temp;
        rows_stride = temp_stride;
    }
    for (int yy = 0; yy < out_height; yy++) {
        const uint8_t *row;
        if (height != out_height) {
            /* bounds count from crop row 0; rows_src starts at crop row `first` */
            if (avx2) {
                vertical_row_avx2(rows_src, rows_stride, first, &v, yy, (int) length, line);
            } else {
                vertical_row_c(rows_src, rows_stride, first, &v, yy, (int) length, line);
            }
            row = line;
        } else {
            row = rows_src + (size_t) yy * rows_stride;
        }
        normalize_row(row, out_width, table, flip, out + (size_t) yy * out_width, plane);
    }
    free(temp);
    free(line);
    return avx2;
}

/* Whether milan_resample_normalized takes the AVX2 path on this CPU (for the trainer's log). */
int milan_resample_uses_avx2(void) {
    return __builtin_cpu_supports("avx2") != 0;
}
