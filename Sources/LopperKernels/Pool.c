// A small pool of worker threads for Lopper's parallel loops. Workers spin briefly after
// each job, so the next one (a few microseconds later, in a training step) starts at
// once, then sleep on a condition variable, so an idle process uses no CPU. OpenBLAS runs
// single-threaded beside it: two pools spinning on two cores would steal from each other.
#include "LopperKernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define LK_POOL_MAX 64
#define LK_SPIN_NS 200000L   // how long an idle worker spins before it sleeps

static pthread_mutex_t lk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lk_wake = PTHREAD_COND_INITIALIZER;
static atomic_long lk_generation;   // bumped once per job
static atomic_long lk_pending;      // workers still running the current job
static atomic_int lk_sleeping;      // workers waiting on lk_wake
static atomic_flag lk_busy = ATOMIC_FLAG_INIT;  // a job is running (no nesting)
static long lk_threads;             // workers started, besides the caller
static lk_task lk_job_task;
static void *lk_job_context;
static long lk_job_count;

static long lk_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static inline void lk_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

// Waits until the generation moves past `seen`: spinning first, then sleeping.
static long lk_wait_for_job(long seen) {
    const long until = lk_now_ns() + LK_SPIN_NS;
    for (long i = 0;; i++) {
        long g = atomic_load_explicit(&lk_generation, memory_order_acquire);
        if (g != seen) return g;
        if ((i & 255) == 255 && lk_now_ns() > until) break;
        lk_relax();
    }
    pthread_mutex_lock(&lk_lock);
    atomic_fetch_add(&lk_sleeping, 1);
    long g;
    while ((g = atomic_load(&lk_generation)) == seen) pthread_cond_wait(&lk_wake, &lk_lock);
    atomic_fetch_sub(&lk_sleeping, 1);
    pthread_mutex_unlock(&lk_lock);
    return g;
}

static void *lk_worker(void *arg) {
    const long index = (long)arg;
    long seen = 0;
    for (;;) {
        seen = lk_wait_for_job(seen);
        if (index < lk_job_count) lk_job_task(lk_job_context, index);
        atomic_fetch_sub_explicit(&lk_pending, 1, memory_order_acq_rel);
    }
    return NULL;
}

long lk_pool_start(long workers) {
    pthread_mutex_lock(&lk_lock);
    if (workers > LK_POOL_MAX) workers = LK_POOL_MAX;
    while (lk_threads + 1 < workers) {
        pthread_t t;
        if (pthread_create(&t, NULL, lk_worker, (void *)(lk_threads + 1)) != 0) break;
        pthread_detach(t);
        lk_threads++;
    }
    pthread_mutex_unlock(&lk_lock);
    return lk_threads + 1;
}

void lk_pool_run(long count, lk_task task, void *context) {
    if (count <= 1 || lk_threads == 0 || atomic_flag_test_and_set(&lk_busy)) {
        // One part, no workers, or called from inside a job: run the parts here, in order.
        for (long i = 0; i < count; i++) task(context, i);
        return;
    }
    long extra = count - 1 > lk_threads ? lk_threads : count - 1;
    lk_job_task = task;
    lk_job_context = context;
    lk_job_count = extra + 1;
    atomic_store(&lk_pending, lk_threads);
    atomic_fetch_add(&lk_generation, 1);
    if (atomic_load(&lk_sleeping) > 0) {
        pthread_mutex_lock(&lk_lock);
        pthread_cond_broadcast(&lk_wake);
        pthread_mutex_unlock(&lk_lock);
    }
    task(context, 0);
    for (long i = extra + 1; i < count; i++) task(context, i);   // parts beyond the workers
    while (atomic_load_explicit(&lk_pending, memory_order_acquire) > 0) lk_relax();
    atomic_flag_clear(&lk_busy);
}
