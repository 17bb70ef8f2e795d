// Direct stride-1 convolution kernels (see lk_conv_wide in LopperKernels.h).
#include "LopperKernels.h"
#include "lk_wide.h"

// Direct convolution kernels: 8-float vectors (AVX2 in the x86-64-v3 clone), output
// channels in register blocks, so each input vector loaded feeds several outputs.
// The helpers are always inlined, so the vector-ABI warning for the SSE2 build is moot.
typedef float lk_v8 __attribute__((vector_size(32)));
#pragma clang diagnostic ignored "-Wpsabi"
#define LK_INLINE static inline __attribute__((always_inline))

LK_INLINE lk_v8 lk_load8(const float *p) { lk_v8 v; __builtin_memcpy(&v, p, sizeof v); return v; }
LK_INLINE void lk_store8(float *p, lk_v8 v) { __builtin_memcpy(p, &v, sizeof v); }
LK_INLINE lk_v8 lk_splat8(float s) { return (lk_v8){s, s, s, s, s, s, s, s}; }
LK_INLINE float lk_hsum8(lk_v8 v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

// `ob` output channels (a constant after inlining) at 16 positions starting at p.
LK_INLINE void
lk_conv_wide_block(const float *restrict x, long c, long xplane, long xw, const float *restrict w,
                   long kh, long kw, float *restrict out, long np, long p, const int ob) {
    lk_v8 a0[6], a1[6];
    for (int k = 0; k < ob; k++) { a0[k] = lk_splat8(0); a1[k] = lk_splat8(0); }
    const long taps = c * kh * kw;
    for (long ch = 0; ch < c; ch++)
        for (long i = 0; i < kh; i++)
            for (long j = 0; j < kw; j++) {
                const float *src = x + ch * xplane + i * xw + j + p;
                const lk_v8 v0 = lk_load8(src), v1 = lk_load8(src + 8);
                const float *wt = w + (ch * kh + i) * kw + j;
                for (int k = 0; k < ob; k++) {
                    const lk_v8 s = lk_splat8(wt[k * taps]);
                    a0[k] += s * v0;
                    a1[k] += s * v1;
                }
            }
    for (int k = 0; k < ob; k++) { lk_store8(out + k * np + p, a0[k]); lk_store8(out + k * np + p + 8, a1[k]); }
}

LK_WIDE void lk_conv_wide(const float *restrict x, long c, long xplane, long xw,
                          const float *restrict w, long o, long kh, long kw, float *restrict out, long np) {
    if (np % 32 == 0 && lk_wide512()) { lk_conv_wide512(x, c, xplane, xw, w, o, kh, kw, out, np); return; }
    const long taps = c * kh * kw;
    for (long o0 = 0; o0 < o; o0 += 6) {
        const float *wb = w + o0 * taps;
        float *ob = out + o0 * np;
        for (long p = 0; p < np; p += 16)
            switch (o - o0 >= 6 ? 6 : o - o0) {
            case 6: lk_conv_wide_block(x, c, xplane, xw, wb, kh, kw, ob, np, p, 6); break;
            case 5: lk_conv_wide_block(x, c, xplane, xw, wb, kh, kw, ob, np, p, 5); break;
            case 4: lk_conv_wide_block(x, c, xplane, xw, wb, kh, kw, ob, np, p, 4); break;
            case 3: lk_conv_wide_block(x, c, xplane, xw, wb, kh, kw, ob, np, p, 3); break;
            case 2: lk_conv_wide_block(x, c, xplane, xw, wb, kh, kw, ob, np, p, 2); break;
            default: lk_conv_wide_block(x, c, xplane, xw, wb, kh, kw, ob, np, p, 1); break;
            }
    }
}

// `ob` output channels by `tb` consecutive taps of one input channel, summed over all np
// positions (constants after inlining).
LK_INLINE void
lk_conv_wgrad_block(const float *restrict x, long xw, long kw, const float *restrict g, long np,
                    long t0, float *restrict gw, long taps, const int ob, const int tb) {
    lk_v8 acc[4][3];
    long off[3];
    for (int t = 0; t < tb; t++) off[t] = (t0 + t) / kw * xw + (t0 + t) % kw;
    for (int k = 0; k < ob; k++) for (int t = 0; t < tb; t++) acc[k][t] = lk_splat8(0);
    for (long p = 0; p < np; p += 8) {
        lk_v8 v[3], gv[4];
        for (int t = 0; t < tb; t++) v[t] = lk_load8(x + off[t] + p);
        for (int k = 0; k < ob; k++) gv[k] = lk_load8(g + k * np + p);
        for (int k = 0; k < ob; k++) for (int t = 0; t < tb; t++) acc[k][t] += gv[k] * v[t];
    }
    for (int k = 0; k < ob; k++) for (int t = 0; t < tb; t++) gw[k * taps + t0 + t] += lk_hsum8(acc[k][t]);
}

LK_WIDE void lk_conv_wide_weight_grad(const float *restrict x, long c, long xplane, long xw,
                                      const float *restrict g, long o, long np, long kh, long kw, float *restrict gw) {
    if (np % 16 == 0 && lk_wide512()) { lk_conv_wide_weight_grad512(x, c, xplane, xw, g, o, np, kh, kw, gw); return; }
    const long taps = c * kh * kw, plane_taps = kh * kw;
    for (long o0 = 0; o0 < o; o0 += 4) {
        const int ob = o - o0 >= 4 ? 4 : (int)(o - o0);
        const float *gb = g + o0 * np;
        for (long ch = 0; ch < c; ch++) {
            const float *xc = x + ch * xplane;
            float *gwc = gw + o0 * taps + ch * plane_taps;
            for (long t0 = 0; t0 < plane_taps; t0 += 3) {
                const int tb = plane_taps - t0 >= 3 ? 3 : (int)(plane_taps - t0);
#define LK_WGRAD(OB, TB) lk_conv_wgrad_block(xc, xw, kw, gb, np, t0, gwc, taps, OB, TB)
                if (ob == 4) { if (tb == 3) LK_WGRAD(4, 3); else if (tb == 2) LK_WGRAD(4, 2); else LK_WGRAD(4, 1); }
                else if (ob == 3) { if (tb == 3) LK_WGRAD(3, 3); else if (tb == 2) LK_WGRAD(3, 2); else LK_WGRAD(3, 1); }
                else if (ob == 2) { if (tb == 3) LK_WGRAD(2, 3); else if (tb == 2) LK_WGRAD(2, 2); else LK_WGRAD(2, 1); }
                else { if (tb == 3) LK_WGRAD(1, 3); else if (tb == 2) LK_WGRAD(1, 2); else LK_WGRAD(1, 1); }
#undef LK_WGRAD
            }
        }
    }
}

