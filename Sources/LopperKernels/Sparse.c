// Compressed sparse rows × dense, for pruned layers at inference.
#include "LopperKernels.h"
#include "lk_wide.h"

// Rows r0..r1−1 of yt = bias + A·xt for n samples a row (the axpy runs vectorise).
LK_WIDE
static void csr_rows(const int32_t *restrict rowptr, const int32_t *restrict col, const float *restrict val,
                     const float *restrict bias, const float *restrict xt, long n, float *restrict yt, long r0, long r1) {
    for (long r = r0; r < r1; r++) {
        float *restrict y = yt + r * n;
        const float b = bias ? bias[r] : 0;
        for (long j = 0; j < n; j++) y[j] = b;
        for (long k = rowptr[r]; k < rowptr[r + 1]; k++) {
            const float v = val[k];
            const float *restrict x = xt + (long)col[k] * n;
            for (long j = 0; j < n; j++) y[j] += v * x[j];
        }
    }
}
#if defined(__x86_64__)
#include <immintrin.h>

// One row's Σ val[k] · x[col[k]] with AVX2 gathers, eight nonzeros at a time.
__attribute__((target("avx2,fma")))
static float row_dot_avx2(const int32_t *restrict col, const float *restrict val, const float *restrict x,
                          long k, long end) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    for (; k + 16 <= end; k += 16) {
        __m256i i0 = _mm256_loadu_si256((const __m256i *)(col + k));
        __m256i i1 = _mm256_loadu_si256((const __m256i *)(col + k + 8));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(val + k), _mm256_i32gather_ps(x, i0, 4), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(val + k + 8), _mm256_i32gather_ps(x, i1, 4), a1);
    }
    if (k + 8 <= end) {
        __m256i i0 = _mm256_loadu_si256((const __m256i *)(col + k));
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(val + k), _mm256_i32gather_ps(x, i0, 4), a0);
        k += 8;
    }
    float s[8];
    _mm256_storeu_ps(s, _mm256_add_ps(a0, a1));
    float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; k < end; k++) t += val[k] * x[col[k]];
    return t;
}
#endif

// yt[r, 0..n) = bias[r] + Σ_k val[k] · xt[col[k], 0..n) for rows r0..r1−1, with xt [in, n]
// and yt [rows, n] row-major (one sample: n = 1, a plain CSR matrix-vector product); bias
// may be NULL.
void lk_csr_matmul(const int32_t *restrict rowptr, const int32_t *restrict col, const float *restrict val,
                   const float *restrict bias, const float *restrict xt, long n, float *restrict yt, long r0, long r1) {
    if (n == 1) {
#if defined(__x86_64__)
        static int level = -1;
        if (level < 0) level = lk_cpu_level();
        if (level >= 1) {
            for (long r = r0; r < r1; r++) yt[r] = row_dot_avx2(col, val, xt, rowptr[r], rowptr[r + 1]) + (bias ? bias[r] : 0);
            return;
        }
#endif
        for (long r = r0; r < r1; r++) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            long k = rowptr[r], end = rowptr[r + 1];
            for (; k + 4 <= end; k += 4) {
                s0 += val[k] * xt[col[k]];
                s1 += val[k + 1] * xt[col[k + 1]];
                s2 += val[k + 2] * xt[col[k + 2]];
                s3 += val[k + 3] * xt[col[k + 3]];
            }
            for (; k < end; k++) s0 += val[k] * xt[col[k]];
            yt[r] = (s0 + s1) + (s2 + s3) + (bias ? bias[r] : 0);
        }
        return;
    }
    csr_rows(rowptr, col, val, bias, xt, n, yt, r0, r1);
}

// One sample through the same matrix stored as sliced ELL (SELL-8): rows sorted by length,
// eight a slice, slice s holding len[s] columns of eight entries (short rows padded with
// zeros at column 0). Lane i of a slice is one row, so eight rows advance together with no
// horizontal sums and no per-row tails; on AMD's cores eight scalar loads beat a gather.
// y[perm[8s + i]] = bias + Σ_k val · x[col] for the rows < rows.
#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void sell8_avx2(const int32_t *restrict start, const int32_t *restrict len, const int32_t *restrict col,
                       const float *restrict val, const int32_t *restrict perm, const float *restrict bias,
                       const float *restrict x, float *restrict y, long slices, long rows) {
    for (long s = 0; s < slices; s++) {
        __m256 acc = _mm256_setzero_ps();
        const int32_t *c = col + start[s];
        const float *v = val + start[s];
        for (long k = 0; k < len[s]; k++, c += 8, v += 8) {
            __m256 g = _mm256_setr_ps(x[c[0]], x[c[1]], x[c[2]], x[c[3]], x[c[4]], x[c[5]], x[c[6]], x[c[7]]);
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(v), g, acc);
        }
        float out[8];
        _mm256_storeu_ps(out, acc);
        for (long i = 0; i < 8 && 8 * s + i < rows; i++) {
            long r = perm[8 * s + i];
            y[r] = out[i] + (bias ? bias[r] : 0);
        }
    }
}
#endif

void lk_sell8_matvec(const int32_t *restrict start, const int32_t *restrict len, const int32_t *restrict col,
                     const float *restrict val, const int32_t *restrict perm, const float *restrict bias,
                     const float *restrict x, float *restrict y, long slices, long rows) {
#if defined(__x86_64__)
    static int level = -1;
    if (level < 0) level = lk_cpu_level();
    if (level >= 1) { sell8_avx2(start, len, col, val, perm, bias, x, y, slices, rows); return; }
#endif
    for (long s = 0; s < slices; s++) {
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        const int32_t *c = col + start[s];
        const float *v = val + start[s];
        for (long k = 0; k < len[s]; k++, c += 8, v += 8)
            for (int i = 0; i < 8; i++) acc[i] += v[i] * x[c[i]];
        for (long i = 0; i < 8 && 8 * s + i < rows; i++) {
            long r = perm[8 * s + i];
            y[r] = acc[i] + (bias ? bias[r] : 0);
        }
    }
}
