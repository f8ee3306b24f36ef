/*
** i2v_core.h: the pieces every core module shares: the allocator handle and
** the return codes.  Core modules (options, vocabulary, trainer, kernels,
** top-k, JSON id parser) include no SQLite header, so the C unit tests link
** them alone; the SQLite side passes an allocator built on sqlite3_malloc64.
*/
#ifndef I2V_CORE_H
#define I2V_CORE_H

#include <stddef.h>
#include <stdint.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

/* Return codes of the core modules. */
enum {
  I2V_OK = 0,
  I2V_ERROR = 1,    /* bad input; the error buffer says what */
  I2V_NOMEM = 2,    /* an allocation failed */
  I2V_CANCELLED = 3 /* the poll callback asked to stop */
};

/* One allocator everyone goes through, so tests can make it fail. */
typedef struct i2v_alloc {
  void *(*xMalloc)(void *ctx, size_t n);
  void (*xFree)(void *ctx, void *p);
  void *ctx;
} i2v_alloc;

static inline void *i2v_malloc(const i2v_alloc *a, size_t n) {
  return a->xMalloc(a->ctx, n ? n : 1);
}
static inline void i2v_free(const i2v_alloc *a, void *p) {
  if (p) a->xFree(a->ctx, p);
}

/* n*size, or 0 with *overflow set when it does not fit in size_t. */
static inline size_t i2v_mul_size(size_t n, size_t size, int *overflow) {
  size_t r;
  if (__builtin_mul_overflow(n, size, &r)) {
    *overflow = 1;
    return 0;
  }
  return r;
}

/* Ask for a large block to be backed by transparent huge pages where the
** system has them (Linux, THP in "madvise" mode): rows and graphs read at
** random positions otherwise miss the TLB on nearly every access, and
** faulting them in 4 KiB pages is slow.  Only the 2 MiB-aligned interior of
** blocks of 8 MiB or more; a no-op elsewhere. */
static inline void i2v_advise_huge(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)1 << 21;
  uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (bytes >= ((size_t)8 << 20) && hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/* The plain C allocator, for unit tests and tools. */
extern const i2v_alloc i2v_libc_alloc;

#endif
