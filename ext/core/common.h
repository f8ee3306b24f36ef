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
#include <string.h>

/* Return codes of the core modules. */
enum {
  I2V_OK = 0,
  I2V_ERROR = 1,    /* bad input; the error buffer says what */
  I2V_NOMEM = 2,    /* an allocation failed */
  I2V_CANCELLED = 3 /* the poll callback asked to stop */
};

/* Progress of a long operation (training, building an index, scoring an
** evaluation), handed to the caller's poll callback on the calling thread:
** done of total units (tokens over all epochs, items, cases).  Training
** also fills the epoch fields; other operations leave them 0 and NULL. */
typedef struct i2v_progress {
  uint64_t done, total;
  int epoch;                /* training: 0-based, the epoch running */
  int epochs;               /* training: how many; 0 otherwise */
  double loss;              /* training: loss of the running epoch so far */
  const double *epoch_loss; /* training: losses of the finished epochs */
} i2v_progress;

/* The one poll callback type of the core: a nonzero return asks the
** operation to stop, and it returns I2V_CANCELLED. */
typedef int (*i2v_poll_fn)(void *ctx, const i2v_progress *p);

/* Instruction-set levels the vector kernels and the trainer are compiled
** for (core/vec.h says how one is chosen).  AUTO: the best this CPU runs. */
enum { I2V_ISA_AUTO = -1, I2V_ISA_BASE = 0, I2V_ISA_AVX2 = 1, I2V_ISA_AVX512 = 2, I2V_ISA_LEVELS };

/* Write a message into the caller's error buffer err (n bytes; nothing
** when err is NULL or n is 0), as snprintf does. */
void i2v_set_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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

/* Little-endian fields: the vector BLOBs (float32, sqlite-vec's layout),
** the index's header, zip headers and word2vec's binary rows.  Written
** once, here. */
static inline uint32_t i2v_get_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void i2v_put_le32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}
static inline float i2v_get_lef32(const unsigned char *p) {
  uint32_t u = i2v_get_le32(p);
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}
static inline void i2v_put_lef32(unsigned char *p, float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  i2v_put_le32(p, u);
}

/* The plain C allocator, for unit tests and tools. */
extern const i2v_alloc i2v_libc_alloc;

#endif
