// A small pool of worker threads for Lopper's parallel loops, built to behave on a busy
// machine. A job is `count` parts with fixed boundaries (so results never depend on
// timing); the caller and the workers claim parts one at a time from a shared ticket, and
// the caller takes whatever is still unclaimed. A worker that another process keeps off
// its core therefore costs nothing but its own part: the caller never waits for a thread
// that has not started, only for parts already running. Idle workers spin a little, then
// yield their core, then sleep; the caller waiting for a running part yields too.
#define _GNU_SOURCE
#include "LopperKernels.h"
#include <pthread.h>
#include <stdlib.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define LK_POOL_MAX 64
#define LK_SPIN_NS 20000L     // pure spinning after a job: the next one usually comes within µs
#define LK_YIELD_NS 200000L   // then spinning with sched_yield, which gives way to other processes

static pthread_mutex_t lk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lk_wake = PTHREAD_COND_INITIALIZER;
// The ticket: the job's generation (high 32 bits), its part count (16) and the next
// unclaimed part (low 16). The count lives in the ticket, not beside it, so a worker
// claiming late can never pair an old generation with the next job's count.
static _Atomic uint64_t lk_ticket;
static atomic_long lk_done;         // parts of the current job finished
static atomic_int lk_sleeping;      // workers waiting on lk_wake
static atomic_flag lk_busy = ATOMIC_FLAG_INIT;  // a job is running (no nesting)
static long lk_threads;             // workers started, besides the caller
static lk_task lk_job_task;
static void *lk_job_context;

#define LK_PART_BITS 16
#define LK_PART_MASK ((1ULL << LK_PART_BITS) - 1)
#define LK_GEN_SHIFT (2 * LK_PART_BITS)

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

// Claims the next part of the job with generation `gen`; -1 when none is left (or the
// job is no longer that one).
static long lk_claim(uint64_t gen) {
    uint64_t t = atomic_load_explicit(&lk_ticket, memory_order_acquire);
    for (;;) {
        if ((t >> LK_GEN_SHIFT) != gen) return -1;
        long part = (long)(t & LK_PART_MASK), count = (long)((t >> LK_PART_BITS) & LK_PART_MASK);
        if (part >= count) return -1;
        if (atomic_compare_exchange_weak_explicit(&lk_ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
            return part;
    }
}

// Runs parts of job `gen` until none is left.
static void lk_work(uint64_t gen) {
    long part;
    while ((part = lk_claim(gen)) >= 0) {
        lk_job_task(lk_job_context, part);
        atomic_fetch_add_explicit(&lk_done, 1, memory_order_acq_rel);
    }
}

// Waits for a generation other than `seen`: spinning, then yielding, then sleeping.
static uint64_t lk_wait_for_job(uint64_t seen) {
    const long start = lk_now_ns();
    for (long i = 0;; i++) {
        uint64_t g = atomic_load_explicit(&lk_ticket, memory_order_acquire) >> LK_GEN_SHIFT;
        if (g != seen) return g;
        if ((i & 63) == 63) {
            long waited = lk_now_ns() - start;
            if (waited > LK_YIELD_NS) break;
            if (waited > LK_SPIN_NS) sched_yield();
        }
        lk_relax();
    }
    pthread_mutex_lock(&lk_lock);
    atomic_fetch_add(&lk_sleeping, 1);
    uint64_t g;
    while ((g = atomic_load(&lk_ticket) >> LK_GEN_SHIFT) == seen) pthread_cond_wait(&lk_wake, &lk_lock);
    atomic_fetch_sub(&lk_sleeping, 1);
    pthread_mutex_unlock(&lk_lock);
    return g;
}

static void *lk_worker(void *arg) {
    (void)arg;
    uint64_t seen = 0;
    for (;;) {
        seen = lk_wait_for_job(seen);
        lk_work(seen);
    }
    return NULL;
}

long lk_pool_start(long workers) {
    pthread_mutex_lock(&lk_lock);
    if (workers > LK_POOL_MAX) workers = LK_POOL_MAX;
    while (lk_threads + 1 < workers) {
        pthread_t t;
        if (pthread_create(&t, NULL, lk_worker, NULL) != 0) break;
        pthread_detach(t);
        lk_threads++;
    }
    pthread_mutex_unlock(&lk_lock);
    return lk_threads + 1;
}

// When other processes hold the cores, a worker often claims a part and is then taken
// off its core, and the caller waits for it. The pool watches for that: when the caller
// spends more than LK_STALL_LIMIT of its jobs waiting (a moving average), the next
// jobs run on the caller alone (as fast as one thread), then it tries again; each time in
// a row that the trial fails, the solo stretch doubles (a trial costs a few stalls).
#define LK_STALL_LIMIT 0.25
// Only waits this long count as stalls: a preempted worker costs milliseconds, while the
// ordinary imbalance of the last part on an idle machine costs microseconds.
#define LK_STALL_MIN_NS 100000L
#define LK_SOLO_MIN 256
#define LK_SOLO_MAX 65536
static double lk_stall = 0;         // moving average of the waiting fraction
static long lk_solo_left = 0;       // jobs still to run alone
static long lk_solo_span = LK_SOLO_MIN;
static long lk_parallel_ok = 0;     // parallel jobs since the last stall

void lk_pool_run(long count, lk_task task, void *context) {
    if (lk_solo_left > 0 && count > 1 && !atomic_flag_test_and_set(&lk_busy)) {
        lk_solo_left--;
        for (long i = 0; i < count; i++) task(context, i);
        atomic_flag_clear(&lk_busy);
        return;
    }
    if (count <= 1 || lk_threads == 0 || count > (long)LK_PART_MASK || atomic_flag_test_and_set(&lk_busy)) {
        // One part, no workers, or called from inside a job: run the parts here, in order.
        for (long i = 0; i < count; i++) task(context, i);
        return;
    }
    lk_job_task = task;
    lk_job_context = context;
    atomic_store_explicit(&lk_done, 0, memory_order_relaxed);
    // Publishing the new generation (part 0) releases the job's fields to the workers.
    uint64_t gen = ((atomic_load(&lk_ticket) >> LK_GEN_SHIFT) + 1) & 0xFFFFFFFFULL;
    atomic_store_explicit(&lk_ticket, gen << LK_GEN_SHIFT | (uint64_t)count << LK_PART_BITS, memory_order_release);
    if (atomic_load(&lk_sleeping) > 0) {
        pthread_mutex_lock(&lk_lock);
        pthread_cond_broadcast(&lk_wake);
        pthread_mutex_unlock(&lk_lock);
    }
    const long began = lk_now_ns();
    lk_work(gen);
    // Every part is claimed; wait for those still running elsewhere.
    const long start = lk_now_ns();
    for (long i = 0; atomic_load_explicit(&lk_done, memory_order_acquire) < count; i++) {
        if ((i & 63) == 63 && lk_now_ns() - start > LK_SPIN_NS) sched_yield();
        else lk_relax();
    }
    const long end = lk_now_ns();
    if (end > began) {
        const long waited = end - start;
        lk_stall = 0.9 * lk_stall + (waited >= LK_STALL_MIN_NS ? 0.1 * (double)waited / (double)(end - began) : 0);
        if (lk_stall > LK_STALL_LIMIT) {
            lk_solo_left = lk_solo_span;
            if (lk_solo_span < LK_SOLO_MAX) lk_solo_span *= 2;
            lk_stall = 0;
            lk_parallel_ok = 0;
        } else if (++lk_parallel_ok > 4 * LK_SOLO_MIN) {
            lk_solo_span = LK_SOLO_MIN;
        }
    }
    atomic_flag_clear(&lk_busy);
}

// The CPUs this process may use: its affinity mask, lowered by a cgroup CPU quota
// (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us), at least 1.
#include <stdio.h>
long lk_available_cpus(void) {
    long n = 1;
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    double quota = -1, period = -1;
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        char q[32] = {0};
        if (fscanf(f, "%31s %lf", q, &period) == 2 && q[0] != 'm') quota = atof(q);
        fclose(f);
    } else if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r"))) {
        if (fscanf(f, "%lf", &quota) != 1) quota = -1;
        fclose(f);
        if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r"))) {
            if (fscanf(f, "%lf", &period) != 1) period = -1;
            fclose(f);
        }
    }
    if (quota > 0 && period > 0) {
        long cap = (long)(quota / period + 0.5);
        if (cap < 1) cap = 1;
        if (cap < n) n = cap;
    }
#endif
    return n < 1 ? 1 : n;
}
