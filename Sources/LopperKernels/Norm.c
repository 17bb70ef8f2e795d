// Per-channel loops over [n, c, l] tensors (channel dim 1, l = the rest), for batch norm:
// statistics, the affine map, and the backward pass's sums. Each function covers channels
// c0..c1−1, so callers split channels over workers; a channel's sums always run in the
// same order (float vectors along a plane, planes added in double).
#include "LopperKernels.h"
#include "lk_wide.h"

typedef float lk_v8 __attribute__((vector_size(32)));
#pragma clang diagnostic ignored "-Wpsabi"
#define LK_INLINE static inline __attribute__((always_inline))

// Macros, not functions: a vector passed or returned across a call changes the ABI of the
// portable (SSE2) clone.
#define LK_LOAD8(p) ({ lk_v8 v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define LK_STORE8(p, v) do { lk_v8 t_ = (v); __builtin_memcpy((p), &t_, sizeof t_); } while (0)
#define LK_SPLAT8(s) ({ const float s_ = (s); (lk_v8){s_, s_, s_, s_, s_, s_, s_, s_}; })
#define LK_HSUM8(v) ({ const lk_v8 h_ = (v); (double)(((h_[0] + h_[4]) + (h_[1] + h_[5])) + ((h_[2] + h_[6]) + (h_[3] + h_[7]))); })

// Σ (p[j] − m) and Σ (p[j] − m)² over one plane of l floats.
LK_INLINE void lk_plane_moments(const float *p, long l, float m, double *s1, double *s2) {
    lk_v8 a = LK_SPLAT8(0), b = LK_SPLAT8(0);
    const lk_v8 mv = LK_SPLAT8(m);
    long j = 0;
    for (; j + 8 <= l; j += 8) { lk_v8 d = LK_LOAD8(p + j) - mv; a += d; b += d * d; }
    double t1 = LK_HSUM8(a), t2 = LK_HSUM8(b);
    for (; j < l; j++) { double d = (double)p[j] - m; t1 += d; t2 += d * d; }
    *s1 += t1; *s2 += t2;
}

LK_WIDE void lk_channel_stats(const float *restrict x, long n, long c, long l, long c0, long c1,
                              float *restrict mean, float *restrict var) {
    const double count = (double)n * (double)l;
    for (long ch = c0; ch < c1; ch++) {
        // A first pass for the mean, a second for the moments around it (shifting keeps
        // the variance accurate when the mean is large against the spread).
        double s1 = 0, s2 = 0;
        for (long i = 0; i < n; i++) lk_plane_moments(x + (i * c + ch) * l, l, 0, &s1, &s2);
        const float m = (float)(s1 / count);
        s1 = 0; s2 = 0;
        for (long i = 0; i < n; i++) lk_plane_moments(x + (i * c + ch) * l, l, m, &s1, &s2);
        const double shift = s1 / count;
        mean[ch] = (float)(m + shift);
        const double v = s2 / count - shift * shift;
        var[ch] = (float)(v > 0 ? v : 0);
    }
}

LK_WIDE void lk_channel_affine(const float *restrict x, long n, long c, long l, long c0, long c1,
                               const float *restrict scale, const float *restrict shift, float *restrict y) {
    for (long ch = c0; ch < c1; ch++) {
        const float a = scale[ch], b = shift ? shift[ch] : 0;
        const lk_v8 av = LK_SPLAT8(a), bv = LK_SPLAT8(b);
        for (long i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * l;
            float *q = y + (i * c + ch) * l;
            long j = 0;
            for (; j + 8 <= l; j += 8) LK_STORE8(q + j, LK_LOAD8(p + j) * av + bv);
            for (; j < l; j++) q[j] = p[j] * a + b;
        }
    }
}

LK_WIDE void lk_channel_grad_sums(const float *restrict x, const float *restrict g, long n, long c, long l,
                                  long c0, long c1, const float *restrict mean,
                                  float *restrict sum_g, float *restrict sum_gx) {
    for (long ch = c0; ch < c1; ch++) {
        const float m = mean ? mean[ch] : 0;
        const lk_v8 mv = LK_SPLAT8(m);
        double s1 = 0, s2 = 0;
        for (long i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * l, *q = g + (i * c + ch) * l;
            lk_v8 a = LK_SPLAT8(0), b = LK_SPLAT8(0);
            long j = 0;
            for (; j + 8 <= l; j += 8) { lk_v8 gv = LK_LOAD8(q + j); a += gv; b += gv * (LK_LOAD8(p + j) - mv); }
            double t1 = LK_HSUM8(a), t2 = LK_HSUM8(b);
            for (; j < l; j++) { t1 += q[j]; t2 += (double)q[j] * ((double)p[j] - m); }
            s1 += t1; s2 += t2;
        }
        sum_g[ch] = (float)s1;
        sum_gx[ch] = (float)s2;
    }
}

LK_WIDE void lk_channel_combine(const float *restrict x, const float *restrict g, long n, long c, long l,
                                long c0, long c1, const float *restrict a, const float *restrict b,
                                const float *restrict d, float *restrict out) {
    for (long ch = c0; ch < c1; ch++) {
        const lk_v8 av = LK_SPLAT8(a[ch]), bv = LK_SPLAT8(b[ch]), dv = LK_SPLAT8(d[ch]);
        for (long i = 0; i < n; i++) {
            const float *p = x + (i * c + ch) * l, *q = g + (i * c + ch) * l;
            float *r = out + (i * c + ch) * l;
            long j = 0;
            for (; j + 8 <= l; j += 8) LK_STORE8(r + j, av * LK_LOAD8(q + j) + bv * LK_LOAD8(p + j) + dv);
            for (; j < l; j++) r[j] = a[ch] * q[j] + b[ch] * p[j] + d[ch];
        }
    }
}
