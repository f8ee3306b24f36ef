/*
** sql/sqlite.h: what the SQLite-facing files of item2vec share: the
** extension API pointer, the allocator on sqlite3_malloc64, the per-connection
** state (the cache of loaded models), and the entry points of each file.
*/
#ifndef I2V_SQLITE_H
#define I2V_SQLITE_H

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#include "core/common.h"
#include "core/options.h"
#include "core/vocab.h"

#define I2V_VERSION "0.1.0"

extern const i2v_alloc i2v_sqlite_alloc;

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
  float code_max;         /* largest |value| of the unit rows (the loader's); code =
                             value*127/max */
  float *context;         /* output (context) vectors as stored, same rows, or NULL */
  void *context_raw;
} i2v_model;

/* Fault in the pages of a large fresh block in one call, ahead of writing
** it (sql/store.c; nothing where Linux cannot). */
void i2v_prefault(void *p, size_t bytes);

/* Load m's context vectors (item2vec_context) into m->context, once; an
** error when the model was trained without save_context=1. */
int i2v_model_context(sqlite3 *db, i2v_model *m, const char *fname, char **pzErr);

/* Per-connection state, shared by the functions and the virtual table. */
typedef struct i2v_conn {
  sqlite3 *db;
  int refs;              /* one per registration that owns it */
  i2v_model *cache;      /* loaded models */
  int64_t stamp_version; /* pager data version when the cache was checked */
  int64_t stamp_changes; /* total_changes when the cache was checked */
  int stamp_in_write;    /* checked inside a write transaction on main */
} i2v_conn;

void i2v_conn_release(void *p);

/* The model called name, loaded (or taken from the cache when nothing in
** the database changed since).  The caller releases it.  On failure returns
** an SQLite code with *pzErr (sqlite3_malloc'd) saying what is wrong. */
int i2v_conn_model(i2v_conn *c, const char *fname, const char *name, i2v_model **out, char **pzErr);
void i2v_model_release(i2v_model *m);
/* Drop every cached model (after a write made them stale). */
void i2v_conn_clear(i2v_conn *c);

/* Read a column value into an i2v_value (payload valid until the next
** step).  Returns 1, 0 for NULL, -1 when converting it to text ran out of
** memory. */
int i2v_value_from_column(sqlite3_stmt *st, int col, i2v_value *v);
int i2v_value_from_sql(sqlite3_value *sv, i2v_value *v);
/* Bind or return an item's stored value. */
int i2v_bind_item(sqlite3_stmt *st, int idx, const i2v_vocab *v, const i2v_vocab_entry *e);
void i2v_result_item(sqlite3_context *ctx, const i2v_vocab *v, const i2v_vocab_entry *e);

/* item2vec.c: what the eponymous tables (similar_items, item2vec_project)
** share.  Each vtab is an i2v_vtab; each cursor is allocated zeroed. */
typedef struct i2v_vtab {
  sqlite3_vtab base;
  i2v_conn *conn;
} i2v_vtab;
int i2v_vtab_connect(sqlite3 *db, void *conn, const char *schema, const char *fname,
                     sqlite3_vtab **ppVtab, char **pzErr);
int i2v_vtab_disconnect(sqlite3_vtab *vt);
int i2v_vtab_open(size_t cursor_size, sqlite3_vtab_cursor **ppCur);
/* Set the table's error message (replacing any earlier one); a message that
** could not be allocated (msg NULL) means memory ran out. */
int i2v_vtab_error(sqlite3_vtab *vt, int rc, char *msg);

/* sql/source.c: read sequences and the vocabulary from a table or view. */
typedef struct i2v_dataset {
  i2v_vocab items;  /* kept items, most frequent first; count = occurrences */
  uint64_t *counts; /* counts[i] of items entry i */
  uint32_t *tokens;
  uint64_t *starts; /* nseq + 1 */
  uint64_t nseq;    /* sequences with at least two items */
  uint64_t ntokens;
  uint64_t rows;  /* rows read */
  uint64_t users; /* distinct users */
  uint64_t null_users, null_items;
  uint64_t dropped_items; /* distinct items under min_count / max_final_vocab */
  uint64_t dropped_tokens;
  uint64_t longest;     /* longest sequence */
  char *schema, *table; /* resolved source */
} i2v_dataset;

/* The (source, user_col, item_col) arguments of item2vec_train and
** item2vec_evaluate into names[0..3): SQLITE_ERROR with *pzErr naming the
** argument when one is not a non-empty text. */
int i2v_source_args(sqlite3_value **argv, const char *fname, const char *names[3], char **pzErr);
int i2v_source_read(sqlite3 *db, const char *fname, const char *source, const char *user_col,
                    const char *item_col, const i2v_options *o, i2v_dataset *ds, char **pzErr);
void i2v_dataset_free(i2v_dataset *ds);

/* sql/store.c: the model tables. */
/* Write a model in one savepoint, replacing one of the same name.  context
** (the output vectors, same layout as vectors) may be NULL; when given, it is
** stored in item2vec_context. */
int i2v_store_write(sqlite3 *db, const char *fname, const char *model, const i2v_vocab *items,
                    const uint64_t *counts, const float *vectors, const float *context,
                    size_t stride, int dim, const char *source, const char *params_json,
                    const char *stats_json, char **pzErr);
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

/* sql/hnsw.c: load model m's stored approximate index into m->index, once
** per loaded model (m->index stays NULL when there is none, or when it was
** built for other items).  A damaged index is an error, every time. */
int i2v_index_attach(sqlite3 *db, i2v_model *m, const char *fname, char **pzErr);

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

/* sql/update.c: the update=1 flow of item2vec_train. */
typedef struct i2v_update_stats {
  uint64_t stored_items; /* items of the stored model */
  uint64_t seen_items;   /* of those, items the new source has */
  uint64_t new_items;    /* items added with fresh vectors */
} i2v_update_stats;

/* Options that only make sense with update=1 given without it: an error. */
int i2v_update_check(const i2v_options *o, const char *fname, char **pzErr);
/* Check the options that cannot change (vector_size, sg) against the stored
** model and take the stored value of every training option not given. */
int i2v_update_options(sqlite3 *db, const char *fname, const i2v_stored_model *sm, i2v_options *o,
                       char **pzErr);
/* Merge the stored vocabulary with the one read from the new source (read
** with min_count=1): stored items first, in their order, then new items with
** at least min_count occurrences (most frequent first, up to max_final_vocab
** items in all); counts add up.  Renumbers ds's sequences to match and takes
** sm's vocabulary over.  *rate (sqlite3_malloc'd, one per stored item) is the
** factor on alpha each stored item trains at. */
int i2v_update_merge(const char *fname, const char *source, i2v_stored_model *sm, i2v_dataset *ds,
                     const i2v_options *o, i2v_update_stats *us, float **rate, char **pzErr);

/* Registration of each surface. */
int i2v_register_train(sqlite3 *db, i2v_conn *c);
int i2v_register_similar(sqlite3 *db, i2v_conn *c);
int i2v_register_csv(sqlite3 *db, i2v_conn *c); /* sql/csv.c */
int i2v_register_w2v(sqlite3 *db, i2v_conn *c); /* sql/w2v.c */
int i2v_register_index(sqlite3 *db, i2v_conn *c);
/* sql/eval.c: item2vec_evaluate; sql/pca.c: item2vec_project. */
int i2v_register_evaluate(sqlite3 *db, i2v_conn *c);
int i2v_register_project(sqlite3 *db, i2v_conn *c);

/* Append t as a JSON string (quoted, escaped) to s (sql/train.c). */
void i2v_json_string(sqlite3_str *s, const char *t);
/* Every training option as JSON object members ("name":value,...), without
** the braces: the params of item2vec_train and item2vec_evaluate. */
void i2v_options_json_members(sqlite3_str *s, const i2v_options *o);

/* Monotonic seconds. */
double i2v_now(void);

#endif
