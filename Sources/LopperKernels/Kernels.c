#include "LopperKernels.h"
#include <math.h>

#include "lk_wide.h"

LK_WIDE void lk_adam_update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                    size_t n, float beta1, float beta2, float step_size, float root_bc2, float eps,
                    float l2, float shrink) {
    const float c1 = 1.0f - beta1, c2 = 1.0f - beta2, inv_root = 1.0f / root_bc2;
    for (size_t k = 0; k < n; k++) {
        float d = g[k] + l2 * w[k];
        float mk = beta1 * m[k] + c1 * d;
        float vk = beta2 * v[k] + c2 * d * d;
        m[k] = mk;
        v[k] = vk;
        w[k] = w[k] * shrink - step_size * mk / (sqrtf(vk) * inv_root + eps);
    }
}

LK_WIDE void lk_sgd_update(float *restrict w, const float *restrict g, float *restrict b, size_t n,
                   float lr, float momentum, float dampening, float weight_decay, int nesterov, int fresh) {
    if (b == NULL) {
        for (size_t k = 0; k < n; k++) w[k] -= lr * (g[k] + weight_decay * w[k]);
        return;
    }
    const float damp = fresh ? 1.0f : 1.0f - dampening;
    const float keep = fresh ? 0.0f : momentum;
    for (size_t k = 0; k < n; k++) {
        float d = g[k] + weight_decay * w[k];
        float u = keep * b[k] + damp * d;
        b[k] = u;
        w[k] -= lr * (nesterov ? d + momentum * u : u);
    }
}

LK_WIDE void lk_sqrt(float *restrict out, const float *restrict x, size_t n) {
    for (size_t k = 0; k < n; k++) out[k] = sqrtf(x[k]);
}

// The output columns [lo, hi) whose input column xo·sw + ix0 lies inside the image.
static inline void lk_inside_columns(lk_window g, long ix0, long *lo, long *hi) {
    long l = ix0 >= 0 ? 0 : (-ix0 + g.sw - 1) / g.sw;
    long h = (g.w - ix0 + g.sw - 1) / g.sw;
    if (h > g.ow) h = g.ow;
    if (h < 0) h = 0;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

void lk_im2col(const float *restrict x, float *restrict cols, lk_window g) {
    const long l = g.oh * g.ow, width = g.n * l;
    for (long ch = 0; ch < g.c; ch++)
        for (long ki = 0; ki < g.kh; ki++)
            for (long kj = 0; kj < g.kw; kj++) {
                float *row = cols + ((ch * g.kh + ki) * g.kw + kj) * width;
                const long ix0 = kj - g.pw;
                long lo, hi;
                lk_inside_columns(g, ix0, &lo, &hi);
                for (long b = 0; b < g.n; b++) {
                    const float *plane = x + (b * g.c + ch) * g.h * g.w;
                    for (long y = 0; y < g.oh; y++) {
                        float *o = row + b * l + y * g.ow;
                        const long iy = y * g.sh - g.ph + ki;
                        if (iy < 0 || iy >= g.h) {
                            for (long xo = 0; xo < g.ow; xo++) o[xo] = 0;
                            continue;
                        }
                        const float *line = plane + iy * g.w + ix0;
                        for (long xo = 0; xo < lo; xo++) o[xo] = 0;
                        if (g.sw == 1) {
                            for (long xo = lo; xo < hi; xo++) o[xo] = line[xo];
                        } else {
                            for (long xo = lo; xo < hi; xo++) o[xo] = line[xo * g.sw];
                        }
                        for (long xo = hi; xo < g.ow; xo++) o[xo] = 0;
                    }
                }
            }
}

void lk_col2im(const float *restrict cols, float *restrict x, lk_window g) {
    const long l = g.oh * g.ow, width = g.n * l;
    for (long ch = 0; ch < g.c; ch++)
        for (long ki = 0; ki < g.kh; ki++)
            for (long kj = 0; kj < g.kw; kj++) {
                const float *row = cols + ((ch * g.kh + ki) * g.kw + kj) * width;
                const long ix0 = kj - g.pw;
                long lo, hi;
                lk_inside_columns(g, ix0, &lo, &hi);
                for (long b = 0; b < g.n; b++) {
                    float *plane = x + (b * g.c + ch) * g.h * g.w;
                    for (long y = 0; y < g.oh; y++) {
                        const long iy = y * g.sh - g.ph + ki;
                        if (iy < 0 || iy >= g.h) continue;
                        const float *o = row + b * l + y * g.ow;
                        float *line = plane + iy * g.w + ix0;
                        for (long xo = lo; xo < hi; xo++) line[xo * g.sw] += o[xo];
                    }
                }
            }
}

// One plane, any window; NaN wins (propagates), as in PyTorch.
static void lk_max_pool_plane(const float *restrict plane, float *restrict o, int *restrict id, lk_window g) {
    for (long y = 0; y < g.oh; y++) {
        long y0 = y * g.sh - g.ph, y1 = y0 + g.kh;
        if (y0 < 0) y0 = 0;
        if (y1 > g.h) y1 = g.h;
        for (long xo = 0; xo < g.ow; xo++) {
            long x0 = xo * g.sw - g.pw, x1 = x0 + g.kw;
            if (x0 < 0) x0 = 0;
            if (x1 > g.w) x1 = g.w;
            long at = y0 * g.w + x0;
            float best = plane[at];
            for (long iy = y0; iy < y1; iy++)
                for (long ix = x0; ix < x1; ix++) {
                    const long pos = iy * g.w + ix;
                    const float v = plane[pos];
                    if (v > best || v != v) { best = v; at = pos; }
                }
            o[y * g.ow + xo] = best;
            id[y * g.ow + xo] = (int)at;
        }
    }
}

// The common 2x2 window without padding, unrolled and branch-free: on activations the
// winner is unpredictable, and branches cost ten times more. Planes holding a NaN take
// the general path, so that NaN still propagates.
static void lk_max_pool_plane_2x2(const float *restrict plane, float *restrict o, int *restrict id, lk_window g) {
    int nan = 0;
    for (long i = 0; i < g.h * g.w; i++) nan |= plane[i] != plane[i];
    if (nan) { lk_max_pool_plane(plane, o, id, g); return; }
    for (long y = 0; y < g.oh; y++)
        for (long xo = 0; xo < g.ow; xo++) {
            const long a = y * g.sh * g.w + xo * g.sw;
            float b = plane[a];
            long at = a, c = a + 1;
            int t = plane[c] > b; b = t ? plane[c] : b; at = t ? c : at;
            c = a + g.w;
            t = plane[c] > b; b = t ? plane[c] : b; at = t ? c : at;
            c = a + g.w + 1;
            t = plane[c] > b; b = t ? plane[c] : b; at = t ? c : at;
            o[y * g.ow + xo] = b;
            id[y * g.ow + xo] = (int)at;
        }
}

void lk_max_pool(const float *restrict x, float *restrict out, int *restrict idx, lk_window g) {
    const int fast = g.kh == 2 && g.kw == 2 && g.ph == 0 && g.pw == 0;
    for (long p = 0; p < g.n * g.c; p++) {
        const float *plane = x + p * g.h * g.w;
        float *o = out + p * g.oh * g.ow;
        int *id = idx + p * g.oh * g.ow;
        if (fast) lk_max_pool_plane_2x2(plane, o, id, g); else lk_max_pool_plane(plane, o, id, g);
    }
}

void lk_scatter_planes(const float *restrict g, float *restrict x, const int *restrict idx,
                       long planes, long in_plane, long out_plane) {
    for (long p = 0; p < planes; p++)
        for (long i = 0; i < out_plane; i++)
            x[p * in_plane + idx[p * out_plane + i]] += g[p * out_plane + i];
}

void lk_gather_planes(const float *restrict x, float *restrict out, const int *restrict idx,
                      long planes, long in_plane, long out_plane) {
    for (long p = 0; p < planes; p++)
        for (long i = 0; i < out_plane; i++)
            out[p * out_plane + i] = x[p * in_plane + idx[p * out_plane + i]];
}
