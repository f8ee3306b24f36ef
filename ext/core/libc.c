/*
** core/libc.c: the plain C allocator, for unit tests and tools that link the
** core modules without SQLite.
*/
#include <stdlib.h>

#include "core/common.h"

static void *libc_malloc(void *ctx, size_t n) {
  (void)ctx;
  return malloc(n);
}
static void libc_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}
const i2v_alloc i2v_libc_alloc = {libc_malloc, libc_free, NULL};
