/*
** fuzz_options.c: libFuzzer target for the option parser of item2vec_train
** (ext/core/options.c).
**
** The input is split at newlines into up to 64 'name=value' strings, applied
** in order to one i2v_options as item2vec_train applies its arguments; then
** the cross-option check runs and every option is written back as JSON, as
** the stored params are.  Invariants checked (abort on failure): a rejected
** option leaves an error message that names the function; an accepted
** numeric option lies in its documented range; a text option is non-empty.
** Memory errors, leaks and undefined behaviour are the sanitizers' to find.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = 0;

  i2v_options o;
  i2v_options_init(&o, 4, 0);
  char err[256];
  char *line = buf;
  for (int n = 0; n < 64 && line; n++) {
    char *nl = memchr(line, '\n', (size_t)(buf + size - line));
    if (nl) *nl = 0;
    err[0] = 0;
    int rc = i2v_options_set(&o, line, "item2vec_train", &i2v_libc_alloc, err, sizeof(err));
    if (rc == I2V_ERROR && strncmp(err, "item2vec_train: ", 16) != 0) abort();
    if (rc != I2V_OK && rc != I2V_ERROR && rc != I2V_NOMEM) abort();
    line = nl ? nl + 1 : NULL;
  }
  if (o.vector_size < 1 || o.vector_size > 4096 || o.window < 1 || o.negative < 1 ||
      o.epochs < 1 || o.workers < 1 || o.min_count < 1 || o.seed < 0 ||
      (o.sg != 0 && o.sg != 1) || !(o.alpha > 0) || o.sample < 0 || o.sample > 1)
    abort();
  if (o.model && !o.model[0]) abort();
  if (o.order_by && !o.order_by[0]) abort();
  err[0] = 0;
  if (i2v_options_check(&o, "item2vec_train", err, sizeof(err)) != I2V_OK &&
      strncmp(err, "item2vec_train: ", 16) != 0)
    abort();
  char val[64];
  for (int i = 0; i < i2v_options_count(); i++) {
    if (!i2v_options_name(i)) abort();
    i2v_options_value_json(&o, i, val, sizeof(val));
  }
  (void)i2v_options_model(&o);
  i2v_options_free(&o, &i2v_libc_alloc);
  free(buf);
  return 0;
}
