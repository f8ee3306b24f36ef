/*
** core/common.h: the pieces every core module shares: the allocator handle and
** the return codes.  Core modules (options, vocabulary, trainer, kernels,
** top-k, JSON id parser) include no SQLite header, so the C unit tests link
** them alone; the SQLite side passes an allocator built on sqlite3_malloc64.
*/
#ifndef I2V_CORE_H
#define I2V_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Return codes of the core modules. */
enum {
  I2V_OK = 0,
  I2V_ERROR = 1,    /* bad input; the error buffer says what */
  I2V_NOMEM = 2,    /* an allocation failed */
  I2V_CANCELLED = 3 /* the poll callback asked to stop */
};

/* Instruction-set levels the vector kernels and the trainer are compiled
** for (core/vec.h says how one is chosen).  AUTO: the best this CPU runs. */
enum { I2V_ISA_AUTO = -1, I2V_ISA_BASE = 0, I2V_ISA_AVX2 = 1, I2V_ISA_AVX512 = 2, I2V_ISA_LEVELS };

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

/* The plain C allocator, for unit tests and tools. */
extern const i2v_alloc i2v_libc_alloc;

#endif
