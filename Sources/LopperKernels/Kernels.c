#include "LopperKernels.h"
#include <math.h>

void lk_adam_update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
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

void lk_sgd_update(float *restrict w, const float *restrict g, float *restrict b, size_t n,
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

void lk_sqrt(float *restrict out, const float *restrict x, size_t n) {
    for (size_t k = 0; k < n; k++) out[k] = sqrtf(x[k]);
}
