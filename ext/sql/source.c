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
** come (NULL users or items are skipped and counted).  The rest is pure and
** lives in core/corpus.c: items under min_count (or past max_final_vocab) are
** dropped, the rest renumbered most frequent first, and a stable counting
** sort by user turns the rows into one sequence per user, in scan order,
** which is the order_by order or the source's rowid order.  With order_by
** the scan carries each row's key and the histories are sorted once grouped;
** a key that cannot be ordered here sends a second scan to SQLite's ORDER BY.
** Sequences are never truncated.
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
  i2v_corpus_free(&ds->corpus, &i2v_sqlite_alloc);
  i2v_vocab_free(&ds->items);
  sqlite3_free(ds->counts);
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

/* What one scan collects: every distinct user and item in order of first
** appearance, the rows as index pairs (and sort keys), and the counts. */
typedef struct scan_state {
  i2v_vocab users, items;
  dense_ids user_ids, item_ids;
  row_buffer rows;
  uint64_t nrows, null_users, null_items;
} scan_state;

static void scan_init(scan_state *sc, int keyed) {
  memset(sc, 0, sizeof(*sc));
  i2v_vocab_init(&sc->users, &i2v_sqlite_alloc);
  i2v_vocab_init(&sc->items, &i2v_sqlite_alloc);
  sc->rows.keyed = keyed;
}

static void scan_free(scan_state *sc) {
  i2v_vocab_free(&sc->users);
  i2v_vocab_free(&sc->items);
  sqlite3_free(sc->user_ids.index);
  sqlite3_free(sc->item_ids.index);
  sqlite3_free(sc->rows.data);
  sqlite3_free(sc->rows.keys);
  memset(sc, 0, sizeof(*sc));
}

/* The scan's SELECT: the user and item columns (and order_by's when the
** rows are sorted here), each user's rows in order_by order when SQLite
** sorts, ties (and sources without order_by) in rowid order when the source
** has a rowid: an index the planner might scan must not reorder a user's
** history.  NULL when out of memory. */
static char *scan_sql(sqlite3 *db, const i2v_dataset *ds, const char *user_col,
                      const char *item_col, const char *order_by, int keyed) {
  char *cols = keyed ? sqlite3_mprintf("\"%w\", \"%w\", \"%w\"", user_col, item_col, order_by)
                     : sqlite3_mprintf("\"%w\", \"%w\"", user_col, item_col);
  char *sql = NULL, *full = NULL;
  if (cols && ds->schema)
    sql = sqlite3_mprintf("SELECT %s FROM \"%w\".\"%w\"", cols, ds->schema, ds->table);
  else if (cols)
    sql = sqlite3_mprintf("SELECT %s FROM \"%w\"", cols, ds->table);
  sqlite3_free(cols);
  if (!sql) return NULL;
  int rowid = has_rowid(db, sql);
  if (order_by && !keyed)
    full = sqlite3_mprintf("%s ORDER BY \"%w\"%s", sql, order_by, rowid ? ", rowid" : "");
  else
    full = sqlite3_mprintf("%s%s", sql, rowid ? " ORDER BY rowid" : "");
  sqlite3_free(sql);
  return full;
}

/* scan() found an order_by value sort_key cannot order. */
#define SCAN_UNSORTABLE (-1)

/* One scan of the source into sc (fresh from scan_init): SQLITE_OK,
** SCAN_UNSORTABLE when the rows are keyed and a key cannot be ordered here
** (the caller scans again with SQLite sorting), or an SQLite code (with
** *pzErr unless memory ran out). */
static int scan(sqlite3 *db, const char *fname, const char *source, const char *user_col,
                const char *item_col, const char *order_by, const i2v_dataset *ds, scan_state *sc,
                char **pzErr) {
  sqlite3_stmt *st = NULL;
  char *sql = scan_sql(db, ds, user_col, item_col, order_by, sc->rows.keyed);
  if (!sql) return SQLITE_NOMEM;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  sqlite3_free(sql);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s: cannot read '%s': %s", fname, source, sqlite3_errmsg(db));
    return rc;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    i2v_value uv, iv;
    sc->nrows++;
    int got_u = i2v_value_from_column(st, 0, &uv);
    int got_i = got_u > 0 ? i2v_value_from_column(st, 1, &iv) : 0;
    if (got_u < 0 || got_i < 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    if (!got_u) {
      sc->null_users++;
      continue;
    }
    int64_t u = add_id(&sc->users, &sc->user_ids, &uv, NULL);
    if (u < 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    if (!got_i) {
      sc->null_items++;
      continue;
    }
    int64_t it = add_id(&sc->items, &sc->item_ids, &iv, NULL);
    if (it < 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    uint64_t key = 0;
    if (sc->rows.keyed && !sort_key(st, 2, &sc->rows, &key)) {
      rc = SCAN_UNSORTABLE;
      break;
    }
    if ((rc = rows_push(&sc->rows, (uint32_t)u, (uint32_t)it, key)) != SQLITE_OK) break;
  }
  if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  } else if (rc == SQLITE_INTERRUPT) {
    *pzErr = sqlite3_mprintf("%s: interrupted", fname);
  } else if (rc != SQLITE_NOMEM && rc != SCAN_UNSORTABLE) {
    *pzErr = sqlite3_mprintf("%s: reading '%s' failed: %s", fname, source, sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  return rc;
}

int i2v_source_read(sqlite3 *db, const char *fname, const char *source, const char *user_col,
                    const char *item_col, const i2v_options *o, i2v_dataset *ds, char **pzErr) {
  scan_state sc;
  i2v_corpus_cut cut;
  uint64_t *all_counts = NULL;
  int rc;

  memset(ds, 0, sizeof(*ds));
  memset(&cut, 0, sizeof(cut));
  i2v_vocab_init(&ds->items, &i2v_sqlite_alloc);
  scan_init(&sc, o->order_by != NULL);

  rc = resolve_source(db, fname, source, ds, pzErr);
  if (rc) goto done;
  if ((rc = check_column(db, fname, ds, "user column", user_col, pzErr)) ||
      (rc = check_column(db, fname, ds, "item column", item_col, pzErr)))
    goto done;
  if (o->order_by && (rc = check_column(db, fname, ds, "order_by", o->order_by, pzErr))) goto done;

  /* With order_by the order column comes along and each user's rows are
  ** sorted once grouped (much faster than SQLite's sorter on a large
  ** table); a value sort_key cannot order sends the scan back to SQL's
  ** ORDER BY. */
  rc = scan(db, fname, source, user_col, item_col, o->order_by, ds, &sc, pzErr);
  if (rc == SCAN_UNSORTABLE) {
    scan_free(&sc);
    scan_init(&sc, 0);
    rc = scan(db, fname, source, user_col, item_col, o->order_by, ds, &sc, pzErr);
  }
  if (rc != SQLITE_OK) goto done;
  ds->rows = sc.nrows;
  ds->null_users = sc.null_users;
  ds->null_items = sc.null_items;
  ds->users = sc.users.n;
  if (sc.rows.n == 0) {
    *pzErr = sqlite3_mprintf(
        ds->rows ? "%s: source '%s' has no row where both the user and the item are non-NULL"
                 : "%s: source '%s' is empty",
        fname, source);
    rc = SQLITE_ERROR;
    goto done;
  }

  /* Keep items with enough occurrences; number them most frequent first. */
  i2v_corpus_rows rows = {sc.rows.data, sc.rows.keyed ? sc.rows.keys : NULL, sc.rows.n,
                          (uint32_t)sc.users.n};
  uint32_t nitems = (uint32_t)sc.items.n;
  if (i2v_corpus_count(&rows, nitems, &i2v_sqlite_alloc, &all_counts) != I2V_OK ||
      i2v_corpus_cut_build(&cut, all_counts, nitems, o->min_count, o->max_final_vocab,
                           &i2v_sqlite_alloc) != I2V_OK) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  if (cut.kept == 0) {
    *pzErr = sqlite3_mprintf("%s: no item occurs at least %llu times (min_count); nothing to learn",
                             fname, (unsigned long long)cut.floor);
    rc = SQLITE_ERROR;
    goto done;
  }
  if (i2v_vocab_select(&sc.items, cut.order, cut.kept, &ds->items) != I2V_OK ||
      !(ds->counts = sqlite3_malloc64(cut.kept * sizeof(uint64_t)))) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  for (uint32_t k = 0; k < cut.kept; k++) {
    ds->counts[k] = all_counts[cut.order[k]];
    ds->items.entries[k].count = ds->counts[k];
  }
  ds->dropped_items = nitems - cut.kept;

  /* One sequence per user, of the kept items. */
  if (i2v_corpus_group(&rows, cut.remap, &i2v_sqlite_alloc, &ds->corpus, &ds->dropped_tokens) !=
      I2V_OK) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  if (ds->corpus.nseq == 0) {
    *pzErr = sqlite3_mprintf(
        "%s: no user in '%s' has two or more items; item2vec learns from "
        "items that occur together, so each user needs at least two",
        fname, source);
    rc = SQLITE_ERROR;
    goto done;
  }

done:
  scan_free(&sc);
  i2v_corpus_cut_free(&cut, &i2v_sqlite_alloc);
  sqlite3_free(all_counts);
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
