/*
** fuzz_readers.c: a libFuzzer target for the file readers behind
** item2vec_csv, item2vec_lines and item2vec_import: the byte source (plain,
** gzip, zip member), the CSV tokenizer with its field typing, the playlist
** tokenizer, and the word2vec text and binary parsers.  No SQLite: it links
** the core modules alone.
**
**   make fuzz                      # FUZZ_SECONDS (30) each, seeds in tests/fuzz/corpus/readers
**   make fuzz FUZZ_SECONDS=600
**
** How it works.  The first input byte picks the reader (0: CSV with the
** member found by itself, 1: CSV asking for member "s.csv" with ';' as the
** delimiter, 2: word2vec text, 3: word2vec binary, 4: playlist lines, 5:
** playlist lines asking for member "train.txt"); the rest is the file, handed
** over through fmemopen so nothing touches the disk.  Each reader runs to
** the end or to its first error, with a small row cap so a missing quote
** costs little.  The playlist tokenizer's items must be non-empty, hold no
** whitespace or NUL, and come with line numbers that never go back and
** positions that count 1, 2, ... within a line.
*/
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/csv.h"
#include "core/lines.h"
#include "core/reader.h"
#include "core/w2v.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[600];
  if (size < 2) return 0;
  int mode = data[0] % 6;
  FILE *f = fmemopen((void *)(uintptr_t)(data + 1), size - 1, "rb");
  if (!f) return 0;
  i2v_reader *r = NULL;
  const char *member = mode == 1 ? "s.csv" : mode == 5 ? "train.txt" : NULL;
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
  } else if (mode >= 4) {
    i2v_lines tok;
    uint64_t line = 0, position = 0;
    i2v_lines_init(&tok, &i2v_libc_alloc, r, 1 << 12);
    while (i2v_lines_next(&tok) == I2V_OK && tok.len > 0) {
      if (strlen(tok.text) != tok.len || strpbrk(tok.text, " \t\r\n\v\f")) __builtin_trap();
      if (tok.line < line || (tok.line == line && tok.position != position + 1) ||
          (tok.line > line && tok.position != 1))
        __builtin_trap();
      line = tok.line;
      position = tok.position;
      int64_t iv;
      double rv;
      (void)i2v_csv_classify(tok.text, tok.len, &iv, &rv);
    }
    i2v_lines_free(&tok);
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
