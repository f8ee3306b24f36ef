/*
** fuzz_readers.c: a libFuzzer target for the file readers behind
** item2vec_csv and item2vec_import: the byte source (plain, gzip, zip
** member), the CSV tokenizer with its field typing, and the word2vec text
** and binary parsers.  No SQLite: it links the core modules alone.
**
**   make fuzz                      # FUZZ_SECONDS (30) each, seeds in tests/fuzz/corpus/readers
**   make fuzz FUZZ_SECONDS=600
**
** How it works.  The first input byte picks the reader (CSV with the
** member found by itself, CSV asking for member "s.csv" with ';' as the
** delimiter, word2vec text, word2vec binary); the rest is the file, handed
** over through fmemopen so nothing touches the disk.  Each reader runs to
** the end or to its first error, with a small row cap so a missing quote
** costs little.
*/
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/csv.h"
#include "core/reader.h"
#include "core/w2v.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[600];
  if (size < 2) return 0;
  int mode = data[0] % 4;
  FILE *f = fmemopen((void *)(uintptr_t)(data + 1), size - 1, "rb");
  if (!f) return 0;
  i2v_reader *r = NULL;
  const char *member = mode == 1 ? "s.csv" : NULL;
  if (i2v_reader_open_stream(&i2v_libc_alloc, f, "input", member, &r, err,
                             sizeof(err)) != I2V_OK)
    return 0;
  if (mode < 2) {
    i2v_csv tok;
    i2v_csv_init(&tok, &i2v_libc_alloc, r, mode == 1 ? ';' : ',', 1 << 16, 64);
    while (i2v_csv_next(&tok) == I2V_OK && tok.nfields > 0) {
      for (size_t i = 0; i < tok.nfields; i++) {
        int64_t iv;
        double rv;
        if (!tok.fields[i].quoted)
          (void)i2v_csv_classify(i2v_csv_text(&tok, i), tok.fields[i].len, &iv, &rv);
        if (strlen(i2v_csv_text(&tok, i)) > tok.fields[i].len) __builtin_trap();
      }
    }
    i2v_csv_free(&tok);
  } else {
    i2v_w2v m;
    if (i2v_w2v_read(r, mode == 3, &i2v_libc_alloc, &m, err, sizeof(err)) == I2V_OK) {
      if (m.n == 0 || m.items.n != m.n) __builtin_trap();
      i2v_w2v_free(&m);
    }
  }
  i2v_reader_close(r);
  return 0;
}
