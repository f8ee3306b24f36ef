/*
** sql/common.c: what the SQLite-facing files share (declared in
** sql/common.h).  Each helper has this one home; a second copy elsewhere is
** a sign to call this one instead.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/reader.h"
#include "sql/common.h"

#include "core/json.h"

static void *sqlite_malloc(void *ctx, size_t n) {
  (void)ctx;
  return sqlite3_malloc64(n);
}
static void sqlite_free(void *ctx, void *p) {
  (void)ctx;
  sqlite3_free(p);
}
const i2v_alloc i2v_sqlite_alloc = {sqlite_malloc, sqlite_free, NULL};

/* ---- the eponymous tables ----------------------------------------------- */

int i2v_vtab_connect(sqlite3 *db, void *conn, const char *schema, const char *fname,
                     sqlite3_vtab **ppVtab, char **pzErr) {
  int rc = sqlite3_declare_vtab(db, schema);
  if (rc != SQLITE_OK) return rc;
  i2v_vtab *vt = sqlite3_malloc64(sizeof(*vt));
  if (!vt) {
    *pzErr = sqlite3_mprintf("%s: out of memory", fname);
    return SQLITE_NOMEM;
  }
  memset(vt, 0, sizeof(*vt));
  vt->conn = conn;
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *ppVtab = &vt->base;
  return SQLITE_OK;
}

int i2v_vtab_disconnect(sqlite3_vtab *vt) {
  sqlite3_free(vt);
  return SQLITE_OK;
}

int i2v_vtab_open(size_t cursor_size, sqlite3_vtab_cursor **ppCur) {
  sqlite3_vtab_cursor *c = sqlite3_malloc64(cursor_size);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, cursor_size);
  *ppCur = c;
  return SQLITE_OK;
}

int i2v_vtab_error(sqlite3_vtab *vt, int rc, char *msg) {
  sqlite3_free(vt->zErrMsg);
  vt->zErrMsg = msg;
  return msg ? rc : SQLITE_NOMEM;
}

int i2v_vtab_plan(sqlite3_index_info *info, const i2v_plan *plan) {
  int at[32]; /* nargs <= 32: idxNum has a bit for each */
  for (int j = 0; j < plan->nargs; j++) at[j] = -1;
  for (int i = 0; i < info->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    int j = c->iColumn - plan->first_arg;
    if (j < 0 || j >= plan->nargs || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!c->usable) return SQLITE_CONSTRAINT;
    at[j] = i;
  }
  int argi = 1, mask = 0;
  for (int j = 0; j < plan->nargs; j++)
    if (at[j] >= 0) mask |= 1 << j;
  if (plan->required && !(mask & plan->required)) {
    info->idxNum = 0;
    info->estimatedCost = 1e12;
    return SQLITE_OK;
  }
  for (int j = 0; j < plan->nargs; j++) {
    if (at[j] < 0) continue;
    info->aConstraintUsage[at[j]].argvIndex = argi++;
    info->aConstraintUsage[at[j]].omit = 1;
  }
  info->idxNum = mask;
  info->estimatedCost = plan->cost;
  info->estimatedRows = (sqlite3_int64)plan->rows;
  if (info->nOrderBy == 1 && plan->rank_col >= 0) {
    const struct sqlite3_index_orderby *o = &info->aOrderBy[0];
    if ((o->iColumn == plan->rank_col && !o->desc) || (o->iColumn == plan->score_col && o->desc))
      info->orderByConsumed = 1;
  }
  return SQLITE_OK;
}

int i2v_reserve(void **buf, size_t *cap, size_t n, size_t size) {
  if (n <= *cap) return SQLITE_OK;
  size_t nc = *cap ? *cap : 16;
  while (nc < n) nc *= 2;
  void *p = sqlite3_realloc64(*buf, (sqlite3_uint64)nc * size);
  if (!p) return SQLITE_NOMEM;
  *buf = p;
  *cap = nc;
  return SQLITE_OK;
}

int i2v_sqlite_rc(int irc) {
  return irc == I2V_OK          ? SQLITE_OK
         : irc == I2V_NOMEM     ? SQLITE_NOMEM
         : irc == I2V_CANCELLED ? SQLITE_INTERRUPT
                                : SQLITE_ERROR;
}

/* ---- arguments of the file tables ---------------------------------------- */

/* s[0..n-1] trimmed, with its quotes removed ('it''s' -> it's). */
static char *dequote(const char *s, size_t n) {
  while (n && (*s == ' ' || *s == '\t' || *s == '\n')) s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n')) n--;
  char q = n >= 2 ? s[0] : 0;
  if ((q == '\'' || q == '"' || q == '`') && s[n - 1] == q) {
    char *out = sqlite3_malloc64(n);
    if (!out) return NULL;
    size_t j = 0;
    for (size_t i = 1; i + 1 < n; i++) {
      out[j++] = s[i];
      if (s[i] == q && s[i + 1] == q) i++;
    }
    out[j] = 0;
    return out;
  }
  if (n >= 2 && s[0] == '[' && s[n - 1] == ']') s++, n -= 2;
  return sqlite3_mprintf("%.*s", (int)n, s);
}

int i2v_vtab_arg(const char *arg, char **key, char **val) {
  const char *eq = strchr(arg, '=');
  const char *q = strpbrk(arg, "'\"");
  *key = *val = NULL;
  if (!eq || (q && q < eq)) {
    *val = dequote(arg, strlen(arg));
    return *val ? SQLITE_OK : SQLITE_NOMEM;
  }
  *key = dequote(arg, (size_t)(eq - arg));
  *val = dequote(eq + 1, strlen(eq + 1));
  if (*key && *val) return SQLITE_OK;
  sqlite3_free(*key);
  sqlite3_free(*val);
  *key = *val = NULL;
  return SQLITE_NOMEM;
}

int i2v_vtab_bytes(const char *val, size_t *out) {
  char *end = NULL;
  if (!val || *val < '0' || *val > '9') return 0;
  unsigned long long v = strtoull(val, &end, 10);
  if (*end || v < 1 || v > I2V_FILE_MAX_ROW_LIMIT) return 0;
  *out = (size_t)v;
  return 1;
}

int i2v_file_open(const char *fname, const char *path, const char *member, sqlite3_stmt *ping,
                  i2v_reader **out, char **where, char **pzErr) {
  char err[600];
  /* "" rather than NULL: a file table can name a member (member=...). */
  int irc = i2v_reader_open(&i2v_sqlite_alloc, path, member ? member : "", out, err, sizeof(err));
  if (irc != I2V_OK) {
    *pzErr = sqlite3_mprintf("%s: '%s': %s", fname, path, err);
    return irc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
  }
  if (ping) i2v_reader_set_cancel(*out, i2v_ping_interrupted, ping);
  if (!*where) {
    *where = (*out)->kind == I2V_SOURCE_ZIP
                 ? sqlite3_mprintf("'%s' member '%s'", path, i2v_reader_member(*out))
                 : sqlite3_mprintf("'%s'", path);
    if (!*where) {
      i2v_reader_close(*out);
      *out = NULL;
      return SQLITE_NOMEM;
    }
  }
  return SQLITE_OK;
}

/* ---- item values --------------------------------------------------------- */

int i2v_value_from_column(sqlite3_stmt *st, int col, i2v_value *v) {
  memset(v, 0, sizeof(*v));
  v->type = sqlite3_column_type(st, col);
  switch (v->type) {
    case SQLITE_NULL:
      return 0;
    case SQLITE_INTEGER:
      v->i = sqlite3_column_int64(st, col);
      break;
    case SQLITE_FLOAT:
      v->r = sqlite3_column_double(st, col);
      v->bytes = sqlite3_column_text(st, col);
      v->n = (size_t)sqlite3_column_bytes(st, col);
      break;
    case SQLITE_TEXT:
      v->bytes = sqlite3_column_text(st, col);
      v->n = (size_t)sqlite3_column_bytes(st, col);
      break;
    default:
      v->bytes = sqlite3_column_blob(st, col);
      v->n = (size_t)sqlite3_column_bytes(st, col);
      break;
  }
  /* The text of a real or a text value is a conversion that can run out of
  ** memory; keying the item by nothing would silently merge items. */
  if ((v->type == SQLITE_FLOAT || v->type == SQLITE_TEXT) && !v->bytes) return -1;
  return 1;
}

int i2v_value_from_sql(sqlite3_value *sv, i2v_value *v) {
  memset(v, 0, sizeof(*v));
  v->type = sqlite3_value_type(sv);
  switch (v->type) {
    case SQLITE_NULL:
      return 0;
    case SQLITE_INTEGER:
      v->i = sqlite3_value_int64(sv);
      break;
    case SQLITE_FLOAT:
      v->r = sqlite3_value_double(sv);
      v->bytes = sqlite3_value_text(sv);
      v->n = (size_t)sqlite3_value_bytes(sv);
      break;
    case SQLITE_TEXT:
      v->bytes = sqlite3_value_text(sv);
      v->n = (size_t)sqlite3_value_bytes(sv);
      break;
    default:
      v->bytes = sqlite3_value_blob(sv);
      v->n = (size_t)sqlite3_value_bytes(sv);
      break;
  }
  if ((v->type == SQLITE_FLOAT || v->type == SQLITE_TEXT) && !v->bytes) return -1;
  return 1;
}

int i2v_bind_item(sqlite3_stmt *st, int idx, const i2v_vocab *v, const i2v_vocab_entry *e) {
  switch (e->type) {
    case I2V_INTEGER:
      return sqlite3_bind_int64(st, idx, e->v.i);
    case I2V_FLOAT:
      return sqlite3_bind_double(st, idx, e->key_is_int ? (double)e->v.i : e->v.r);
    case I2V_TEXT:
      if (e->key_is_int) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)e->v.i);
        return sqlite3_bind_text(st, idx, buf, -1, SQLITE_TRANSIENT);
      }
      return sqlite3_bind_text(st, idx, i2v_vocab_bytes(v, e), (int)e->len, SQLITE_STATIC);
    default:
      return sqlite3_bind_blob(st, idx, i2v_vocab_bytes(v, e), (int)e->len, SQLITE_STATIC);
  }
}

void i2v_result_item(sqlite3_context *ctx, const i2v_vocab *v, const i2v_vocab_entry *e) {
  switch (e->type) {
    case I2V_INTEGER:
      sqlite3_result_int64(ctx, e->v.i);
      break;
    case I2V_FLOAT:
      sqlite3_result_double(ctx, e->key_is_int ? (double)e->v.i : e->v.r);
      break;
    case I2V_TEXT:
      if (e->key_is_int) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)e->v.i);
        sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
      } else {
        sqlite3_result_text(ctx, i2v_vocab_bytes(v, e), (int)e->len, SQLITE_TRANSIENT);
      }
      break;
    default:
      sqlite3_result_blob(ctx, i2v_vocab_bytes(v, e), (int)e->len, SQLITE_TRANSIENT);
  }
}

/* ---- arguments of the query functions ------------------------------------ */

int i2v_arg_int(sqlite3_value *v, int64_t lo, int64_t hi, int64_t *out) {
  i2v_value iv;
  int64_t x;
  if (i2v_value_from_sql(v, &iv) <= 0) return 0;
  if (iv.type == I2V_INTEGER) {
    x = iv.i;
  } else if (iv.type == I2V_FLOAT && iv.r >= -9e18 && iv.r <= 9e18 &&
             iv.r == (double)(int64_t)iv.r) {
    x = (int64_t)iv.r;
  } else if (iv.type != I2V_TEXT || !i2v_parse_canonical_int(iv.bytes, iv.n, &x)) {
    return 0;
  }
  if (x < lo || x > hi) return 0;
  *out = x;
  return 1;
}

void i2v_item_rows_free(i2v_item_rows *r) {
  sqlite3_free(r->rows);
  sqlite3_free(r->weights);
  memset(r, 0, sizeof(*r));
}

/* Room for n rows in all. */
static int item_rows_reserve(i2v_item_rows *r, size_t n) {
  if (n <= r->cap) return SQLITE_OK;
  size_t nc = r->cap ? r->cap : 16;
  while (nc < n) nc *= 2;
  uint32_t *rows = sqlite3_realloc64(r->rows, (sqlite3_uint64)nc * sizeof(uint32_t));
  if (!rows) return SQLITE_NOMEM;
  r->rows = rows;
  float *w = sqlite3_realloc64(r->weights, (sqlite3_uint64)nc * sizeof(float));
  if (!w) return SQLITE_NOMEM;
  r->weights = w;
  r->cap = nc;
  return SQLITE_OK;
}

int i2v_item_rows_push(i2v_item_rows *r, uint32_t row, float weight) {
  if (item_rows_reserve(r, r->n + 1) != SQLITE_OK) return SQLITE_NOMEM;
  r->rows[r->n] = row;
  r->weights[r->n++] = weight;
  return SQLITE_OK;
}

/* What a text that is no item and no valid JSON was taken for, and how to
** say one item explicitly: the tail of the JSON errors. */
#define I2V_JSON_RULE_HINT \
  " (not a known item, so read as JSON; json_array(x) asks for the one item x)"

int i2v_item_rows_add(const i2v_vocab *items, sqlite3_value *v, int objects, const char *fname,
                      const char *what, i2v_item_rows *out, char **msg) {
  i2v_value iv;
  if (!v) return SQLITE_OK; /* not given: nothing */
  int got = i2v_value_from_sql(v, &iv);
  if (got < 0) {
    *msg = sqlite3_mprintf("%s: out of memory", fname);
    return SQLITE_NOMEM;
  }
  if (!got) return SQLITE_OK; /* NULL: nothing */
  /* A known item first: ids that look like JSON are still ids. */
  int64_t idx = i2v_vocab_find(items, &iv);
  if (idx >= 0) return i2v_item_rows_push(out, (uint32_t)idx, 1.0f);
  if (!(iv.type == I2V_TEXT && i2v_json_looks_like(iv.bytes, iv.n))) {
    out->unknown++;
    return SQLITE_OK;
  }
  const char *s = iv.bytes;
  size_t i = 0;
  while (i < iv.n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  if (s[i] != '[' && !objects) {
    *msg = sqlite3_mprintf("%s: %s must be a JSON array of items, as in '[1, 2, 3]'", fname,
                           what ? what : "the argument");
    return SQLITE_ERROR;
  }
  i2v_query q;
  char jerr[200];
  memset(&q, 0, sizeof(q));
  int rc = i2v_json_parse_query(iv.bytes, iv.n, &i2v_sqlite_alloc, &q, jerr, sizeof(jerr));
  if (rc == I2V_OK && item_rows_reserve(out, out->n + q.n) != SQLITE_OK) rc = I2V_NOMEM;
  if (rc == I2V_OK) {
    for (size_t j = 0; j < q.n; j++) {
      idx = i2v_vocab_find(items, &q.items[j].value);
      if (idx < 0) {
        out->unknown++;
        continue;
      }
      out->rows[out->n] = (uint32_t)idx;
      out->weights[out->n++] = q.items[j].weight;
    }
  }
  i2v_query_free(&q);
  if (rc == I2V_NOMEM) return SQLITE_NOMEM;
  if (rc != I2V_OK) {
    *msg = what ? sqlite3_mprintf("%s: %s: %s" I2V_JSON_RULE_HINT, fname, what, jerr)
                : sqlite3_mprintf("%s: %s" I2V_JSON_RULE_HINT, fname, jerr);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

char *i2v_value_literal(const i2v_value *v) {
  switch (v->type) {
    case I2V_INTEGER:
      return sqlite3_mprintf("%lld", (long long)v->i);
    case I2V_FLOAT:
      return sqlite3_mprintf("%.*s", (int)v->n, (const char *)v->bytes);
    case I2V_TEXT:
      return sqlite3_mprintf("%.*Q", (int)v->n, (const char *)v->bytes);
    default: {
      sqlite3_str *s = sqlite3_str_new(NULL);
      sqlite3_str_appendall(s, "x'");
      for (size_t i = 0; i < v->n; i++)
        sqlite3_str_appendf(s, "%02x", ((const unsigned char *)v->bytes)[i]);
      sqlite3_str_appendchar(s, 1, '\'');
      return sqlite3_str_finish(s);
    }
  }
}

char *i2v_item_literal(const i2v_vocab *v, const i2v_vocab_entry *e) {
  char buf[40];
  i2v_value val = {e->type, e->v.i, 0, i2v_vocab_bytes(v, e), e->len};
  if (e->key_is_int && e->type != I2V_INTEGER) {
    /* The text of a canonical integer, or of an integral real. */
    snprintf(buf, sizeof(buf), e->type == I2V_FLOAT ? "%lld.0" : "%lld", (long long)e->v.i);
    val.bytes = buf;
    val.n = strlen(buf);
  }
  return i2v_value_literal(&val);
}

char *i2v_duplicate_error(const char *fname, const char *model, const char *table,
                          const char *first, const char *second) {
  return sqlite3_mprintf(
      "%s: model '%s' stores item %s twice in %s, as %s and as %s (item2vec takes them for one "
      "item; SQL keeps them apart); delete one, as in DELETE FROM %s WHERE model = %Q AND "
      "item = %s",
      fname, model, first ? first : "?", table, first ? first : "?", second ? second : "?", table,
      model, second ? second : "?");
}

/* ---- the model tables ---------------------------------------------------- */

const unsigned char *i2v_column_vector(sqlite3_stmt *st, int col, int dim, char *why, size_t n) {
  int type = sqlite3_column_type(st, col);
  int bytes = sqlite3_column_bytes(st, col);
  if (type != SQLITE_BLOB) {
    static const char *const names[] = {"?", "an INTEGER", "a REAL", "a TEXT", "a BLOB", "NULL"};
    snprintf(why, n, "%s value, not a BLOB of %d float32 values",
             names[type >= 1 && type <= 5 ? type : 0], dim);
    return NULL;
  }
  if ((int64_t)bytes != (int64_t)dim * 4) {
    snprintf(why, n, "a BLOB of %d bytes, where dimension %d needs %lld", bytes, dim,
             (long long)dim * 4);
    return NULL;
  }
  const unsigned char *b = sqlite3_column_blob(st, col);
  if (!b) snprintf(why, n, "an empty BLOB"); /* or out of memory */
  return b;
}

int i2v_column_floats(sqlite3_stmt *st, int col, int dim, float *out, char *why, size_t n) {
  const unsigned char *b = i2v_column_vector(st, col, dim, why, n);
  return b ? i2v_blob_floats(b, 4 * dim, dim, out, NULL) : I2V_BLOB_LENGTH;
}

int i2v_header_dim(sqlite3_stmt *st, int col, char *shown, size_t n) {
  int type = sqlite3_column_type(st, col);
  sqlite3_int64 d = type == SQLITE_INTEGER ? sqlite3_column_int64(st, col) : 0;
  const unsigned char *t = sqlite3_column_text(st, col);
  snprintf(shown, n, "%s", t ? (const char *)t : "NULL");
  return type == SQLITE_INTEGER && d >= 1 && d <= I2V_MAX_DIM ? (int)d : 0;
}

int i2v_table_exists(sqlite3 *db, const char *name) {
  sqlite3_stmt *st = NULL;
  int found = -1;
  if (sqlite3_prepare_v2(db,
                         "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' "
                         "AND name = ?1",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
  }
  sqlite3_finalize(st);
  return found;
}

int i2v_model_tables(sqlite3 *db) {
  int has = i2v_table_exists(db, "item2vec_models");
  return has > 0 ? i2v_table_exists(db, "item2vec_vectors") : has;
}

int i2v_model_list(sqlite3 *db, char **out) {
  sqlite3_stmt *st = NULL;
  sqlite3_str *names = sqlite3_str_new(db);
  int k = 0;
  *out = NULL;
  int rc =
      sqlite3_prepare_v2(db, "SELECT name FROM main.item2vec_models ORDER BY name", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      sqlite3_str_appendf(names, "%s'%s'", k++ ? ", " : "",
                          (const char *)sqlite3_column_text(st, 0));
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (k == 0) sqlite3_str_appendall(names, "none");
  if (rc == SQLITE_OK) rc = sqlite3_str_errcode(names);
  char *list = sqlite3_str_finish(names);
  if (rc == SQLITE_OK && !list) rc = SQLITE_NOMEM;
  if (rc != SQLITE_OK) {
    sqlite3_free(list);
    return rc;
  }
  *out = list;
  return SQLITE_OK;
}

int i2v_no_such_model(sqlite3 *db, const char *fname, const char *name, char **pzErr) {
  char *list = NULL;
  int rc = i2v_model_list(db, &list);
  if (rc != SQLITE_OK) { /* the list failed: say why */
    *pzErr = sqlite3_mprintf("%s: cannot read model '%s': %s", fname, name, sqlite3_errstr(rc));
    return rc;
  }
  *pzErr =
      sqlite3_mprintf("%s: no such model '%s'; models in this database: %s", fname, name, list);
  sqlite3_free(list);
  return SQLITE_ERROR;
}

/* ---- scalar functions ---------------------------------------------------- */

void i2v_result_error(sqlite3_context *ctx, int rc, char *msg) {
  if (!msg) {
    sqlite3_result_error_nomem(ctx); /* even the message ran out of memory */
    return;
  }
  sqlite3_result_error(ctx, msg, -1);
  sqlite3_result_error_code(ctx, rc);
  sqlite3_free(msg);
}

/* ---- vector BLOBs -------------------------------------------------------- */

int i2v_blob_floats(const void *b, int bytes, int dim, float *out, int *bad) {
  if (bytes < 0 || bytes % 4 != 0 || (dim > 0 && bytes != 4 * dim) || (!b && bytes > 0))
    return I2V_BLOB_LENGTH;
  int n = bytes / 4;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n) memcpy(out, b, (size_t)n * sizeof(float));
#else
  for (int d = 0; d < n; d++) out[d] = i2v_get_lef32((const unsigned char *)b + 4 * d);
#endif
  /* x * 0 is 0 for every finite x and NaN for an infinity or a NaN: one
  ** pass the compiler vectorises, then the culprit when there is one. */
  float z = 0.0f;
#pragma omp simd reduction(+ : z)
  for (int d = 0; d < n; d++) z += out[d] * 0.0f;
  if (z == 0.0f) return I2V_BLOB_OK;
  for (int d = 0; d < n; d++)
    if (out[d] * 0.0f != 0.0f) {
      if (bad) *bad = d;
      break;
    }
  return I2V_BLOB_NONFINITE;
}

/* ---- interrupts ---------------------------------------------------------- */

int i2v_ping_open(sqlite3 *db, sqlite3_stmt **ping) {
  return sqlite3_prepare_v2(db, "SELECT 1", -1, ping, NULL);
}

int i2v_ping_interrupted(void *ping) {
  int rc = sqlite3_step((sqlite3_stmt *)ping);
  sqlite3_reset((sqlite3_stmt *)ping);
  return rc == SQLITE_INTERRUPT;
}

/* ---- small helpers ------------------------------------------------------- */

double i2v_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
** Fault in the whole pages of [p, p + bytes) with one call where Linux can
** (MADV_POPULATE_WRITE, 5.14 and later; elsewhere nothing happens and the
** pages fault in as they are written).  Fresh memory costs a page fault per
** 4 KiB page on first write, which for a large model costs about as much as
** reading its rows from the database; one call per range costs less.
** Transparent huge pages are not asked for: on a virtual machine that hands
** free memory back to its host (free page reporting) each fresh huge page
** waits for the host, and the first load got slower, not faster.  The
** figures are in docs/performance.md, next to the command that measures
** them (scripts/bench_load.py).
*/
void i2v_prefault(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
  const uintptr_t page = 4096;
  uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
  uintptr_t hi = ((uintptr_t)p + bytes) & ~(page - 1);
  if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
  (void)p;
  (void)bytes;
#endif
}

/* Append t as a JSON string (quotes, escapes) to s. */
void i2v_json_string(sqlite3_str *s, const char *t) {
  sqlite3_str_appendchar(s, 1, '"');
  for (; *t; t++) {
    unsigned char c = (unsigned char)*t;
    if (c == '"' || c == '\\')
      sqlite3_str_appendf(s, "\\%c", c);
    else if (c < 0x20)
      sqlite3_str_appendf(s, "\\u%04x", c);
    else
      sqlite3_str_appendchar(s, 1, (char)c);
  }
  sqlite3_str_appendchar(s, 1, '"');
}

void i2v_options_json_members(sqlite3_str *s, const i2v_options *o) {
  char buf[64];
  for (int i = 0; i < i2v_options_count(); i++) {
    if (i) sqlite3_str_appendchar(s, 1, ',');
    i2v_json_string(s, i2v_options_name(i));
    sqlite3_str_appendchar(s, 1, ':');
    const char *v = i2v_options_value_json(o, i, buf, sizeof(buf));
    if (i2v_options_is_text(i)) {
      if (strcmp(i2v_options_name(i), "model") == 0) v = i2v_options_model(o);
      if (*v)
        i2v_json_string(s, v);
      else
        sqlite3_str_appendall(s, "null");
    } else {
      sqlite3_str_appendall(s, v);
    }
  }
}

void i2v_source_json_members(sqlite3_str *s, const char *const names[3]) {
  sqlite3_str_appendall(s, ",\"user_col\":");
  i2v_json_string(s, names[1]);
  sqlite3_str_appendall(s, ",\"item_col\":");
  i2v_json_string(s, names[2]);
}
