/*
** item2vec.c: the extension's entry point: one table of every SQL function
** and module the extension registers, with its flags.
**
** SQL served:
**   .load ./item2vec
** and through it every row of `registrations` below; each SQL file's header
** (ext/sql/) shows its own SQL.
**
** How it works.  sqlite3_itemvec_init (the name `.load ./item2vec` looks for,
** built from the letters of the file name) and sqlite3_item2vec_init create
** one i2v_conn per connection, the home of the model cache, and register
** every row of `registrations` in order, stopping at the first failure with a
** message naming it.  The rows that need the connection state share it; each
** registration that owns a reference releases it when SQLite drops the
** function or module.  After a failure the same rows are walked again to
** unregister them, so a row cannot be registered without being undone.
**
** Before anything, the SQLite the process runs must be at least the oldest
** whose API the code calls (I2V_MIN_SQLITE_VERSION); an older one gets a
** message naming both versions.  A second load in the same connection from
** a running statement (SELECT load_extension('./item2vec')) finds the
** functions there and, as SQLite refuses to replace a function while a
** statement runs, keeps them: the load succeeds, as `.load` does.
*/
#include <stdio.h>
#include <string.h>

#include "sql/common.h"
#include "sql/csv.h"
#include "sql/drop.h"
#include "sql/eval.h"
#include "sql/hnsw.h"
#include "sql/lines.h"
#include "sql/pca.h"
#include "sql/scalar.h"
#include "sql/recommend.h"
#include "sql/similar.h"
#include "sql/store.h"
#include "sql/train.h"
#include "sql/w2v.h"

SQLITE_EXTENSION_INIT1

/* One function (fn set) or module (module set) to register. */
typedef struct registration {
  const char *name;
  int nArg;                                             /* functions only */
  int flags;                                            /* functions only */
  void (*fn)(sqlite3_context *, int, sqlite3_value **); /* a function, or */
  const sqlite3_module *module;                         /* a module */
  int needs_conn; /* gets the connection state as user data / client data */
} registration;

#define FUNCTION(name, nArg, flags, fn, needs_conn) \
  { name, nArg, flags, fn, NULL, needs_conn }
#define MODULE(name, module, needs_conn) \
  { name, 0, 0, NULL, module, needs_conn }

/* Pure functions are DETERMINISTIC|INNOCUOUS.  The model readers are
** INNOCUOUS but not DETERMINISTIC: they only read item2vec's own tables, but a
** model can be retrained between two statements.  DIRECTONLY functions read
** a table or a file the caller names, or write the model tables, so a trigger
** or view in someone else's schema must not call them.  Modules state their
** trust when they connect: similar_items, recommend_items (which reads only
** the source columns item2vec_train recorded) and item2vec_project are innocuous
** (i2v_vtab_connect); item2vec_csv and item2vec_lines, which read files, are
** DIRECTONLY. */
#define PURE (SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS)
#define READS_MODEL (SQLITE_UTF8 | SQLITE_INNOCUOUS)
#define DIRECTONLY (SQLITE_UTF8 | SQLITE_DIRECTONLY)
static const registration registrations[] = {
    FUNCTION("item2vec_version", 0, PURE, i2v_version_func, 0),
    FUNCTION("item2vec_to_json", 1, PURE, i2v_to_json_func, 0),
    FUNCTION("item2vec_similarity", 2, READS_MODEL, i2v_similarity_func, 1),
    FUNCTION("item2vec_similarity", 3, READS_MODEL, i2v_similarity_func, 1),
    FUNCTION("item2vec_vector", 1, READS_MODEL, i2v_vector_func, 1),
    FUNCTION("item2vec_vector", 2, READS_MODEL, i2v_vector_func, 1),
    FUNCTION("item2vec_train", -1, DIRECTONLY, i2v_train_func, 1),
    MODULE("similar_items", &i2v_similar_module, 1),
    MODULE("recommend_items", &i2v_recommend_module, 1),
    MODULE("item2vec_csv", &i2v_csv_module, 0),
    MODULE("item2vec_lines", &i2v_lines_module, 0),
    FUNCTION("item2vec_export", 2, DIRECTONLY, i2v_export_func, 1),
    FUNCTION("item2vec_export", 3, DIRECTONLY, i2v_export_func, 1),
    FUNCTION("item2vec_import", 1, DIRECTONLY, i2v_import_func, 1),
    FUNCTION("item2vec_import", 2, DIRECTONLY, i2v_import_func, 1),
    FUNCTION("item2vec_import", 3, DIRECTONLY, i2v_import_func, 1),
    FUNCTION("item2vec_index", -1, DIRECTONLY, i2v_index_func, 1),
    FUNCTION("item2vec_drop", 1, DIRECTONLY, i2v_drop_func, 1),
    FUNCTION("item2vec_evaluate", -1, DIRECTONLY, i2v_evaluate_func, 1),
    MODULE("item2vec_project", &i2v_project_module, 1),
};
#define N_REGISTRATIONS (sizeof(registrations) / sizeof(registrations[0]))

/* Register row r; conn goes to the rows that need it, one reference each
** (SQLite releases it when the registration fails or is dropped). */
static int register_row(sqlite3 *db, const registration *r, i2v_conn *conn) {
  void *data = r->needs_conn ? conn : NULL;
  void (*release)(void *) = r->needs_conn ? i2v_conn_release : NULL;
  if (r->needs_conn) conn->refs++;
  if (r->module) return sqlite3_create_module_v2(db, r->name, r->module, data, release);
  return sqlite3_create_function_v2(db, r->name, r->nArg, r->flags, data, r->fn, NULL, NULL,
                                    release);
}

/* After a failed registration: remove rows [0, n), since SQLite unloads the
** library when its entry point fails and nothing may keep pointing into it.
** Removing a function or module drops its reference to the connection
** state. */
static void unregister_rows(sqlite3 *db, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const registration *r = &registrations[i];
    if (r->module)
      sqlite3_create_module_v2(db, r->name, NULL, NULL, NULL);
    else
      sqlite3_create_function_v2(db, r->name, r->nArg, r->flags, NULL, NULL, NULL, NULL, NULL);
  }
}

/* The oldest SQLite whose API the code calls: sqlite3_total_changes64 came
** in 3.37.0 (sqlite3_txn_state in 3.34.0).  A build may ask for more (the
** test of this check does). */
#ifndef I2V_MIN_SQLITE_VERSION
#define I2V_MIN_SQLITE_VERSION 3037000
#endif

static int register_all(sqlite3 *db, char **pzErrMsg) {
  int have = sqlite3_libversion_number();
  if (have < I2V_MIN_SQLITE_VERSION) {
    if (pzErrMsg)
      *pzErrMsg = sqlite3_mprintf(
          "item2vec: needs SQLite %d.%d.%d or later, but this process runs SQLite %s; "
          "load it into a newer SQLite",
          I2V_MIN_SQLITE_VERSION / 1000000, I2V_MIN_SQLITE_VERSION / 1000 % 1000,
          I2V_MIN_SQLITE_VERSION % 1000, sqlite3_libversion());
    return SQLITE_ERROR;
  }
  i2v_conn *c = sqlite3_malloc64(sizeof(*c));
  int rc = SQLITE_OK;
  if (!c) {
    if (pzErrMsg) *pzErrMsg = sqlite3_mprintf("item2vec: out of memory");
    return SQLITE_NOMEM;
  }
  memset(c, 0, sizeof(*c));
  c->db = db;
  c->refs = 1; /* ours until registration ends */
  c->stamp_version = -1;
  for (size_t i = 0; i < N_REGISTRATIONS; i++) {
    rc = register_row(db, &registrations[i], c);
    if (rc == SQLITE_BUSY && i == 0) {
      /* The first function is there and a statement runs: SQLite refuses to
      ** replace it (and says so with SQLITE_BUSY only then).  Loaded before,
      ** in this connection: keep what is registered. */
      rc = SQLITE_OK;
      break;
    }
    if (rc != SQLITE_OK) {
      if (pzErrMsg)
        *pzErrMsg = sqlite3_mprintf("item2vec: could not register %s: %s", registrations[i].name,
                                    sqlite3_errstr(rc));
      unregister_rows(db, i + 1); /* the failed row too: it may be half made */
      break;
    }
  }
  i2v_conn_release(c);
  return rc;
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
    int sqlite3_itemvec_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  return register_all(db, pzErrMsg);
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
    int sqlite3_item2vec_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  return register_all(db, pzErrMsg);
}
