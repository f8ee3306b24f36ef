/*
** fuzz_json.c: libFuzzer target for the JSON id parser of similar_items
** (ext/core/json.c) and the item table it feeds (ext/core/vocab.c).
**
** The input is parsed as similar_items' id argument ('[...]' or
** '{"positive":..,"negative":..}').  On success every parsed item is added
** to a vocabulary and looked up again; checks (abort on failure): each item
** is found at the index it was added with, weights are +1 or -1, decoded
** strings lie inside the parser's buffer, and on failure the message says
** where ("malformed JSON id at offset N").  The input is also read as one
** plain item, as similar_items does with a non-JSON id.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly size bytes, so reads past the end are caught. */
  char *text = malloc(size ? size : 1);
  if (!text) return 0;
  memcpy(text, data, size);

  i2v_query q;
  char err[200];
  err[0] = 0;
  (void)i2v_json_looks_like(text, size);
  int rc = i2v_json_parse_query(text, size, &i2v_libc_alloc, &q, err, sizeof(err));
  if (rc == I2V_ERROR && strncmp(err, "malformed JSON id at offset ", 28) != 0) abort();
  if (rc == I2V_OK) {
    i2v_vocab v;
    i2v_vocab_init(&v, &i2v_libc_alloc);
    for (size_t i = 0; i < q.n; i++) {
      const i2v_query_item *it = &q.items[i];
      if (it->weight != 1.0f && it->weight != -1.0f) abort();
      if (it->value.type == I2V_TEXT &&
          ((const char *)it->value.bytes < q.buf ||
           (const char *)it->value.bytes + it->value.n > q.buf + size + 1))
        abort();
      int added = 0;
      int64_t idx = i2v_vocab_add(&v, &it->value, &added);
      if (idx < 0) break; /* out of memory */
      if (i2v_vocab_find(&v, &it->value) != idx) abort();
    }
    i2v_vocab_free(&v);
  }
  i2v_query_free(&q);

  /* The whole input as one item: text, and as a canonical integer. */
  {
    i2v_vocab v;
    i2v_vocab_init(&v, &i2v_libc_alloc);
    i2v_value val = {.type = I2V_TEXT, .bytes = text, .n = size};
    int64_t idx = i2v_vocab_add(&v, &val, NULL);
    if (idx >= 0 && i2v_vocab_find(&v, &val) != idx) abort();
    int64_t iv;
    if (i2v_parse_canonical_int(text, size, &iv)) {
      i2v_value as_int = {.type = I2V_INTEGER, .i = iv};
      if (idx >= 0 && i2v_vocab_find(&v, &as_int) != idx) abort(); /* '1' and 1 */
    }
    i2v_vocab_free(&v);
  }
  free(text);
  return 0;
}
