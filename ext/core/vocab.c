/*
** core/vocab.c: the item and user table, keyed by SQL value.
**
** How it works: entries live in one growing array (their index is the item's
** id during training); a separate open-addressing array of slots maps a key's
** hash to the entry (and keeps half the hash, so probes past other keys
** rarely read their entries).  Integer keys hash their 64 bits; other keys
** hash their bytes, which live in one growing arena so a million items cost
** a few allocations, not a million.  A loader that expects few duplicates
** appends entries unindexed and indexes them in one pass
** (i2v_vocab_index), with the slots prefetched ahead of the inserts.
**
** The hash is keyed with a secret drawn once per process from the system's
** random source, so no fixed list of ids can be chosen to share slots (with
** a fixed, invertible mixer, ids chosen to collide made every insert probe
** past all the others).  Only where entries sit in the slots depends on the
** key; the entries' order, and so every result, does not.
*/
#include "core/vocab.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "core/random.h"

void i2v_vocab_init(i2v_vocab *v, const i2v_alloc *a) {
  memset(v, 0, sizeof(*v));
  v->alloc = a;
}

void i2v_vocab_free(i2v_vocab *v) {
  if (!v->alloc) return;
  i2v_free(v->alloc, v->entries);
  i2v_free(v->alloc, v->slots);
  i2v_free(v->alloc, v->arena);
  const i2v_alloc *a = v->alloc;
  memset(v, 0, sizeof(*v));
  v->alloc = a;
}

int i2v_parse_canonical_int(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  int neg = 0;
  uint64_t acc = 0;
  if (n == 0 || n > 20) return 0;
  if (s[0] == '-') {
    neg = 1;
    i = 1;
    if (n == 1) return 0;
  }
  if (s[i] == '0' && n > i + 1) return 0; /* leading zero */
  if (neg && s[i] == '0') return 0;       /* "-0" */
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (acc > (UINT64_MAX - d) / 10) return 0;
    acc = acc * 10 + d;
  }
  if (neg) {
    if (acc > (uint64_t)INT64_MAX + 1) return 0;
    *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
  } else {
    if (acc > (uint64_t)INT64_MAX) return 0;
    *out = (int64_t)acc;
  }
  return 1;
}

/* Kinds of key.  A BLOB never equals a text in SQL, so its bytes are a key
** of their own kind even when they spell the same characters. */
enum { KEY_TEXT = 0, KEY_INT = 1, KEY_BLOB = 2 };

/* The key of a value: KEY_INT with *ik set, or KEY_TEXT / KEY_BLOB with the
** bytes in *kb, *kn. */
static int key_of(const i2v_value *val, int64_t *ik, const char **kb, size_t *kn) {
  switch (val->type) {
    case I2V_INTEGER:
      *ik = val->i;
      return 1;
    case I2V_FLOAT:
      if (isfinite(val->r) && val->r == floor(val->r) && val->r >= -9.2e18 && val->r <= 9.2e18) {
        *ik = (int64_t)val->r;
        return 1;
      }
      break;
    case I2V_TEXT:
      if (i2v_parse_canonical_int((const char *)val->bytes, val->n, ik)) return 1;
      break;
    default:
      break;
  }
  *kb = (const char *)val->bytes;
  *kn = val->n;
  return val->type == I2V_BLOB ? KEY_BLOB : KEY_TEXT;
}

static int entry_kind(const i2v_vocab_entry *e) {
  return e->key_is_int ? KEY_INT : e->type == I2V_BLOB ? KEY_BLOB : KEY_TEXT;
}

/* ---- the keyed hash ----------------------------------------------------- */

static uint64_t hash_key[4];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

/* The process's key (core/random.c). */
static void draw_hash_key(void) {
  i2v_random_bytes(hash_key, sizeof(hash_key));
  /* The multipliers must be odd, or low bits of the product would be lost. */
  hash_key[1] |= 1;
  hash_key[3] |= 1;
}

static inline const uint64_t *key(void) {
  pthread_once(&hash_key_once, draw_hash_key);
  return hash_key;
}

/* 64 x 64 -> 128 bits, the halves folded together (wyhash's mixer). */
static inline uint64_t mum(uint64_t a, uint64_t b) {
  __uint128_t r = (__uint128_t)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t hash_int(int64_t k) {
  const uint64_t *kk = key();
  return mum(mum((uint64_t)k ^ kk[0], kk[1]) ^ kk[2], kk[3]);
}

/* Eight bytes at a time, each word mixed with the key. */
static uint64_t hash_bytes(const char *p, size_t n) {
  const uint64_t *kk = key();
  uint64_t h = kk[2] ^ ((uint64_t)n * 0x9E3779B97F4A7C15ULL);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = mum(h ^ w ^ kk[0], kk[1]);
  }
  if (i < n) {
    uint64_t w = 0;
    memcpy(&w, p + i, n - i);
    h = mum(h ^ w ^ kk[0], kk[1] ^ 0xE7037ED1A0B428DAULL);
  }
  return mum(h ^ kk[2], kk[3]);
}

static const char *key_ptr(const i2v_vocab *v, const i2v_vocab_entry *e) {
  return v->arena ? v->arena + e->off : "";
}

static int entry_matches(const i2v_vocab *v, const i2v_vocab_entry *e, int kind, int64_t ik,
                         const char *kb, size_t kn) {
  if (entry_kind(e) != kind) return 0;
  if (kind == KEY_INT) return e->v.i == ik;
  return e->len == kn && (kn == 0 || memcmp(key_ptr(v, e), kb, kn) == 0);
}

static uint64_t entry_hash(const i2v_vocab *v, const i2v_vocab_entry *e) {
  return e->key_is_int ? hash_int(e->v.i) : hash_bytes(key_ptr(v, e), e->len);
}

static uint64_t key_hash(int kind, int64_t ik, const char *kb, size_t kn) {
  return kind == KEY_INT ? hash_int(ik) : hash_bytes(kb, kn);
}

/* A slot is 0 when empty; otherwise its low 32 bits hold the entry's index
** + 1 and its high 32 bits the high half of the key's hash (the low bits
** pick the slot), so a probe reads an entry, a cache miss of its own in a
** large table, only when those match. */
static uint64_t slot_of(uint64_t hash, size_t idx) {
  return (hash & 0xffffffff00000000ULL) | (uint64_t)(idx + 1);
}
#define SLOT_ENTRY(s) ((size_t)(uint32_t)(s)-1)

static int grow_slots(i2v_vocab *v) {
  size_t ns = v->nslots ? v->nslots * 2 : 64;
  int ovf = 0;
  size_t bytes = i2v_mul_size(ns, sizeof(uint64_t), &ovf);
  if (ovf) return I2V_NOMEM;
  uint64_t *s = i2v_malloc(v->alloc, bytes);
  if (!s) return I2V_NOMEM;
  memset(s, 0, bytes);
  for (size_t i = 0; i < v->nindexed; i++) {
    uint64_t hash = entry_hash(v, &v->entries[i]);
    size_t h = (size_t)hash & (ns - 1);
    while (s[h]) h = (h + 1) & (ns - 1);
    s[h] = slot_of(hash, i);
  }
  i2v_free(v->alloc, v->slots);
  v->slots = s;
  v->nslots = ns;
  return I2V_OK;
}

/* The entry with the key (of hash h), or -1 with *slot_out set to the
** empty slot where it would go. */
static int64_t lookup(const i2v_vocab *v, int kind, int64_t ik, const char *kb, size_t kn,
                      uint64_t h, size_t *slot_out) {
  if (!v->nslots) {
    if (slot_out) *slot_out = (size_t)-1;
    return -1;
  }
  size_t m = v->nslots - 1, i = (size_t)h & m;
  uint64_t s;
  while ((s = v->slots[i]) != 0) {
    if ((s ^ h) >> 32 == 0 && entry_matches(v, &v->entries[SLOT_ENTRY(s)], kind, ik, kb, kn))
      return (int64_t)SLOT_ENTRY(s);
    i = (i + 1) & m;
  }
  if (slot_out) *slot_out = i;
  return -1;
}

int64_t i2v_vocab_find(const i2v_vocab *v, const i2v_value *val) {
  int64_t ik = 0;
  const char *kb = NULL;
  size_t kn = 0;
  int kind = key_of(val, &ik, &kb, &kn);
  return lookup(v, kind, ik, kb, kn, key_hash(kind, ik, kb, kn), NULL);
}

/* Room for cap entries (cap > v->cap), the entries kept. */
static int grow_entries(i2v_vocab *v, size_t cap) {
  int ovf = 0;
  size_t bytes = i2v_mul_size(cap, sizeof(i2v_vocab_entry), &ovf);
  if (ovf) return I2V_NOMEM;
  i2v_vocab_entry *e = i2v_malloc(v->alloc, bytes);
  if (!e) return I2V_NOMEM;
  if (v->n) memcpy(e, v->entries, v->n * sizeof(*e));
  i2v_free(v->alloc, v->entries);
  v->entries = e;
  v->cap = cap;
  return I2V_OK;
}

static int append_entry(i2v_vocab *v, const i2v_vocab_entry *proto, const char *kb, size_t kn) {
  if (v->n >= 0xfffffffeu) return I2V_NOMEM;
  if (v->n == v->cap && grow_entries(v, v->cap ? v->cap * 2 : 64) != I2V_OK) return I2V_NOMEM;
  i2v_vocab_entry e = *proto;
  if (!e.key_is_int) {
    if (kn > 0xffffffffu) return I2V_NOMEM;
    if (v->arena_len + kn > v->arena_cap) {
      size_t nc = v->arena_cap ? v->arena_cap : 4096;
      while (nc < v->arena_len + kn) {
        if (nc > SIZE_MAX / 2) return I2V_NOMEM;
        nc *= 2;
      }
      char *ar = i2v_malloc(v->alloc, nc);
      if (!ar) return I2V_NOMEM;
      if (v->arena_len) memcpy(ar, v->arena, v->arena_len);
      i2v_free(v->alloc, v->arena);
      v->arena = ar;
      v->arena_cap = nc;
    }
    if (kn) memcpy(v->arena + v->arena_len, kb, kn);
    e.off = v->arena_len;
    e.len = (uint32_t)kn;
    v->arena_len += kn;
  }
  v->entries[v->n++] = e;
  return I2V_OK;
}

/* The entry of a value of the given key kind. */
static void entry_of(const i2v_value *val, int kind, int64_t ik, i2v_vocab_entry *e) {
  memset(e, 0, sizeof(*e));
  e->key_is_int = (uint8_t)(kind == KEY_INT);
  e->type = (uint8_t)val->type;
  if (kind == KEY_INT)
    e->v.i = ik;
  else if (val->type == I2V_FLOAT)
    e->v.r = val->r;
}

int64_t i2v_vocab_add(i2v_vocab *v, const i2v_value *val, int *added) {
  int64_t ik = 0;
  const char *kb = NULL;
  size_t kn = 0, slot = 0;
  int kind = key_of(val, &ik, &kb, &kn);
  if (added) *added = 0;
  uint64_t h = key_hash(kind, ik, kb, kn);
  int64_t found = lookup(v, kind, ik, kb, kn, h, &slot);
  if (found >= 0) return found;
  if ((v->n + 1) * 2 > v->nslots) {
    if (grow_slots(v) != I2V_OK) return -1;
    lookup(v, kind, ik, kb, kn, h, &slot);
  }
  i2v_vocab_entry e;
  entry_of(val, kind, ik, &e);
  if (append_entry(v, &e, kb, kn) != I2V_OK) return -1;
  v->slots[slot] = slot_of(h, v->n - 1);
  v->nindexed = v->n;
  if (added) *added = 1;
  return (int64_t)v->n - 1;
}

int64_t i2v_vocab_append(i2v_vocab *v, const i2v_value *val) {
  int64_t ik = 0;
  const char *kb = NULL;
  size_t kn = 0;
  int kind = key_of(val, &ik, &kb, &kn);
  i2v_vocab_entry e;
  entry_of(val, kind, ik, &e);
  if (append_entry(v, &e, kb, kn) != I2V_OK) return -1;
  return (int64_t)v->n - 1;
}

/*
** Index the appended entries in one pass.  One insert at a time waits on a
** cache miss for its slot, the slots being probed at random; here the hash
** of the entry I2V_VOCAB_AHEAD places ahead is computed and its slot
** prefetched, so that many misses are in flight at once.  Duplicates go as
** the entries are moved down over them.
*/
#define I2V_VOCAB_AHEAD 16

int i2v_vocab_index(i2v_vocab *v, const i2v_vocab_hooks *hooks) {
  static const i2v_vocab_hooks none = {NULL, NULL, NULL, NULL};
  const i2v_vocab_hooks *hk = hooks ? hooks : &none;
  uint64_t ring[I2V_VOCAB_AHEAD];
  size_t n = v->n, w = v->nindexed;
  int rc = I2V_OK;
  while ((n + 1) * 2 > v->nslots)
    if (grow_slots(v) != I2V_OK) return I2V_NOMEM;
  size_t mask = v->nslots - 1;
  for (size_t r = w; r < n && r < w + I2V_VOCAB_AHEAD; r++) {
    ring[r % I2V_VOCAB_AHEAD] = entry_hash(v, &v->entries[r]);
    __builtin_prefetch(&v->slots[ring[r % I2V_VOCAB_AHEAD] & mask], 1);
  }
  for (size_t r = w; r < n; r++) {
    if (hk->cancel && ((r - v->nindexed) & 0xffff) == 0xffff && hk->cancel(hk->ctx)) {
      rc = I2V_CANCELLED;
      break;
    }
    uint64_t h = ring[r % I2V_VOCAB_AHEAD];
    size_t i = (size_t)h & mask;
    if (r + I2V_VOCAB_AHEAD < n) {
      /* Read before any entry moves: moves only write below r. */
      uint64_t next = entry_hash(v, &v->entries[r + I2V_VOCAB_AHEAD]);
      ring[r % I2V_VOCAB_AHEAD] = next;
      __builtin_prefetch(&v->slots[next & mask], 1);
    }
    const i2v_vocab_entry *e = &v->entries[r];
    int kind = entry_kind(e), dup = 0;
    const char *kb = key_ptr(v, e);
    uint64_t s;
    while ((s = v->slots[i]) != 0) {
      if ((s ^ h) >> 32 == 0 &&
          entry_matches(v, &v->entries[SLOT_ENTRY(s)], kind, e->v.i, kb, e->len)) {
        dup = 1;
        break;
      }
      i = (i + 1) & mask;
    }
    if (dup) {
      if (hk->duplicate && hk->duplicate(hk->ctx, r, SLOT_ENTRY(s))) {
        rc = I2V_ERROR;
        break;
      }
      continue;
    }
    if (w != r) {
      v->entries[w] = *e;
      if (hk->moved) hk->moved(hk->ctx, r, w);
    }
    v->slots[i] = slot_of(h, w++);
  }
  /* Stopped early: the entries not reached go (see i2v_vocab.h). */
  v->n = v->nindexed = w;
  return rc;
}

size_t i2v_vocab_longest_run(const i2v_vocab *v) {
  size_t best = 0, run = 0;
  /* Twice round, so a run that wraps past the end is counted whole. */
  for (size_t k = 0; k < 2 * v->nslots; k++) {
    run = v->slots[k & (v->nslots - 1)] ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best < v->nslots ? best : v->nslots;
}

int i2v_vocab_reserve(i2v_vocab *v, size_t n) {
  if (n >= 0xfffffffeu) return I2V_NOMEM;
  if (n > v->cap && grow_entries(v, n) != I2V_OK) return I2V_NOMEM;
  while ((n + 1) * 2 > v->nslots)
    if (grow_slots(v) != I2V_OK) return I2V_NOMEM;
  return I2V_OK;
}

int i2v_vocab_select(const i2v_vocab *src, const uint32_t *order, size_t n, i2v_vocab *dst) {
  for (size_t k = 0; k < n; k++) {
    const i2v_vocab_entry *e = &src->entries[order[k]];
    size_t slot = 0;
    if ((dst->n + 1) * 2 > dst->nslots && grow_slots(dst) != I2V_OK) return I2V_NOMEM;
    const char *kb = key_ptr(src, e);
    uint64_t h = entry_hash(src, e);
    int64_t got = lookup(dst, entry_kind(e), e->v.i, kb, e->len, h, &slot);
    if (got >= 0) continue; /* cannot happen: src keys are unique */
    if (append_entry(dst, e, kb, e->len) != I2V_OK) return I2V_NOMEM;
    dst->slots[slot] = slot_of(h, dst->n - 1);
    dst->nindexed = dst->n;
  }
  return I2V_OK;
}
