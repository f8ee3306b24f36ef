/*
** core/common.c: what every core module shares and is not inline in
** core/common.h: the error buffer writer.
*/
#include "core/common.h"

#include <stdarg.h>
#include <stdio.h>

void i2v_set_err(char *err, size_t n, const char *fmt, ...) {
  va_list ap;
  if (!err || n == 0) return;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}
