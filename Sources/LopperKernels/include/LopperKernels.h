// LopperKernels: fused loops that Swift does not vectorise (its square root keeps libm's
// errno path, which blocks vector code). Plain C with restrict pointers, built with
// -O3 -fno-math-errno.
#ifndef LOPPER_KERNELS_H
#define LOPPER_KERNELS_H

#include <stddef.h>

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

#endif
