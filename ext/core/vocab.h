/*
** core/vocab.h: a table of items (or users) keyed by their SQL value.
**
** Items keep the SQL type they came with (integer stays integer, text stays
** text), but '1' and 1 are one item: an integer, an integral real, and a text
** that spells a canonical integer all key as that integer; any other value keys
** by its bytes (a BLOB's bytes never match a text's, as in SQL).  No SQLite
** in here: the caller hands over the value's type and payload.
*/
#ifndef I2V_VOCAB_H
#define I2V_VOCAB_H

#include "core/common.h"

/* SQL value types, numbered as SQLite numbers them. */
enum { I2V_INTEGER = 1, I2V_FLOAT = 2, I2V_TEXT = 3, I2V_BLOB = 4 };

/* A value to look up or add.  For I2V_FLOAT, bytes/n must hold the value's
** text form (used as the key when the value is not integral). */
typedef struct i2v_value {
  int type;
  int64_t i;
  double r;
  const void *bytes;
  size_t n;
} i2v_value;

typedef struct i2v_vocab_entry {
  union {
    int64_t i; /* key (and value) when key_is_int */
    double r;  /* original value of a non-integral real */
  } v;
  uint64_t count; /* occurrences, or the stored frequency */
  size_t off;     /* bytes of a non-integer key in the arena */
  uint32_t len;
  uint8_t key_is_int;
  uint8_t type; /* original SQL type */
} i2v_vocab_entry;

typedef struct i2v_vocab {
  const i2v_alloc *alloc;
  i2v_vocab_entry *entries;
  size_t n, cap;
  uint64_t *slots; /* open addressing: 0 = empty, else entry index + 1 in the low
                      32 bits, the high 32 bits of the key's hash above */
  size_t nslots;   /* power of two */
  size_t nindexed; /* entries [0, nindexed) are in the slots (see i2v_vocab_append) */
  char *arena;
  size_t arena_len, arena_cap;
} i2v_vocab;

void i2v_vocab_init(i2v_vocab *v, const i2v_alloc *a);
void i2v_vocab_free(i2v_vocab *v);

/* Make room for n entries (and their hash slots) so that adding up to n
** items does not reallocate: a loader that knows the count up front saves
** the rehashing.  I2V_OK or I2V_NOMEM. */
int i2v_vocab_reserve(i2v_vocab *v, size_t n);

/* Index of the value, adding it when new (*added = 1).  -1 on OOM or when
** the table would exceed 2^32-2 entries. */
int64_t i2v_vocab_add(i2v_vocab *v, const i2v_value *val, int *added);

/* Bulk loading: append the value as a new entry without looking it up
** (its index, or -1 on OOM or past 2^32-2 entries), then index all appended
** entries at once with i2v_vocab_index, which is several times faster than
** one i2v_vocab_add per value on large tables.  Between the two, lookups do
** not see the appended entries and i2v_vocab_add must not be called.
** i2v_vocab_index drops an appended entry whose key an earlier entry has
** (the first keeps its index) and moves the later ones down to close the
** gap; hooks (NULL, or any member NULL) tell the caller:
**   moved(ctx, from, to)      an entry moved down (from > to, in increasing
**                             order), so the caller can move what it keeps
**                             per entry;
**   duplicate(ctx, r, first)  appended entry r (still as it was) has the key
**                             of entry first; nonzero stops with I2V_ERROR;
**   cancel(ctx)               asked every 65536 entries; nonzero stops with
**                             I2V_CANCELLED.
** I2V_OK; I2V_NOMEM with nothing changed; or, stopped by a hook, the entries
** indexed so far kept and the others gone (callers then free it). */
typedef struct i2v_vocab_hooks {
  void *ctx;
  void (*moved)(void *ctx, size_t from, size_t to);
  int (*duplicate)(void *ctx, size_t r, size_t first);
  int (*cancel)(void *ctx);
} i2v_vocab_hooks;
int64_t i2v_vocab_append(i2v_vocab *v, const i2v_value *val);
int i2v_vocab_index(i2v_vocab *v, const i2v_vocab_hooks *hooks);

/* The longest run of occupied hash slots: what a lookup may have to probe
** (tests check that chosen keys cannot make it long). */
size_t i2v_vocab_longest_run(const i2v_vocab *v);

/* Index of the value, or -1 when absent. */
int64_t i2v_vocab_find(const i2v_vocab *v, const i2v_value *val);

/* Copy entries order[0..n-1] of src into dst (freshly initialised), in that
** order, counts included. */
int i2v_vocab_select(const i2v_vocab *src, const uint32_t *order, size_t n, i2v_vocab *dst);

/* The bytes of a non-integer key. */
static inline const char *i2v_vocab_bytes(const i2v_vocab *v, const i2v_vocab_entry *e) {
  return v->arena ? v->arena + e->off : "";
}

/* Parse a canonical integer ("0", "-12", no '+', no leading zeros, fits in
** int64).  Returns 1 and sets *out when s[0..n-1] is one. */
int i2v_parse_canonical_int(const char *s, size_t n, int64_t *out);

#endif
