// AVX-512 versions of the direct convolution kernels (ConvDirect.c): 16-float vectors and
// larger register blocks (8 outputs × 32 positions forward, 6 outputs × 3 taps for the
// weight gradient). lk_conv_wide and lk_conv_wide_weight_grad call them when the
// processor has AVX-512 and lk_set_wide512 has not turned them off.
#include "LopperKernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LK_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define LK_INLINE512 static inline __attribute__((always_inline)) LK_AVX512

static int lk_wide512_state = -1;   // -1: not decided yet

int lk_wide512(void) {
    if (lk_wide512_state < 0) lk_wide512_state = lk_cpu_level() >= 2;
    return lk_wide512_state;
}

void lk_set_wide512(int on) { lk_wide512_state = on && lk_cpu_level() >= 2; }

// `ob` output channels (a constant after inlining) at 32 positions starting at p.
LK_INLINE512 void
lk_block512(const float *restrict x, long c, long xplane, long xw, const float *restrict w,
            long kh, long kw, float *restrict out, long np, long p, const int ob) {
    __m512 a0[8], a1[8];
    for (int k = 0; k < ob; k++) { a0[k] = _mm512_setzero_ps(); a1[k] = _mm512_setzero_ps(); }
    const long taps = c * kh * kw;
    for (long ch = 0; ch < c; ch++)
        for (long i = 0; i < kh; i++)
            for (long j = 0; j < kw; j++) {
                const float *src = x + ch * xplane + i * xw + j + p;
                const __m512 v0 = _mm512_loadu_ps(src), v1 = _mm512_loadu_ps(src + 16);
                const float *wt = w + (ch * kh + i) * kw + j;
                for (int k = 0; k < ob; k++) {
                    const __m512 s = _mm512_set1_ps(wt[k * taps]);
                    a0[k] = _mm512_fmadd_ps(s, v0, a0[k]);
                    a1[k] = _mm512_fmadd_ps(s, v1, a1[k]);
                }
            }
    for (int k = 0; k < ob; k++) {
        _mm512_storeu_ps(out + k * np + p, a0[k]);
        _mm512_storeu_ps(out + k * np + p + 16, a1[k]);
    }
}

LK_AVX512 void lk_conv_wide512(const float *restrict x, long c, long xplane, long xw,
                               const float *restrict w, long o, long kh, long kw, float *restrict out, long np) {
    const long taps = c * kh * kw;
    for (long o0 = 0; o0 < o; o0 += 8) {
        const float *wb = w + o0 * taps;
        float *ob = out + o0 * np;
        const long left = o - o0;
        for (long p = 0; p < np; p += 32)
            switch (left >= 8 ? 8 : left) {
            case 8: lk_block512(x, c, xplane, xw, wb, kh, kw, ob, np, p, 8); break;
            case 7: lk_block512(x, c, xplane, xw, wb, kh, kw, ob, np, p, 7); break;
            case 6: lk_block512(x, c, xplane, xw, wb, kh, kw, ob, np, p, 6); break;
            case 5: lk_block512(x, c, xplane, xw, wb, kh, kw, ob, np, p, 5); break;
            case 4: lk_block512(x, c, xplane, xw, wb, kh, kw, ob, np, p, 4); break;
            case 3: lk_block512(x, c, xplane, xw, wb, kh, kw, ob, np, p, 3); break;
            case 2: lk_block512(x, c, xplane, xw, wb, kh, kw, ob, np, p, 2); break;
            default: lk_block512(x, c, xplane, xw, wb, kh, kw, ob, np, p, 1); break;
            }
    }
}

// `ob` output channels by `tb` consecutive taps of one input channel, over all np positions.
LK_INLINE512 void
lk_wgrad_block512(const float *restrict x, long xw, long kw, const float *restrict g, long np,
                  long t0, float *restrict gw, long taps, const int ob, const int tb) {
    __m512 acc[6][3];
    long off[3];
    for (int t = 0; t < tb; t++) off[t] = (t0 + t) / kw * xw + (t0 + t) % kw;
    for (int k = 0; k < ob; k++) for (int t = 0; t < tb; t++) acc[k][t] = _mm512_setzero_ps();
    for (long p = 0; p < np; p += 16) {
        __m512 v[3], gv[6];
        for (int t = 0; t < tb; t++) v[t] = _mm512_loadu_ps(x + off[t] + p);
        for (int k = 0; k < ob; k++) gv[k] = _mm512_loadu_ps(g + k * np + p);
        for (int k = 0; k < ob; k++) for (int t = 0; t < tb; t++) acc[k][t] = _mm512_fmadd_ps(gv[k], v[t], acc[k][t]);
    }
    for (int k = 0; k < ob; k++) for (int t = 0; t < tb; t++) gw[k * taps + t0 + t] += _mm512_reduce_add_ps(acc[k][t]);
}

LK_AVX512 void lk_conv_wide_weight_grad512(const float *restrict x, long c, long xplane, long xw,
                                           const float *restrict g, long o, long np, long kh, long kw, float *restrict gw) {
    const long taps = c * kh * kw, plane_taps = kh * kw;
    for (long o0 = 0; o0 < o; o0 += 6) {
        const int ob = o - o0 >= 6 ? 6 : (int)(o - o0);
        const float *gb = g + o0 * np;
        for (long ch = 0; ch < c; ch++) {
            const float *xc = x + ch * xplane;
            float *gwc = gw + o0 * taps + ch * plane_taps;
            for (long t0 = 0; t0 < plane_taps; t0 += 3) {
                const int tb = plane_taps - t0 >= 3 ? 3 : (int)(plane_taps - t0);
#define LK_W(OB) do { if (tb == 3) lk_wgrad_block512(xc, xw, kw, gb, np, t0, gwc, taps, OB, 3); \
                      else if (tb == 2) lk_wgrad_block512(xc, xw, kw, gb, np, t0, gwc, taps, OB, 2); \
                      else lk_wgrad_block512(xc, xw, kw, gb, np, t0, gwc, taps, OB, 1); } while (0)
                switch (ob) {
                case 6: LK_W(6); break; case 5: LK_W(5); break; case 4: LK_W(4); break;
                case 3: LK_W(3); break; case 2: LK_W(2); break; default: LK_W(1); break;
                }
#undef LK_W
            }
        }
    }
}
#else
int lk_wide512(void) { return 0; }
void lk_set_wide512(int on) { (void)on; }
void lk_conv_wide512(const float *x, long c, long xplane, long xw, const float *w, long o, long kh, long kw, float *out, long np) {}
void lk_conv_wide_weight_grad512(const float *x, long c, long xplane, long xw, const float *g, long o, long np, long kh, long kw, float *gw) {}
#endif
