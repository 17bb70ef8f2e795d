// LK_WIDE: the multi-versioning attribute shared by the kernel files.
#ifndef LK_WIDE_H
#define LK_WIDE_H

/* Element-wise loops get an AVX2+FMA copy chosen at load time (the portable build targets
   SSE2 only, where sqrt is not vectorised). */
#if defined(__x86_64__) && defined(__linux__)
#define LK_WIDE __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LK_WIDE
#endif

#endif
