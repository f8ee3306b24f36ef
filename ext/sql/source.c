/*
** sql/source.c: reads an interaction table or view into sequences.
**
** SQL served: the reading half of
**   SELECT item2vec_train('ratings', 'userId', 'movieId', 'order_by=timestamp');
**
** How it works.  The source name is checked with pragma_table_info (a table,
** a view or a virtual table; 'schema.name' when no object has the whole name)
** and so are the columns, so a typo gets a message listing the columns that
** exist.  One scan, SELECT "user", "item" FROM "source" ORDER BY ["order_by",]
** rowid (rowid only when the source has one),
** with every identifier quoted, numbers each distinct user and item as they
** come (NULL users or items are skipped and counted).  Items under min_count
** (or past max_final_vocab) are dropped, the rest renumbered most frequent
** first, and a stable counting sort by user turns the rows into one sequence
** per user, in scan order, which is the order_by order or the source's rowid
** order.  Sequences are never truncated.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/source.h"

/* A growing array of uint32 pairs (user, item) per row, and with order_by
** sorted here, each row's sort key (see sort_key). */
typedef struct row_buffer {
  uint32_t *data;
  uint64_t *keys;   /* NULL unless the scan sorts here */
  size_t n, cap;    /* in rows */
  int keyed;        /* keys are kept */
  int as_double;    /* keys encode doubles (else integers) */
  uint64_t max_abs; /* largest |integer key| so far */
} row_buffer;

static int rows_push(row_buffer *b, uint32_t user, uint32_t item, uint64_t key) {
  if (b->n == b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 65536;
    int ovf = 0;
    size_t bytes = i2v_mul_size(nc, 2 * sizeof(uint32_t), &ovf);
    if (ovf) return SQLITE_NOMEM;
    uint32_t *d = sqlite3_realloc64(b->data, bytes);
    if (!d) return SQLITE_NOMEM;
    b->data = d;
    if (b->keyed) {
      uint64_t *k = sqlite3_realloc64(b->keys, bytes);
      if (!k) return SQLITE_NOMEM;
      b->keys = k;
    }
    b->cap = nc;
  }
  b->data[2 * b->n] = user;
  b->data[2 * b->n + 1] = item;
  if (b->keyed) b->keys[b->n] = key;
  b->n++;
  return SQLITE_OK;
}

/* Sort keys: an order_by value as a uint64 whose unsigned order is SQLite's
** order of the values: NULL (0) first, then numbers.  Integers are kept
** exactly (sign bit flipped) until a REAL arrives; then every key becomes
** an encoded double, which is exact while integers stay within 2^53. */
#define KEY_EXACT_INT ((uint64_t)1 << 53)
static uint64_t key_of_int(int64_t i) {
  return (uint64_t)i ^ ((uint64_t)1 << 63);
}
static uint64_t key_of_double(double d) {
  uint64_t b;
  if (d == 0) d = 0.0; /* -0.0 equals 0.0 */
  memcpy(&b, &d, sizeof(b));
  return (b >> 63) ? ~b : b | ((uint64_t)1 << 63);
}

/* The sort key of column col of the current row; 0 when this cannot order
** the value as SQLite would (TEXT, BLOB, an integer past 2^53 among reals),
** and the scan should let SQLite sort instead. */
static int sort_key(sqlite3_stmt *st, int col, row_buffer *b, uint64_t *out) {
  switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
      *out = 0;
      return 1;
    case SQLITE_INTEGER: {
      int64_t i = sqlite3_column_int64(st, col);
      if (i == INT64_MIN) return 0; /* its key would tie with NULL's */
      uint64_t a = i < 0 ? (uint64_t)(-i) : (uint64_t)i;
      if (a > b->max_abs) b->max_abs = a;
      if (!b->as_double) {
        *out = key_of_int(i);
        return 1;
      }
      if (a > KEY_EXACT_INT) return 0;
      *out = key_of_double((double)i);
      return 1;
    }
    case SQLITE_FLOAT:
      if (!b->as_double) {
        if (b->max_abs > KEY_EXACT_INT) return 0;
        for (size_t r = 0; r < b->n; r++)
          if (b->keys[r])
            b->keys[r] = key_of_double((double)(int64_t)(b->keys[r] ^ ((uint64_t)1 << 63)));
        b->as_double = 1;
      }
      *out = key_of_double(sqlite3_column_double(st, col));
      return 1;
    default:
      return 0;
  }
}

/* One row of a user's history while it is sorted: key, then scan order. */
typedef struct keyed_token {
  uint64_t key;
  uint32_t pos, token;
} keyed_token;

static int by_key_then_pos(const void *a, const void *b) {
  const keyed_token *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* Integer ids are usually small and dense (1..N): for those an array from
** id to index skips the hash table, the cost of most of a large scan.  It
** grows by doubling, up to 2^24 ids and while the ids stay within 8 times
** the number of distinct values seen, so sparse ids cost little memory.
** Only INTEGER values use it; anything else, or a failed growth, goes
** through the vocabulary alone, which stays the one source of truth. */
typedef struct dense_ids {
  uint32_t *index; /* id -> index + 1; 0: not seen yet */
  size_t cap;
} dense_ids;

static int64_t add_id(i2v_vocab *v, dense_ids *d, const i2v_value *val, int *added) {
  if (val->type == SQLITE_INTEGER && val->i >= 0 && (uint64_t)val->i < d->cap && d->index[val->i]) {
    if (added) *added = 0;
    return (int64_t)d->index[val->i] - 1;
  }
  int64_t r = i2v_vocab_add(v, val, added);
  if (r >= 0 && val->type == SQLITE_INTEGER && val->i >= 0 && val->i < (1 << 24)) {
    size_t id = (size_t)val->i;
    if (id >= d->cap && id < 8 * v->n + 4096) {
      size_t nc = d->cap ? d->cap : 4096;
      while (nc <= id) nc *= 2;
      uint32_t *p = sqlite3_realloc64(d->index, nc * sizeof(uint32_t));
      if (p) {
        memset(p + d->cap, 0, (nc - d->cap) * sizeof(uint32_t));
        d->index = p;
        d->cap = nc;
      }
    }
    if (id < d->cap) d->index[id] = (uint32_t)r + 1;
  }
  return r;
}

void i2v_dataset_free(i2v_dataset *ds) {
  i2v_vocab_free(&ds->items);
  sqlite3_free(ds->counts);
  sqlite3_free(ds->tokens);
  sqlite3_free(ds->starts);
  sqlite3_free(ds->schema);
  sqlite3_free(ds->table);
  memset(ds, 0, sizeof(*ds));
}

/* Column names of schema.table (schema may be NULL), as a list for
** messages; returns the number of columns, 0 when there is no such object,
** -1 on an SQLite error (with *pzErr). */
static int table_columns(sqlite3 *db, const char *schema, const char *table, sqlite3_str *names,
                         char **pzErr) {
  sqlite3_stmt *st = NULL;
  int n = 0, rc;
  rc = sqlite3_prepare_v2(db,
                          schema ? "SELECT name FROM pragma_table_info(?1, ?2)"
                                 : "SELECT name FROM pragma_table_info(?1)",
                          -1, &st, NULL);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    return -1;
  }
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  if (schema) sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (names)
      sqlite3_str_appendf(names, "%s%s", n ? ", " : "", (const char *)sqlite3_column_text(st, 0));
    n++;
  }
  if (rc != SQLITE_DONE) {
    /* An unknown schema is "no such object", anything else an error. */
    if (schema && strstr(sqlite3_errmsg(db), "unknown database")) {
      sqlite3_finalize(st);
      return 0;
    }
    *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return n;
}

/* 1 when schema.table has the column, 0 when not, -1 when SQLite failed
** (out of memory, a locked schema) and the answer is unknown. */
static int has_column(sqlite3 *db, const char *schema, const char *table, const char *col) {
  sqlite3_stmt *st = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(db,
                         schema ? "SELECT 1 FROM pragma_table_info(?1, ?2) "
                                  "WHERE name = ?3 COLLATE NOCASE"
                                : "SELECT 1 FROM pragma_table_info(?1) "
                                  "WHERE name = ?3 COLLATE NOCASE",
                         -1, &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  if (schema) sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, col, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize(st);
  return found;
}

/* 1 when the scan `sql` can also select rowid (a rowid table, not a view or
** a WITHOUT ROWID table), judged by whether it prepares. */
static int has_rowid(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  char *probe = sqlite3_mprintf("%s ORDER BY rowid LIMIT 0", sql);
  int ok = probe && sqlite3_prepare_v2(db, probe, -1, &st, NULL) == SQLITE_OK;
  sqlite3_finalize(st);
  sqlite3_free(probe);
  return ok;
}

/* Find the source: the whole name first, then 'schema.name'. */
static int resolve_source(sqlite3 *db, const char *fname, const char *source, i2v_dataset *ds,
                          char **pzErr) {
  int n = table_columns(db, NULL, source, NULL, pzErr);
  if (n < 0) return SQLITE_ERROR;
  if (n > 0) {
    ds->table = sqlite3_mprintf("%s", source);
    return ds->table ? SQLITE_OK : SQLITE_NOMEM;
  }
  const char *dot = strchr(source, '.');
  if (dot && dot != source && dot[1]) {
    char *schema = sqlite3_mprintf("%.*s", (int)(dot - source), source);
    if (!schema) return SQLITE_NOMEM;
    n = table_columns(db, schema, dot + 1, NULL, pzErr);
    if (n > 0) {
      ds->schema = schema;
      ds->table = sqlite3_mprintf("%s", dot + 1);
      return ds->table ? SQLITE_OK : SQLITE_NOMEM;
    }
    sqlite3_free(schema);
    if (n < 0) return SQLITE_ERROR;
  }
  *pzErr = sqlite3_mprintf("%s: no such table or view: '%s'", fname, source);
  return SQLITE_ERROR;
}

static int check_column(sqlite3 *db, const char *fname, i2v_dataset *ds, const char *what,
                        const char *col, char **pzErr) {
  int has = has_column(db, ds->schema, ds->table, col);
  if (has > 0) return SQLITE_OK;
  if (has < 0) {
    int rc = sqlite3_errcode(db);
    *pzErr = sqlite3_mprintf("%s: cannot read the columns of '%s': %s", fname, ds->table,
                             sqlite3_errmsg(db));
    return rc == SQLITE_OK ? SQLITE_ERROR : rc;
  }
  sqlite3_str *names = sqlite3_str_new(db);
  int ncols = table_columns(db, ds->schema, ds->table, names, pzErr);
  int src = sqlite3_str_errcode(names);
  char *list = sqlite3_str_finish(names);
  sqlite3_free(*pzErr);
  *pzErr = NULL;
  if (ncols < 0 || src != SQLITE_OK) { /* out of memory listing them */
    sqlite3_free(list);
    return SQLITE_NOMEM;
  }
  *pzErr = sqlite3_mprintf("%s: no such column '%s' (%s) in '%s'; its columns are %s", fname, col,
                           what, ds->table, list ? list : "?");
  sqlite3_free(list);
  return SQLITE_ERROR;
}

/* Items by count descending, then by first appearance. */
typedef struct counted {
  uint64_t count;
  uint32_t index;
} counted;

static int by_count_desc(const void *a, const void *b) {
  const counted *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

int i2v_source_args(sqlite3_value **argv, const char *fname, const char *names[3], char **pzErr) {
  static const char *what[3] = {"source", "user_col", "item_col"};
  for (int i = 0; i < 3; i++) {
    if (sqlite3_value_type(argv[i]) != SQLITE_TEXT || sqlite3_value_bytes(argv[i]) == 0) {
      *pzErr =
          sqlite3_mprintf("%s: argument %d (%s) must be a non-empty name", fname, i + 1, what[i]);
      return SQLITE_ERROR;
    }
    names[i] = (const char *)sqlite3_value_text(argv[i]);
  }
  /* Column names match without regard to case, as SQLite matches them. */
  if (sqlite3_stricmp(names[1], names[2]) == 0) {
    *pzErr = sqlite3_mprintf(
        "%s: user_col and item_col are both '%s'; name the column of users and the column "
        "of items",
        fname, names[2]);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int i2v_source_read(sqlite3 *db, const char *fname, const char *source, const char *user_col,
                    const char *item_col, const i2v_options *o, i2v_dataset *ds, char **pzErr) {
  i2v_vocab users, all_items;
  dense_ids user_ids = {0}, item_ids = {0};
  row_buffer rows = {0};
  keyed_token *sorting = NULL;
  uint64_t *seq_keys = NULL;
  sqlite3_stmt *st = NULL;
  uint64_t *all_counts = NULL;
  uint32_t *order = NULL, *remap = NULL;
  uint64_t *ucount = NULL;
  char *sql = NULL;
  size_t counts_cap = 0;
  int rc;

  memset(ds, 0, sizeof(*ds));
  i2v_vocab_init(&ds->items, &i2v_sqlite_alloc);
  i2v_vocab_init(&users, &i2v_sqlite_alloc);
  i2v_vocab_init(&all_items, &i2v_sqlite_alloc);

  rc = resolve_source(db, fname, source, ds, pzErr);
  if (rc) goto done;
  if ((rc = check_column(db, fname, ds, "user column", user_col, pzErr)) ||
      (rc = check_column(db, fname, ds, "item column", item_col, pzErr)))
    goto done;
  if (o->order_by && (rc = check_column(db, fname, ds, "order_by", o->order_by, pzErr))) goto done;

  /* With order_by the order column comes along and each user's rows are
  ** sorted here once grouped (much faster than SQLite's sorter on a large
  ** table); a value sort_key cannot order sends the scan back to SQL's
  ** ORDER BY. */
  rows.keyed = o->order_by != NULL;
scan : {
  char *cols = rows.keyed
                   ? sqlite3_mprintf("\"%w\", \"%w\", \"%w\"", user_col, item_col, o->order_by)
                   : sqlite3_mprintf("\"%w\", \"%w\"", user_col, item_col);
  if (cols && ds->schema)
    sql = sqlite3_mprintf("SELECT %s FROM \"%w\".\"%w\"", cols, ds->schema, ds->table);
  else if (cols)
    sql = sqlite3_mprintf("SELECT %s FROM \"%w\"", cols, ds->table);
  sqlite3_free(cols);
}
  if (sql) {
    /* Each user's rows come in order_by order, ties (and sources without
    ** order_by) in rowid order when the source has a rowid: an index the
    ** planner might scan must not reorder a user's history. */
    int rowid = has_rowid(db, sql);
    char *full = NULL;
    if (o->order_by && !rows.keyed)
      full = sqlite3_mprintf("%s ORDER BY \"%w\"%s", sql, o->order_by, rowid ? ", rowid" : "");
    else
      full = sqlite3_mprintf("%s%s", sql, rowid ? " ORDER BY rowid" : "");
    sqlite3_free(sql);
    sql = full;
  }
  if (!sql) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s: cannot read '%s': %s", fname, source, sqlite3_errmsg(db));
    goto done;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    i2v_value uv, iv;
    int added = 0;
    ds->rows++;
    int got_u = i2v_value_from_column(st, 0, &uv);
    int got_i = got_u > 0 ? i2v_value_from_column(st, 1, &iv) : 0;
    if (got_u < 0 || got_i < 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    if (!got_u) {
      ds->null_users++;
      continue;
    }
    int64_t u = add_id(&users, &user_ids, &uv, NULL);
    if (u < 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    if (!got_i) {
      ds->null_items++;
      continue;
    }
    int64_t it = add_id(&all_items, &item_ids, &iv, &added);
    if (it < 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    if ((size_t)it >= counts_cap) {
      size_t nc = counts_cap ? counts_cap * 2 : 4096;
      uint64_t *c2 = sqlite3_realloc64(all_counts, nc * sizeof(uint64_t));
      if (!c2) {
        rc = SQLITE_NOMEM;
        goto done;
      }
      memset(c2 + counts_cap, 0, (nc - counts_cap) * sizeof(uint64_t));
      all_counts = c2;
      counts_cap = nc;
    }
    uint64_t key = 0;
    if (rows.keyed && !sort_key(st, 2, &rows, &key)) {
      /* Start over with SQLite sorting. */
      sqlite3_finalize(st);
      st = NULL;
      sqlite3_free(sql);
      sql = NULL;
      i2v_vocab_free(&users);
      i2v_vocab_free(&all_items);
      i2v_vocab_init(&users, &i2v_sqlite_alloc);
      i2v_vocab_init(&all_items, &i2v_sqlite_alloc);
      if (user_ids.cap) memset(user_ids.index, 0, user_ids.cap * sizeof(uint32_t));
      if (item_ids.cap) memset(item_ids.index, 0, item_ids.cap * sizeof(uint32_t));
      if (counts_cap) memset(all_counts, 0, counts_cap * sizeof(uint64_t));
      rows.n = 0;
      rows.keyed = 0;
      ds->rows = ds->null_users = ds->null_items = 0;
      goto scan;
    }
    all_counts[it]++;
    if ((rc = rows_push(&rows, (uint32_t)u, (uint32_t)it, key)) != SQLITE_OK) goto done;
  }
  if (rc != SQLITE_DONE) {
    if (rc == SQLITE_INTERRUPT)
      *pzErr = sqlite3_mprintf("%s: interrupted", fname);
    else if (rc != SQLITE_NOMEM)
      *pzErr = sqlite3_mprintf("%s: reading '%s' failed: %s", fname, source, sqlite3_errmsg(db));
    goto done;
  }
  rc = SQLITE_OK;
  ds->users = users.n;
  if (rows.n == 0) {
    *pzErr = sqlite3_mprintf(
        ds->rows ? "%s: source '%s' has no row where both the user and the item are non-NULL"
                 : "%s: source '%s' is empty",
        fname, source);
    rc = SQLITE_ERROR;
    goto done;
  }

  /* Keep items with enough occurrences; number them most frequent first. */
  {
    size_t n = all_items.n;
    order = sqlite3_malloc64(n * sizeof(uint32_t));
    remap = sqlite3_malloc64(n * sizeof(uint32_t));
    if (!order || !remap) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    counted *byc = sqlite3_malloc64(n * sizeof(counted));
    if (!byc) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    for (size_t i = 0; i < n; i++) {
      byc[i].count = all_counts[i];
      byc[i].index = (uint32_t)i;
    }
    qsort(byc, n, sizeof(counted), by_count_desc);
    for (size_t i = 0; i < n; i++) order[i] = byc[i].index;
    sqlite3_free(byc);
    uint64_t min_count = (uint64_t)o->min_count;
    if (o->max_final_vocab > 0 && n > (size_t)o->max_final_vocab) {
      uint64_t cut = all_counts[order[o->max_final_vocab]] + 1;
      if (cut > min_count) min_count = cut;
    }
    size_t kept = 0;
    while (kept < n && all_counts[order[kept]] >= min_count) kept++;
    if (kept == 0) {
      *pzErr =
          sqlite3_mprintf("%s: no item occurs at least %llu times (min_count); nothing to learn",
                          fname, (unsigned long long)min_count);
      rc = SQLITE_ERROR;
      goto done;
    }
    for (size_t i = 0; i < n; i++) remap[i] = UINT32_MAX;
    for (size_t k = 0; k < kept; k++) remap[order[k]] = (uint32_t)k;
    if (i2v_vocab_select(&all_items, order, kept, &ds->items) != I2V_OK) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    ds->counts = sqlite3_malloc64((kept ? kept : 1) * sizeof(uint64_t));
    if (!ds->counts) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    for (size_t k = 0; k < kept; k++) {
      ds->counts[k] = all_counts[order[k]];
      ds->items.entries[k].count = ds->counts[k];
    }
    ds->dropped_items = n - kept;
  }

  /* Group by user: count kept tokens per user, then place them in order. */
  {
    size_t nu = users.n;
    ucount = sqlite3_malloc64((nu + 1) * sizeof(uint64_t));
    if (!ucount) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    memset(ucount, 0, (nu + 1) * sizeof(uint64_t));
    for (size_t r = 0; r < rows.n; r++) {
      if (remap[rows.data[2 * r + 1]] == UINT32_MAX) {
        ds->dropped_tokens++;
        continue;
      }
      ucount[rows.data[2 * r]]++;
    }
    uint64_t nseq = 0, ntok = 0;
    for (size_t u = 0; u < nu; u++) {
      if (ucount[u] >= 2) {
        nseq++;
        ntok += ucount[u];
        if (ucount[u] > ds->longest) ds->longest = ucount[u];
      }
    }
    if (nseq == 0) {
      *pzErr = sqlite3_mprintf(
          "%s: no user in '%s' has two or more items; item2vec learns from "
          "items that occur together, so each user needs at least two",
          fname, source);
      rc = SQLITE_ERROR;
      goto done;
    }
    ds->tokens = sqlite3_malloc64(ntok * sizeof(uint32_t));
    ds->starts = sqlite3_malloc64((nseq + 1) * sizeof(uint64_t));
    if (rows.keyed) {
      seq_keys = sqlite3_malloc64(ntok * sizeof(uint64_t));
      sorting = sqlite3_malloc64(ds->longest * sizeof(keyed_token));
    }
    if (!ds->tokens || !ds->starts || (rows.keyed && (!seq_keys || !sorting))) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    /* ucount becomes each user's write position (UINT64_MAX: not kept). */
    uint64_t pos = 0, s = 0;
    for (size_t u = 0; u < nu; u++) {
      if (ucount[u] >= 2) {
        ds->starts[s++] = pos;
        uint64_t c = ucount[u];
        ucount[u] = pos;
        pos += c;
      } else {
        ucount[u] = UINT64_MAX;
      }
    }
    ds->starts[s] = pos;
    for (size_t r = 0; r < rows.n; r++) {
      uint32_t u = rows.data[2 * r], it = remap[rows.data[2 * r + 1]];
      if (it == UINT32_MAX || ucount[u] == UINT64_MAX) continue;
      if (rows.keyed) seq_keys[ucount[u]] = rows.keys[r];
      ds->tokens[ucount[u]++] = it;
    }
    /* order_by sorted here: each history by key, ties in scan order. */
    for (uint64_t q = 0; rows.keyed && q < nseq; q++) {
      uint64_t lo = ds->starts[q], len = ds->starts[q + 1] - lo, k;
      for (k = 1; k < len && seq_keys[lo + k - 1] <= seq_keys[lo + k]; k++) {
      }
      if (k == len) continue; /* already in order */
      for (k = 0; k < len; k++) {
        sorting[k].key = seq_keys[lo + k];
        sorting[k].pos = (uint32_t)k;
        sorting[k].token = ds->tokens[lo + k];
      }
      qsort(sorting, len, sizeof(keyed_token), by_key_then_pos);
      for (k = 0; k < len; k++) ds->tokens[lo + k] = sorting[k].token;
    }
    ds->nseq = nseq;
    ds->ntokens = ntok;
  }

done:
  sqlite3_finalize(st);
  sqlite3_free(sql);
  sqlite3_free(rows.data);
  sqlite3_free(rows.keys);
  sqlite3_free(user_ids.index);
  sqlite3_free(item_ids.index);
  sqlite3_free(sorting);
  sqlite3_free(seq_keys);
  sqlite3_free(all_counts);
  sqlite3_free(order);
  sqlite3_free(remap);
  sqlite3_free(ucount);
  i2v_vocab_free(&users);
  i2v_vocab_free(&all_items);
  if (rc != SQLITE_OK) {
    /* An error without a message: the message itself ran out of memory. */
    if (!*pzErr && rc == SQLITE_ERROR) rc = SQLITE_NOMEM;
    if (!*pzErr) {
      *pzErr = sqlite3_mprintf(
          "%s: %s", fname,
          rc == SQLITE_NOMEM ? "out of memory reading the source" : sqlite3_errstr(rc));
    }
    i2v_dataset_free(ds);
  }
  return rc;
}
