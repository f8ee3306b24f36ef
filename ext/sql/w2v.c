/*
** sql/w2v.c: item2vec_export and item2vec_import, models in and out of
** word2vec's text and binary files (the files gensim's
** KeyedVectors.load_word2vec_format and save_word2vec_format read and write).
**
** SQL served:
**   SELECT item2vec_export('default', 'vectors.txt');     -- text
**   SELECT item2vec_export('default', 'vectors.bin.gz');  -- binary, gzip
**   SELECT item2vec_import('vectors.vec', 'fasttext');    -- into model 'fasttext'
**   SELECT item2vec_import('spark.txt');                  -- into model 'default'
**   SELECT item2vec_import('model.w2v', 'm', 'binary=1'); -- name says nothing
** Both return a JSON summary ({"model":...,"path":...,"items":N,"dim":D,
** "format":"text"|"binary","gzip":true|false}).
**
** How it works.  The format follows the path: a name ending in .bin (before
** any .gz) is binary, anything else text; 'binary=0|1' overrides.  A path
** ending in .gz is gzip-compressed; import also recognises gzip by its
** first bytes.  Export reads the model's rows most frequent first (the
** order gensim and word2vec.c write) and writes them through an i2v_writer,
** which renames its temporary file into place only when every row was
** written.  Import reads the whole file first (core/w2v.c rejects
** truncation, lying headers, non-finite numbers and duplicates), so a bad
** file writes nothing; then stores the model in one savepoint through
** i2v_store_write, replacing a model of the same name.  Items are TEXT
** unless every name is a canonical integer, in which case they are INTEGER
** (so they join to integer ids).  The files carry no counts: frequency is
** set to N - position (the first item gets N), the same stand-in gensim
** uses, so ORDER BY frequency DESC gives the file's order back.
**
** Both touch files, so both are DIRECTONLY.
*/
#include <stdio.h>
#include <string.h>

#include "core/csv.h"
#include "core/reader.h"
#include "core/w2v.h"
#include "sql/store.h"
#include "sql/w2v.h"

typedef struct w2v_opts {
  int binary; /* -1: from the path */
} w2v_opts;

static void set_error(sqlite3_context *ctx, int rc, char *msg) {
  i2v_utf8_sanitize(msg); /* names from a damaged file may not be UTF-8 */
  i2v_result_error(ctx, rc, msg);
}

/* {"model":..,"path":..,"items":N,"dim":D,"format":..,"gzip":..} */
static char *summary(sqlite3 *db, const char *model, const char *path, size_t n, int dim,
                     int binary, int gzip, const char *item_type) {
  sqlite3_str *s = sqlite3_str_new(db);
  sqlite3_str_appendall(s, "{\"model\":");
  i2v_json_string(s, model);
  sqlite3_str_appendall(s, ",\"path\":");
  i2v_json_string(s, path);
  sqlite3_str_appendf(s, ",\"items\":%llu,\"dim\":%d,\"format\":\"%s\",\"gzip\":%s",
                      (unsigned long long)n, dim, binary ? "binary" : "text",
                      gzip ? "true" : "false");
  if (item_type) sqlite3_str_appendf(s, ",\"item_type\":\"%s\"", item_type);
  sqlite3_str_appendchar(s, 1, '}');
  return sqlite3_str_finish(s);
}

/* A text argument, or NULL with the error set. */
static const char *text_arg(sqlite3_context *ctx, sqlite3_value *v, const char *fname,
                            const char *what) {
  if (sqlite3_value_type(v) != SQLITE_TEXT || sqlite3_value_bytes(v) == 0) {
    set_error(ctx, SQLITE_ERROR, sqlite3_mprintf("%s: %s must be a non-empty text", fname, what));
    return NULL;
  }
  return (const char *)sqlite3_value_text(v);
}

/* 'binary=0|1' options; returns 0 with the error set on a bad one. */
static int parse_opts(sqlite3_context *ctx, const char *fname, int argc, sqlite3_value **argv,
                      w2v_opts *o) {
  o->binary = -1;
  for (int i = 0; i < argc; i++) {
    const char *a = (const char *)sqlite3_value_text(argv[i]);
    if (!a) a = "";
    if (sqlite3_stricmp(a, "binary=1") == 0)
      o->binary = 1;
    else if (sqlite3_stricmp(a, "binary=0") == 0)
      o->binary = 0;
    else {
      set_error(ctx, SQLITE_ERROR,
                sqlite3_mprintf("%s: unknown option '%s'; the only option is "
                                "'binary=0' or 'binary=1'",
                                fname, a));
      return 0;
    }
  }
  return 1;
}

/* Binary unless the name says otherwise: "x.bin" or "x.bin.gz". */
static int path_is_binary(const char *path) {
  size_t n = strlen(path);
  if (i2v_path_has_suffix(path, ".gz")) n -= 3;
  return n >= 4 && sqlite3_strnicmp(path + n - 4, ".bin", 4) == 0;
}

/* The model's dimension and vector count, or an error naming the models
** there are. */
static int model_shape(sqlite3 *db, const char *fname, const char *model, int *dim,
                       sqlite3_int64 *n, char **pzErr) {
  sqlite3_stmt *st = NULL;
  int rc;
  int has = i2v_model_tables(db);
  if (has < 0) {
    rc = sqlite3_errcode(db);
    *pzErr = sqlite3_mprintf("%s: cannot read model '%s': %s", fname, model, sqlite3_errmsg(db));
    return rc != SQLITE_OK ? rc : SQLITE_ERROR;
  }
  if (!has) {
    *pzErr = sqlite3_mprintf(
        "%s: no such model '%s': this database has no models "
        "(train or import one first)",
        fname, model);
    return SQLITE_ERROR;
  }
  rc = sqlite3_prepare_v2(db,
                          "SELECT m.dim, (SELECT count(*) FROM main.item2vec_vectors v "
                          "WHERE v.model = m.name) FROM main.item2vec_models m "
                          "WHERE m.name = ?1",
                          -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
  }
  if (rc == SQLITE_ROW) {
    char shown[32];
    *dim = i2v_header_dim(st, 0, shown, sizeof(shown));
    *n = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    if (*dim < 1 || *dim > I2V_W2V_MAX_DIM) {
      *pzErr = sqlite3_mprintf("%s: model '%s' has an invalid dimension %s", fname, model, shown);
      return SQLITE_CORRUPT;
    }
    return SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    *pzErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errmsg(db));
    return rc;
  }
  return i2v_no_such_model(db, fname, model, pzErr);
}

/* The item of export row st (item, vector): its name, which a word2vec file
** must be able to hold (the rule import applies: what is written here reads
** back) and which no earlier row has spelled another way (written keeps
** them), and its vector decoded into vec (dim floats). */
static int export_item(sqlite3_stmt *st, const char *fname, const char *model, int dim, float *vec,
                       i2v_vocab *written, const char **name_out, size_t *len_out, char **zErr) {
  i2v_value v;
  int type = sqlite3_column_type(st, 0);
  if (i2v_value_from_column(st, 0, &v) < 0) return SQLITE_NOMEM; /* before column_text */
  const char *name = (const char *)sqlite3_column_text(st, 0);
  size_t len = (size_t)sqlite3_column_bytes(st, 0);
  if (type == SQLITE_BLOB || type == SQLITE_NULL || !name) {
    *zErr = sqlite3_mprintf(
        "%s: model '%s' has a %s item, which a word2vec file "
        "cannot name",
        fname, model, type == SQLITE_BLOB ? "BLOB" : "NULL");
    return SQLITE_ERROR;
  }
  const char *problem = i2v_w2v_name_problem(name, len);
  if (problem) {
    *zErr = sqlite3_mprintf("%s: item %.40Q of model '%s' %s, which a word2vec file cannot hold",
                            fname, name, model, problem);
    return SQLITE_ERROR;
  }
  /* '1' and 1 stored twice by hand: the one rule of every reader. */
  int added = 0;
  int64_t seen = i2v_vocab_add(written, &v, &added);
  if (seen < 0) return SQLITE_NOMEM;
  if (!added) {
    char *a = i2v_item_literal(written, &written->entries[seen]), *b = i2v_value_literal(&v);
    *zErr = i2v_duplicate_error(fname, model, "item2vec_vectors", a, b);
    sqlite3_free(a);
    sqlite3_free(b);
    return *zErr ? SQLITE_CORRUPT : SQLITE_NOMEM;
  }
  char why[96];
  int bad = i2v_column_floats(st, 1, dim, vec, why, sizeof(why));
  if (bad != I2V_BLOB_OK) {
    *zErr = bad == I2V_BLOB_LENGTH
                ? sqlite3_mprintf("%s: model '%s' stores the vector of item '%s' as %s", fname,
                                  model, name, why)
                : sqlite3_mprintf("%s: item '%s' of model '%s' has a non-finite value", fname, name,
                                  model);
    return SQLITE_CORRUPT;
  }
  *name_out = name;
  *len_out = len;
  return SQLITE_OK;
}

/* item2vec_export(model, path [, 'binary=0|1']) */
void i2v_export_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_export";
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *model, *path;
  w2v_opts o;
  sqlite3_stmt *st = NULL;
  i2v_writer *w = NULL;
  char *zErr = NULL, *row = NULL;
  char err[700];
  float *vec = NULL;
  int dim = 0, rc;
  sqlite3_int64 n = 0, written = 0;
  i2v_vocab written_items; /* to find an item stored twice */
  i2v_vocab_init(&written_items, &i2v_sqlite_alloc);

  if (!(model = text_arg(ctx, argv[0], fname, "model (argument 1)"))) return;
  if (!(path = text_arg(ctx, argv[1], fname, "path (argument 2)"))) return;
  if (!parse_opts(ctx, fname, argc - 2, argv + 2, &o)) return;
  int binary = o.binary >= 0 ? o.binary : path_is_binary(path);
  int gzip = i2v_path_has_suffix(path, ".gz");

  rc = model_shape(db, fname, model, &dim, &n, &zErr);
  if (rc != SQLITE_OK) goto done;
  vec = sqlite3_malloc64((size_t)dim * sizeof(float));
  if (!vec) goto nomem;
  rc = sqlite3_prepare_v2(db,
                          "SELECT item, vector FROM main.item2vec_vectors WHERE model = ?1 "
                          "ORDER BY frequency DESC, item",
                          -1, &st, NULL);
  if (rc != SQLITE_OK) {
    zErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errmsg(db));
    goto done;
  }
  sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);

  int irc = i2v_writer_open(&i2v_sqlite_alloc, path, gzip, &w, err, sizeof(err));
  if (irc != I2V_OK) {
    rc = irc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    zErr = sqlite3_mprintf("%s: %s", fname, err);
    goto done;
  }
  {
    char header[64];
    int hl = snprintf(header, sizeof(header), "%lld %d\n", (long long)n, dim);
    if (i2v_writer_write(w, header, (size_t)hl) != I2V_OK) goto write_failed;
  }
  size_t row_cap = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name;
    size_t len;
    rc = export_item(st, fname, model, dim, vec, &written_items, &name, &len, &zErr);
    if (rc == SQLITE_NOMEM && !zErr) goto nomem;
    if (rc != SQLITE_OK) goto done;
    size_t need = i2v_w2v_row_bound(len, dim, binary);
    if (need > row_cap) {
      sqlite3_free(row);
      row_cap = need + need / 2;
      if (!(row = sqlite3_malloc64(row_cap))) goto nomem;
    }
    size_t rl = i2v_w2v_format_row(row, name, len, vec, dim, binary);
    if (i2v_writer_write(w, row, rl) != I2V_OK) goto write_failed;
    written++;
  }
  if (rc != SQLITE_DONE) {
    zErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errmsg(db));
    goto done;
  }
  if (written != n) {
    zErr = sqlite3_mprintf("%s: model '%s' changed while it was written", fname, model);
    rc = SQLITE_ERROR;
    goto done;
  }
  irc = i2v_writer_finish(w, err, sizeof(err));
  w = NULL;
  if (irc != I2V_OK) {
    zErr = sqlite3_mprintf("%s: %s", fname, err);
    rc = SQLITE_IOERR;
    goto done;
  }
  rc = SQLITE_OK;
  {
    char *out = summary(db, model, path, (size_t)n, dim, binary, gzip, NULL);
    if (!out) goto nomem;
    sqlite3_result_text(ctx, out, -1, sqlite3_free);
  }
  goto done;

write_failed:
  zErr = sqlite3_mprintf("%s: %s", fname, i2v_writer_errmsg(w));
  rc = SQLITE_IOERR;
  goto done;
nomem:
  rc = SQLITE_NOMEM;
  zErr = sqlite3_mprintf("%s: out of memory", fname);
done:
  if (rc != SQLITE_OK) set_error(ctx, rc, zErr);
  i2v_writer_abort(w);
  sqlite3_finalize(st);
  i2v_vocab_free(&written_items);
  sqlite3_free(vec);
  sqlite3_free(row);
}

/* item2vec_import(path [, model [, 'binary=0|1']]) */
void i2v_import_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_import";
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  i2v_conn *conn = sqlite3_user_data(ctx);
  const char *path, *model = "default";
  w2v_opts o;
  i2v_reader *r = NULL;
  sqlite3_stmt *ping = NULL;
  i2v_w2v m;
  uint64_t *counts = NULL;
  char *zErr = NULL, *params = NULL, *out = NULL;
  char err[700];
  int rc = SQLITE_OK;

  memset(&m, 0, sizeof(m));
  if (!(path = text_arg(ctx, argv[0], fname, "path (argument 1)"))) return;
  if (argc >= 2 && !(model = text_arg(ctx, argv[1], fname, "model (argument 2)"))) return;
  if (!parse_opts(ctx, fname, argc - 2, argv + 2, &o)) return;

  /* A model that could not be stored is refused before the file is read. */
  if ((rc = i2v_store_check_writable(db, fname, &zErr)) != SQLITE_OK) goto done;
  if ((rc = i2v_ping_open(db, &ping)) != SQLITE_OK) goto done;
  int irc = i2v_reader_open(&i2v_sqlite_alloc, path, NULL, &r, err, sizeof(err));
  if (irc != I2V_OK) {
    rc = irc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    zErr = sqlite3_mprintf("%s: '%s': %s", fname, path, err);
    goto done;
  }
  i2v_reader_set_cancel(r, i2v_ping_interrupted, ping);
  int binary = o.binary >= 0
                   ? o.binary
                   : path_is_binary(r->kind == I2V_SOURCE_ZIP ? i2v_reader_member(r) : path);
  int gzip = r->kind == I2V_SOURCE_GZIP;
  irc = i2v_w2v_read(r, binary, &i2v_sqlite_alloc, &m, err, sizeof(err));
  if (irc == I2V_CANCELLED) {
    rc = SQLITE_INTERRUPT;
    zErr = sqlite3_mprintf("%s: interrupted", fname);
    goto done;
  }
  if (irc != I2V_OK) {
    rc = irc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    zErr =
        sqlite3_mprintf("%s: '%s' (word2vec %s): %s", fname, path, binary ? "binary" : "text", err);
    goto done;
  }
  i2v_reader_close(r);
  r = NULL;

  /* INTEGER items when every name is an integer; frequency N - position. */
  counts = sqlite3_malloc64((m.n ? m.n : 1) * sizeof(uint64_t));
  if (!counts) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  for (size_t i = 0; i < m.n; i++) {
    counts[i] = (uint64_t)(m.n - i);
    if (m.all_int) m.items.entries[i].type = I2V_INTEGER;
  }
  {
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendall(s, "{\"imported_from\":");
    i2v_json_string(s, path);
    sqlite3_str_appendf(s, ",\"format\":\"%s\",\"vector_size\":%d}", binary ? "binary" : "text",
                        m.dim);
    params = sqlite3_str_finish(s);
  }
  out = summary(db, model, path, m.n, m.dim, binary, gzip, m.all_int ? "integer" : "text");
  if (!params || !out) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  rc = i2v_store_write(db, fname, model, &m.items, counts, m.vectors, NULL, NULL, 0, (size_t)m.dim,
                       m.dim, path, params, out, &zErr);
  i2v_conn_clear(conn);
  if (rc != SQLITE_OK) goto done;
  sqlite3_result_text(ctx, out, -1, sqlite3_free);
  out = NULL;

done:
  if (rc != SQLITE_OK) {
    if (!zErr && rc == SQLITE_NOMEM) zErr = sqlite3_mprintf("%s: out of memory", fname);
    set_error(ctx, rc, zErr);
  }
  i2v_reader_close(r);
  sqlite3_finalize(ping);
  i2v_w2v_free(&m);
  sqlite3_free(counts);
  sqlite3_free(params);
  sqlite3_free(out);
}
