// Winograd F(2x2, 3x3) transforms for 3x3 stride-1 convolutions with padding 1 (see
// lk_wino_input in LopperKernels.h). A group of samples is cut into 4x4 input tiles that
// overlap by 2 and give 2x2 output tiles; the 16 transformed frequencies of every tile
// are 16 products [T, C] · [C, K] (T tiles), 2.25× fewer multiply-adds than im2col's.
//   forward  Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A
//   backward dM = A dY Aᵀ;  dV = dM Uᵀ → dd = B dV Bᵀ;  dU = Vᵀ dM → dg = Gᵀ dU G
// (the exact adjoints of the forward pass, so gradients match it to rounding).
// Channels are innermost in every transformed array, so each transform runs on 8-channel
// vectors whatever the map size (a 4x4 map has only two tiles a row).
#include <string.h>
#include "LopperKernels.h"
#include "lk_wide.h"

typedef float lk_v8 __attribute__((vector_size(32)));
#pragma clang diagnostic ignored "-Wpsabi"
#define LK_INLINE static inline __attribute__((always_inline))
LK_INLINE lk_v8 lk_ld(const float *p) { lk_v8 v; __builtin_memcpy(&v, p, sizeof v); return v; }
LK_INLINE void lk_st(float *p, lk_v8 v) { __builtin_memcpy(p, &v, sizeof v); }

// The output channel is the innermost loop, so both transforms run on vectors of it.
LK_WIDE void lk_wino_weights(const float *restrict w, long k, long c, float *restrict u) {
    for (long ch = 0; ch < c; ch++)
        for (long o = 0; o < k; o++) {
            const float *g = w + (o * c + ch) * 9;
            float t[4][3];  // G g: the kernel's columns
            for (int j = 0; j < 3; j++) {
                const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                t[0][j] = g0; t[1][j] = 0.5f * (g0 + g1 + g2); t[2][j] = 0.5f * (g0 - g1 + g2); t[3][j] = g2;
            }
            for (int a = 0; a < 4; a++) {
                const float r0 = t[a][0], r1 = t[a][1], r2 = t[a][2];
                float *f = u + ((a * 4) * c + ch) * k + o;
                f[0] = r0; f[c * k] = 0.5f * (r0 + r1 + r2); f[2 * c * k] = 0.5f * (r0 - r1 + r2); f[3 * c * k] = r2;
            }
        }
}

LK_WIDE void lk_wino_weights_grad(const float *restrict du, long k, long c, float *restrict gw) {
    const long f = c * k;  // the distance between frequencies
    for (long ch = 0; ch < c; ch++)
        for (long o = 0; o < k; o++) {
            const float *d = du + ch * k + o;
            float t[3][4];  // Gᵀ over the rows of dU
            for (int b = 0; b < 4; b++) {
                const float u0 = d[b * f], u1 = d[(4 + b) * f], u2 = d[(8 + b) * f], u3 = d[(12 + b) * f];
                t[0][b] = u0 + 0.5f * (u1 + u2); t[1][b] = 0.5f * (u1 - u2); t[2][b] = 0.5f * (u1 + u2) + u3;
            }
            float *g = gw + (o * c + ch) * 9;
            for (int i = 0; i < 3; i++) {
                const float u0 = t[i][0], u1 = t[i][1], u2 = t[i][2], u3 = t[i][3];
                g[i * 3 + 0] += u0 + 0.5f * (u1 + u2);
                g[i * 3 + 1] += 0.5f * (u1 - u2);
                g[i * 3 + 2] += 0.5f * (u1 + u2) + u3;
            }
        }
}

// Zero borders of the padded channel-innermost planes [n, h+2, w+2, c].
static void lk_wino_zero_borders(float *restrict xt, long n, long c, long h, long w) {
    const long pw = w + 2, row = pw * c;
    for (long i = 0; i < n; i++) {
        float *d = xt + i * (h + 2) * row;
        memset(d, 0, (size_t)row * sizeof *d);
        memset(d + (h + 1) * row, 0, (size_t)row * sizeof *d);
        for (long y = 1; y <= h; y++) {
            memset(d + y * row, 0, (size_t)c * sizeof *d);
            memset(d + y * row + (pw - 1) * c, 0, (size_t)c * sizeof *d);
        }
    }
}

LK_WIDE void lk_wino_pad(const float *restrict x, long n, long c, long h, long w, float *restrict xt) {
    const long pw = w + 2, hw = h * w;
    lk_wino_zero_borders(xt, n, c, h, w);
    for (long i = 0; i < n; i++)
        for (long c0 = 0; c0 < c; c0 += 8) {  // eight planes read side by side, eight channels written together
            const float *s = x + (i * c + c0) * hw;
            for (long y = 0; y < h; y++) {
                float *d = xt + ((i * (h + 2) + y + 1) * pw + 1) * c + c0;
                for (long j = 0; j < w; j++)
                    for (int q = 0; q < 8; q++) d[j * c + q] = s[q * hw + y * w + j];
            }
        }
}

LK_INLINE void lk_wino_input_body(const float *restrict xt, long n, long c, long h, long w, float *restrict v) {
    const long th = h / 2, tw = w / 2, T = n * th * tw, pw = w + 2;
    for (long i = 0; i < n; i++)
        for (long ty = 0; ty < th; ty++)
            for (long tx = 0; tx < tw; tx++) {
                const long t = (i * th + ty) * tw + tx;
                const float *d = xt + ((i * (h + 2) + 2 * ty) * pw + 2 * tx) * c;
                for (long c0 = 0; c0 < c; c0 += 8) {
                    lk_v8 r[4][4];
                    for (int b = 0; b < 4; b++) {  // Bᵀ down each column of the tile
                        const lk_v8 d0 = lk_ld(d + (0 * pw + b) * c + c0), d1 = lk_ld(d + (1 * pw + b) * c + c0);
                        const lk_v8 d2 = lk_ld(d + (2 * pw + b) * c + c0), d3 = lk_ld(d + (3 * pw + b) * c + c0);
                        r[0][b] = d0 - d2; r[1][b] = d1 + d2; r[2][b] = d2 - d1; r[3][b] = d1 - d3;
                    }
                    for (int a = 0; a < 4; a++) {  // then B along each row
                        float *out = v + ((a * 4) * T + t) * c + c0;
                        lk_st(out, r[a][0] - r[a][2]);
                        lk_st(out + T * c, r[a][1] + r[a][2]);
                        lk_st(out + 2 * T * c, r[a][2] - r[a][1]);
                        lk_st(out + 3 * T * c, r[a][1] - r[a][3]);
                    }
                }
            }
}
LK_WIDE void lk_wino_input(const float *restrict xt, long n, long c, long h, long w, float *restrict v) { lk_wino_input_body(xt, n, c, h, w, v); }

LK_INLINE void lk_wino_input_adjoint_body(const float *restrict dv, long n, long c, long h, long w,
                                   float *restrict gxt, float *restrict gx) {
    const long th = h / 2, tw = w / 2, T = n * th * tw, pw = w + 2, hw = h * w;
    memset(gxt, 0, (size_t)(n * (h + 2) * pw * c) * sizeof *gxt);
    for (long i = 0; i < n; i++)
        for (long ty = 0; ty < th; ty++)
            for (long tx = 0; tx < tw; tx++) {
                const long t = (i * th + ty) * tw + tx;
                float *d = gxt + ((i * (h + 2) + 2 * ty) * pw + 2 * tx) * c;
                for (long c0 = 0; c0 < c; c0 += 8) {
                    lk_v8 e[4][4];
                    for (int a = 0; a < 4; a++) {  // B along each row of frequencies
                        const float *u = dv + ((a * 4) * T + t) * c + c0;
                        const lk_v8 u0 = lk_ld(u), u1 = lk_ld(u + T * c), u2 = lk_ld(u + 2 * T * c), u3 = lk_ld(u + 3 * T * c);
                        e[a][0] = u0; e[a][1] = u1 - u2 + u3; e[a][2] = u1 + u2 - u0; e[a][3] = -u3;
                    }
                    for (int b = 0; b < 4; b++) {  // then down each column, added where tiles overlap
                        const lk_v8 u0 = e[0][b], u1 = e[1][b], u2 = e[2][b], u3 = e[3][b];
                        float *p0 = d + (0 * pw + b) * c + c0, *p1 = d + (1 * pw + b) * c + c0;
                        float *p2 = d + (2 * pw + b) * c + c0, *p3 = d + (3 * pw + b) * c + c0;
                        lk_st(p0, lk_ld(p0) + u0);
                        lk_st(p1, lk_ld(p1) + (u1 - u2 + u3));
                        lk_st(p2, lk_ld(p2) + (u1 + u2 - u0));
                        lk_st(p3, lk_ld(p3) - u3);
                    }
                }
            }
    for (long i = 0; i < n; i++)
        for (long c0 = 0; c0 < c; c0 += 8) {
            float *s = gx + (i * c + c0) * hw;
            for (long y = 0; y < h; y++) {
                const float *d = gxt + ((i * (h + 2) + y + 1) * pw + 1) * c + c0;
                for (long j = 0; j < w; j++)
                    for (int q = 0; q < 8; q++) s[q * hw + y * w + j] = d[j * c + q];
            }
        }
}
LK_WIDE void lk_wino_input_adjoint(const float *restrict dv, long n, long c, long h, long w,
                                   float *restrict gxt, float *restrict gx) { lk_wino_input_adjoint_body(dv, n, c, h, w, gxt, gx); }

LK_INLINE void lk_wino_output_body(const float *restrict m, long n, long k, long h, long w,
                            const float *restrict bias, float *restrict y) {
    const long th = h / 2, tw = w / 2, T = n * th * tw, hw = h * w;
    for (long i = 0; i < n; i++)
        for (long ty = 0; ty < th; ty++)
            for (long tx = 0; tx < tw; tx++) {
                const long t = (i * th + ty) * tw + tx;
                for (long k0 = 0; k0 < k; k0 += 8) {
                    lk_v8 s[2][4];
                    for (int b = 0; b < 4; b++) {  // Aᵀ down each column
                        const float *f = m + (b * T + t) * k + k0;
                        const lk_v8 m0 = lk_ld(f), m1 = lk_ld(f + 4 * T * k), m2 = lk_ld(f + 8 * T * k), m3 = lk_ld(f + 12 * T * k);
                        s[0][b] = m0 + m1 + m2; s[1][b] = m1 - m2 - m3;
                    }
                    lk_v8 add = {0, 0, 0, 0, 0, 0, 0, 0};
                    if (bias) add = lk_ld(bias + k0);
                    float *plane = y + (i * k + k0) * hw + 2 * ty * w + 2 * tx;
                    for (int r = 0; r < 2; r++) {  // then A along each row, into eight planes
                        const lk_v8 y0 = s[r][0] + s[r][1] + s[r][2] + add, y1 = s[r][1] - s[r][2] - s[r][3] + add;
                        for (int q = 0; q < 8; q++) { plane[q * hw + r * w] = y0[q]; plane[q * hw + r * w + 1] = y1[q]; }
                    }
                }
            }
}
LK_WIDE void lk_wino_output(const float *restrict m, long n, long k, long h, long w,
                            const float *restrict bias, float *restrict y) { lk_wino_output_body(m, n, k, h, w, bias, y); }

LK_INLINE void lk_wino_output_adjoint_body(const float *restrict dy, long n, long k, long h, long w, float *restrict dm) {
    const long th = h / 2, tw = w / 2, T = n * th * tw, hw = h * w;
    for (long i = 0; i < n; i++)
        for (long ty = 0; ty < th; ty++)
            for (long tx = 0; tx < tw; tx++) {
                const long t = (i * th + ty) * tw + tx;
                for (long k0 = 0; k0 < k; k0 += 8) {
                    const float *plane = dy + (i * k + k0) * hw + 2 * ty * w + 2 * tx;
                    lk_v8 g[2][2];
                    for (int r = 0; r < 2; r++)
                        for (int q = 0; q < 2; q++)
                            for (int j = 0; j < 8; j++) g[r][q][j] = plane[j * hw + r * w + q];
                    lk_v8 e[2][4];
                    for (int r = 0; r < 2; r++) {  // A along each row of the 2x2 tile
                        e[r][0] = g[r][0]; e[r][1] = g[r][0] + g[r][1]; e[r][2] = g[r][0] - g[r][1]; e[r][3] = -g[r][1];
                    }
                    for (int b = 0; b < 4; b++) {  // then down its columns
                        float *f = dm + (b * T + t) * k + k0;
                        lk_st(f, e[0][b]);
                        lk_st(f + 4 * T * k, e[0][b] + e[1][b]);
                        lk_st(f + 8 * T * k, e[0][b] - e[1][b]);
                        lk_st(f + 12 * T * k, -e[1][b]);
                    }
                }
            }
}
LK_WIDE void lk_wino_output_adjoint(const float *restrict dy, long n, long k, long h, long w, float *restrict dm) { lk_wino_output_adjoint_body(dy, n, k, h, w, dm); }
