/*
** sql/store.h: the model tables (writing, loading, reading back for
** update=1) and the per-connection state: the cache of loaded models that
** similar_items, item2vec_project and the scalar functions answer from.
*/
#ifndef I2V_SQL_STORE_H
#define I2V_SQL_STORE_H

#include "sql/common.h"

struct i2v_hnsw;

/* A model loaded for queries: unit-length input vectors in aligned rows and
** the items (with their stored frequency in count). Reference counted: a
** cursor keeps the model it answers from even when the cache moves on. */
typedef struct i2v_model {
  int refs;
  char *name;
  int dim;
  size_t stride;
  uint32_t n;
  float *unit;
  void *raw;
  i2v_vocab items;
  struct i2v_model *next; /* in the connection's cache */
  struct i2v_hnsw *index; /* its approximate index, once i2v_index_attach ran */
  int index_state;        /* 0 not looked for, 1 none, 2 loaded, 3 damaged */
  char *index_error;      /* why, when damaged */
  signed char *codes;     /* int8 copy for the scan's first pass (sql/similar.c) */
  size_t cstride;         /* codes per row: dim rounded up to 32 */
  float code_max;         /* largest |value| of the unit rows (the loader's) */
  float code_unit;        /* the codes' unit: a value is about code x code_unit */
  float *context;         /* output (context) vectors as stored, same rows, or NULL */
  void *context_raw;
} i2v_model;

/* Load m's context vectors (item2vec_context) into m->context, once; an
** error when the model was trained without save_context=1. */
int i2v_model_context(sqlite3 *db, i2v_model *m, const char *fname, char **pzErr);

/* Per-connection state, shared by the functions and the virtual table. */
typedef struct i2v_conn {
  sqlite3 *db;
  int refs;              /* one per registration that owns it */
  i2v_model *cache;      /* loaded models */
  int64_t stamp_version; /* pager data version the cached models were read at */
  /* The last look from outside a write transaction on main (sql/store.c,
  ** check_stamp): what a clean write transaction still has. */
  int64_t base_version, base_changes;
  int base_schema, base_known;
  int last_fresh; /* the last model i2v_conn_model gave was loaded for that call only */
} i2v_conn;

void i2v_conn_release(void *p);

/* The model called name, loaded (or taken from the cache when nothing in
** the database changed since; never cached in a transaction this connection
** has written to, where a ROLLBACK TO could take rows back).  The caller
** releases it.  On failure returns
** an SQLite code with *pzErr (sqlite3_malloc'd) saying what is wrong. */
int i2v_conn_model(i2v_conn *c, const char *fname, const char *name, i2v_model **out, char **pzErr);
void i2v_model_release(i2v_model *m);
/* Drop every cached model (after a write made them stale). */
void i2v_conn_clear(i2v_conn *c);

struct i2v_pairs;

/* Whether a model can be stored now, asked before reading anything: not
** from a statement that writes, not on a read-only database or under
** PRAGMA query_only, not while another connection keeps the write lock for
** longer than the busy timeout.  SQLITE_OK, or an error with *pzErr. */
int i2v_store_check_writable(sqlite3 *db, const char *fname, char **pzErr);

/* Write a model in one savepoint, replacing one of the same name.  context
** (the output vectors, same layout as vectors) may be NULL; when given, it is
** stored in item2vec_context.  pairs (over the same items) may be NULL; when
** given, they are stored in item2vec_pairs, replacing the model's old ones,
** or, with merge_pairs (update=1), added to them and cut to the cap again. */
int i2v_store_write(sqlite3 *db, const char *fname, const char *model, const i2v_vocab *items,
                    const uint64_t *counts, const float *vectors, const float *context,
                    const struct i2v_pairs *pairs, int merge_pairs, size_t stride, int dim,
                    const char *source, const char *params_json, const char *stats_json,
                    char **pzErr);
/* Undoing a write made in SAVEPOINT `savepoint`, robust to SQLite refusing
** new statements after an interrupt or an out-of-memory error: prepare it
** before the SAVEPOINT (after any schema change: a table of the write,
** `table`, must exist), commit with i2v_undo_release, undo with
** i2v_undo_run (0 when a transaction holding the write is still open). */
typedef struct i2v_undo {
  sqlite3_stmt *rollback, *to, *release, *force;
  int began; /* the savepoint begins the transaction */
} i2v_undo;
int i2v_undo_prepare(sqlite3 *db, const char *savepoint, const char *table, i2v_undo *u);
int i2v_undo_release(sqlite3 *db, i2v_undo *u);
int i2v_undo_run(sqlite3 *db, i2v_undo *u);
void i2v_undo_finalize(i2v_undo *u);

int i2v_store_load(sqlite3 *db, const char *fname, const char *name, i2v_model **out, char **pzErr);

/* A stored model as training left it, for update=1: raw (not normalised)
** input vectors and the context (output) vectors, both packed n x dim in
** the order of items, whose counts are the stored frequencies. */
typedef struct i2v_stored_model {
  int dim;
  uint32_t n;      /* rows */
  char *params;    /* the params JSON the model was trained with, or NULL */
  i2v_vocab items; /* in the table's key order */
  float *input;
  float *output;
} i2v_stored_model;

/* Read model name for update=1.  Errors (with *pzErr): no such model, a
** model without stored context vectors, a malformed or non-finite BLOB. */
int i2v_store_read_state(sqlite3 *db, const char *fname, const char *name, i2v_stored_model *out,
                         char **pzErr);
void i2v_stored_model_free(i2v_stored_model *s);

#endif
