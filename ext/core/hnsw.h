/*
** core/hnsw.h: an approximate nearest-neighbour index over a model's unit
** rows, a hierarchical navigable small-world graph (HNSW, Malkov and
** Yashunin 2016).  No SQLite in here: the index is built from plain rows,
** serialised to one buffer that the SQLite side stores in chunks, and loaded
** back from such a buffer with every field and every neighbour id checked.
**
** The index does not hold vectors: it holds, for each item of the model (by
** its row number), a level and a list of neighbours per level, and it is
** searched against the model's own rows.  A header ties it to one model:
** item count, dimension and a hash of the item keys in row order.
*/
#ifndef I2V_HNSW_H
#define I2V_HNSW_H

#include "core/common.h"
#include "core/topk.h"

/* Returned by i2v_hnsw_load for a well-formed index of other items. */
#define I2V_HNSW_STALE 10

#define I2V_HNSW_MAGIC "I2VHNSW"
#define I2V_HNSW_VERSION 1
#define I2V_HNSW_HEADER 64

typedef struct i2v_hnsw_params {
  int M;               /* links per node on upper levels (2*M on level 0): 48 */
  int ef_construction; /* search width while building: 400 */
  int ef_search;       /* default search width of queries: 64 */
  int threads;         /* build threads: the number of cores */
  int64_t seed;        /* level draws: 1 */
  int verbose;         /* progress on stderr (the SQLite side prints it) */
} i2v_hnsw_params;

void i2v_hnsw_params_init(i2v_hnsw_params *p, int ncpu, int verbose);

/* Apply one "name=value" option.  I2V_ERROR with "<fname>: ..." in err when
** the name is unknown or the value out of range. */
int i2v_hnsw_params_set(i2v_hnsw_params *p, const char *arg, const char *fname, char *err,
                        size_t errlen);

/* The params as a JSON object (into buf, always terminated). */
void i2v_hnsw_params_json(const i2v_hnsw_params *p, char *buf, size_t n);

typedef struct i2v_hnsw i2v_hnsw;

/* Called by the building thread every few hundred insertions; nonzero
** stops the build (I2V_CANCELLED). */

/* Build an index over rows[0..n) (unit length, stride floats apart, zero
** padded).  Worker threads only compute; poll runs on the calling thread. */
int i2v_hnsw_build(const i2v_hnsw_params *p, const float *rows, size_t stride, int dim, uint32_t n,
                   uint64_t items_hash, const i2v_alloc *a, i2v_poll_fn poll, void *poll_ctx,
                   i2v_hnsw **out, char *err, size_t errlen);

/* The serialised index (header and payload, little-endian), valid until the
** index is freed.  On big-endian hosts the caller must call
** i2v_hnsw_to_le before and i2v_hnsw_from_le after writing it. */
const unsigned char *i2v_hnsw_bytes(const i2v_hnsw *h, size_t *len);

/* Load an index from blob[0..len) (allocated with a; the index takes it, and
** frees it on failure too).  It must be for n items of dimension dim whose
** keys hash to items_hash: otherwise I2V_HNSW_STALE.  A damaged buffer is
** I2V_ERROR with what is wrong in err; nothing in it is trusted before it is
** checked, so a loaded index only ever yields row numbers below n. */
int i2v_hnsw_load(unsigned char *blob, size_t len, uint32_t n, int dim, uint64_t items_hash,
                  const i2v_alloc *a, i2v_hnsw **out, char *err, size_t errlen);

/* The about width-ef best rows for unit query q, best first, in a buffer
** owned by the index (valid until the next search).  One search at a time
** per index.  from[0..nfrom): rows of the graph near the query, the items
** the query was made of for instance (up to 64 are used).  With one row (a
** one-item query: that item's row) the walk starts there instead of from
** the top; with several it starts from them and from where the walk down
** from the top ends; with none (from may be NULL) from the top. */
int i2v_hnsw_search_from(i2v_hnsw *h, const float *rows, size_t stride, int dim, const float *q,
                         const uint32_t *from, size_t nfrom, size_t ef, i2v_scored **found,
                         size_t *nfound);

int i2v_hnsw_ef_search(const i2v_hnsw *h);
int i2v_hnsw_max_level(const i2v_hnsw *h);
void i2v_hnsw_free(i2v_hnsw *h);

/* The checksum of the header's checksum field: a 64-bit hash of every other
** byte of the buffer. */
uint64_t i2v_hnsw_checksum(const unsigned char *blob, size_t len);

/* Byte order of the payload, for big-endian hosts (no-ops elsewhere). */
void i2v_hnsw_to_le(i2v_hnsw *h);
void i2v_hnsw_from_le(i2v_hnsw *h);

/* A hash of item keys in row order, fed one key at a time. */
static inline uint64_t i2v_hnsw_hash_add(uint64_t h, uint64_t key) {
  h ^= key + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 32);
}

#endif
