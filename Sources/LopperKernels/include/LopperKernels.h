// LopperKernels: fused loops that Swift does not vectorise (its square root keeps libm's
// errno path, which blocks vector code). Plain C with restrict pointers, built with
// -O3 -fno-math-errno.
#ifndef LOPPER_KERNELS_H
#define LOPPER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// One Adam/AdamW step over n weights (see Adam.swift for the formula): w, m, v updated in
// place from the gradient g. `l2` is Adam's coupled weight decay, `shrink` AdamW's factor.
void lk_adam_update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                    size_t n, float beta1, float beta2, float step_size, float root_bc2, float eps,
                    float l2, float shrink);

// One SGD step over n weights; `b` is the momentum buffer (NULL without momentum);
// `fresh` means the buffer is initialised from this step's gradient.
void lk_sgd_update(float *restrict w, const float *restrict g, float *restrict b, size_t n,
                   float lr, float momentum, float dampening, float weight_decay, int nesterov, int fresh);

// out[i] = sqrt(x[i]).
void lk_sqrt(float *restrict out, const float *restrict x, size_t n);

// The geometry of a 2-d sliding window over [n, c, h, w] giving [oh, ow] outputs.
typedef struct {
    long n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
} lk_window;

// im2col: x [n, c, h, w] → cols [c·kh·kw, n·oh·ow], zeros outside the image.
void lk_im2col(const float *restrict x, float *restrict cols, lk_window g);
// col2im: adds cols [c·kh·kw, n·oh·ow] into x [n, c, h, w] (x is not cleared first).
void lk_col2im(const float *restrict cols, float *restrict x, lk_window g);
// Max over each window of each plane; idx gets the winner's position within its plane.
void lk_max_pool(const float *restrict x, float *restrict out, int *restrict idx, lk_window g);
// Adds g[i] at plane position idx[i] of x (n·c planes of h·w; oh·ow entries per plane).
void lk_scatter_planes(const float *restrict g, float *restrict x, const int *restrict idx,
                       long planes, long in_plane, long out_plane);
// out[i] = x[plane position idx[i]] (the adjoint of lk_scatter_planes).
void lk_gather_planes(const float *restrict x, float *restrict out, const int *restrict idx,
                      long planes, long in_plane, long out_plane);

// Direct stride-1 convolution over "wide" planes: a plane of width `xw` is read as one
// flat row, so output position p = y·xw + x reads x[c, p + i·xw + j] for tap (i, j), and
// positions with x past the output width are computed and ignored. `np` (a multiple of
// 16) positions; inputs must be readable up to c·xplane + kw + 16 floats.
// out[o, p] = Σ_c,i,j w[o, c, i, j] · x[c, p + i·xw + j], out rows `np` apart.
void lk_conv_wide(const float *restrict x, long c, long xplane, long xw,
                  const float *restrict w, long o, long kh, long kw, float *restrict out, long np);
// gw[o, c, i, j] += Σ_p g[o, p] · x[c, p + i·xw + j] (g rows `np` apart, zero where the
// position is not a real output).
void lk_conv_wide_weight_grad(const float *restrict x, long c, long xplane, long xw,
                              const float *restrict g, long o, long np, long kh, long kw, float *restrict gw);
// Whether the two kernels above run their AVX-512 versions (ConvDirect512.c): on when the
// processor has AVX-512; lk_set_wide512(0) turns them off (tests compare both). The
// AVX-512 forward needs np a multiple of 32 and inputs readable to c·xplane + kw + 32.
int lk_wide512(void);
void lk_set_wide512(int on);
void lk_conv_wide512(const float *restrict x, long c, long xplane, long xw,
                     const float *restrict w, long o, long kh, long kw, float *restrict out, long np);
void lk_conv_wide_weight_grad512(const float *restrict x, long c, long xplane, long xw,
                                 const float *restrict g, long o, long np, long kh, long kw, float *restrict gw);

// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions with padding 1 over even h × w maps
// (Winograd.c), channels a multiple of 8. Transformed arrays are [16][T][channels] with
// T = n·(h/2)·(w/2) tiles; tile (ty, tx) of sample i is t = (i·h/2 + ty)·w/2 + tx.
// u [16][c][k] = G g Gᵀ of weights w [k, c, 3, 3].
void lk_wino_weights(const float *restrict w, long k, long c, float *restrict u);
// gw [k, c, 3, 3] += Gᵀ du G (the adjoint of lk_wino_weights).
void lk_wino_weights_grad(const float *restrict du, long k, long c, float *restrict gw);
// xt [n, h+2, w+2, c] = x [n, c, h, w] zero-padded by 1, channels innermost.
void lk_wino_pad(const float *restrict x, long n, long c, long h, long w, float *restrict xt);
// v [16][T][c] = Bᵀ d B of the tiles of the padded xt.
void lk_wino_input(const float *restrict xt, long n, long c, long h, long w, float *restrict v);
// gx [n, c, h, w] = the adjoint of lk_wino_pad and lk_wino_input applied to dv (overlaps
// summed in gxt, scratch of lk_wino_pad's size).
void lk_wino_input_adjoint(const float *restrict dv, long n, long c, long h, long w,
                           float *restrict gxt, float *restrict gx);
// y [n, k, h, w] = Aᵀ m A (+ bias[k] when bias is not NULL), m [16][T][k].
void lk_wino_output(const float *restrict m, long n, long k, long h, long w,
                    const float *restrict bias, float *restrict y);
// dm [16][T][k] = A dy Aᵀ (the adjoint of lk_wino_output).
void lk_wino_output_adjoint(const float *restrict dy, long n, long k, long h, long w, float *restrict dm);

// The worker pool (Pool.c). lk_pool_start starts workers − 1 threads (the caller is the
// first worker) and returns how many there are; lk_pool_run calls task(context, i) for
// i in [0, count), index 0 on the caller, and returns when all are done. A call made
// while a job runs (from a task) runs its parts in order on the calling thread.
typedef void (*lk_task)(void *context, long index);
long lk_pool_start(long workers);
void lk_pool_run(long count, lk_task task, void *context);
// The CPUs this process may use (affinity mask and cgroup CPU quota), at least 1.
long lk_available_cpus(void);

// The vector level of this x86-64 processor (CPU.c): 2 = AVX-512 (F, BW, VL, DQ, CD),
// 1 = AVX2 with FMA, 0 = older, or not x86-64.
int lk_cpu_level(void);

// Per-channel loops over [n, c, l] (Norm.c), each over channels c0..c1−1.
// mean[ch], var[ch] = the mean and biased variance of channel ch.
void lk_channel_stats(const float *restrict x, long n, long c, long l, long c0, long c1,
                      float *restrict mean, float *restrict var);
// y = x · scale[ch] + shift[ch] (shift may be NULL).
void lk_channel_affine(const float *restrict x, long n, long c, long l, long c0, long c1,
                       const float *restrict scale, const float *restrict shift, float *restrict y);
// sum_g[ch] = Σ g, sum_gx[ch] = Σ g · (x − mean[ch]) (mean may be NULL: 0).
void lk_channel_grad_sums(const float *restrict x, const float *restrict g, long n, long c, long l,
                          long c0, long c1, const float *restrict mean,
                          float *restrict sum_g, float *restrict sum_gx);
// out = a[ch] · g + b[ch] · x + d[ch].
void lk_channel_combine(const float *restrict x, const float *restrict g, long n, long c, long l,
                        long c0, long c1, const float *restrict a, const float *restrict b,
                        const float *restrict d, float *restrict out);

// Compressed sparse rows (Sparse.c): yt[r, :] = bias[r] + Σ_k val[k] · xt[col[k], :] for rows
// r0..r1−1, xt [in, n] and yt [rows, n] row-major; bias may be NULL.
void lk_csr_matmul(const int32_t *restrict rowptr, const int32_t *restrict col, const float *restrict val,
                   const float *restrict bias, const float *restrict xt, long n, float *restrict yt, long r0, long r1);
// One sample through the same matrix as sliced ELL, eight rows a slice sorted by length:
// y[perm[8s + i]] = bias + Σ over slice s's len[s] columns of val · x[col] (rows < rows).
void lk_sell8_matvec(const int32_t *restrict start, const int32_t *restrict len, const int32_t *restrict col,
                     const float *restrict val, const int32_t *restrict perm, const float *restrict bias,
                     const float *restrict x, float *restrict y, long slices, long rows);

#endif
