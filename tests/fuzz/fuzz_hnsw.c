/*
** fuzz_hnsw.c: a libFuzzer target for the stored approximate index, the
** loader of core/hnsw.c (i2v_hnsw_load) and the searches a loaded index
** answers.  An index is BLOB chunks in item2vec_index that anyone with the
** database file can write, so every byte is hostile.  No SQLite: it links
** the core modules alone.
**
**   make fuzz                      # FUZZ_SECONDS (30) each, seeds in tests/fuzz/corpus/hnsw
**
** How it works.  The input is an index buffer as stored (64-byte header,
** levels, neighbour lists).  The header's checksum would turn away nearly
** every mutated input at once, so the harness writes a valid one (and, when
** the first byte's low bit is clear, the magic and version too) before
** loading: the fuzzer's bytes reach the structure checks.  n, dim and the
** hash of the item keys are taken from the header (n at most 4096, dim 1 to
** 64), so the index is for the "model" the harness makes: n random unit
** rows.  When the load succeeds, searches from a few rows, with and without
** starting points, must yield only rows below n, best first (abort
** otherwise).
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hnsw.h"
#include "core/vec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  if (size < I2V_HNSW_HEADER || size > ((size_t)1 << 20)) return 0;
  unsigned char *blob = malloc(size);
  if (!blob) return 0;
  memcpy(blob, data, size);
  if (!(data[0] & 1)) {
    memcpy(blob, I2V_HNSW_MAGIC, 8);
    put32(blob + 8, I2V_HNSW_VERSION);
    put32(blob + 12, I2V_HNSW_HEADER);
  }
  uint32_t n = get32(blob + 16), hdim = get32(blob + 20);
  if (n > 4096) n %= 4097;
  int dim = hdim >= 1 && hdim <= 64 ? (int)hdim : (int)(hdim % 64) + 1;
  put32(blob + 16, n);
  put32(blob + 20, (uint32_t)dim);
  uint64_t items_hash = 0;
  for (int i = 0; i < 8; i++) items_hash |= (uint64_t)blob[48 + i] << (8 * i);
  put64(blob + 56, i2v_hnsw_checksum(blob, size));

  i2v_hnsw *h = NULL;
  int rc = i2v_hnsw_load(blob, size, n, dim, items_hash, &i2v_libc_alloc, &h, err, sizeof(err));
  if (rc != I2V_OK) return 0; /* the loader freed blob */
  if (!h || n == 0) abort();

  /* The model the index claims to be for: n unit rows. */
  size_t stride = i2v_row_stride(dim);
  float *rows = calloc((size_t)n * stride, sizeof(float));
  if (!rows) {
    i2v_hnsw_free(h);
    return 0;
  }
  uint64_t s = 0x9E3779B97F4A7C15ULL ^ size;
  for (uint32_t i = 0; i < n; i++) {
    float *row = rows + (size_t)i * stride;
    for (int d = 0; d < dim; d++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      row[d] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    row[0] += 1e-3f; /* never all zero */
    i2v_vec_unit_row(row, dim, stride);
  }
  const uint32_t probes[3] = {0, n / 2, n - 1};
  for (int p = 0; p < 3; p++) {
    for (int with_from = 0; with_from <= 1; with_from++) {
      i2v_scored *found = NULL;
      size_t nfound = 0;
      size_t ef = 1 + (size_t)(data[(p * 2 + with_from) % size] % 32);
      const float *q = rows + (size_t)probes[p] * stride;
      if (i2v_hnsw_search_from(h, rows, stride, dim, q, with_from ? &probes[p] : NULL,
                               with_from ? 1 : 0, ef, &found, &nfound) != I2V_OK)
        continue; /* out of memory */
      for (size_t k = 0; k < nfound; k++) {
        if (found[k].index >= n || !isfinite(found[k].score)) abort();
        if (k && found[k].score > found[k - 1].score) abort();
      }
    }
  }
  free(rows);
  i2v_hnsw_free(h);
  return 0;
}
