/*
** sql/recommend.c: the recommend_items table-valued function ("what should
** this user watch next?").
**
** SQL served:
**   SELECT * FROM recommend_items(7, 10);                -- user 7, top 10
**   SELECT * FROM recommend_items(7, 10, 'mymodel');
**   SELECT u.id, r.* FROM users u, recommend_items(u.id, 10) r;  -- everyone
**   SELECT * FROM recommend_items(NULL, 5) WHERE history = '[1, 260, 1196]';
**   SELECT * FROM recommend_items(7, 10) WHERE exclude = '[2, 3]';
**   SELECT * FROM recommend_items(7, 10) WHERE only = '[5, 6, 7]';
**   SELECT * FROM recommend_items(7, 10) WHERE min_frequency = 20;
**   SELECT * FROM recommend_items(7, 10) WHERE seen = 1;  -- may repeat items
**
** How it works.  recommend_items is an eponymous virtual table whose hidden
** columns user, k, model, history, exclude, only, min_frequency and seen are
** its arguments, by position or as WHERE column = value.  The user's history
** comes from the model's own source (the table, user and item columns and
** order_by that item2vec_train recorded in the model's params), oldest
** first, or from `history`, a JSON array of items.  The ranking is
** core/rank.h's: the last I2V_RANK_QUERY_ITEMS items the model knows make the
** query, and each item's score blends the embedding's estimate of "next"
** (input x output vectors, so the model needs its context vectors) with the
** pair evidence stored in item2vec_pairs.  Items the user already has are
** left out unless seen = 1, and so are the exclude list, items outside
** `only`, and items seen fewer than min_frequency times in training.
**
** One statement answers from one version of the model: the cursor keeps the
** model across the xFilter calls of a lateral join.  The first user of a
** cursor is looked up with WHERE user = ?; when that lookup had to scan the
** whole source (no index on the user column), the second user reads the
** source once, grouped by user, and every later user of the statement is
** answered from memory.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/rank.h"
#include "core/topk.h"
#include "sql/recommend.h"
#include "sql/store.h"

/* Column numbers, in the order of the CREATE TABLE below. */
#define REC_RANK 0
#define REC_ITEM 1
#define REC_SCORE 2
#define REC_USER 3
#define REC_K 4
#define REC_MODEL 5
#define REC_HISTORY 6
#define REC_EXCLUDE 7
#define REC_ONLY 8
#define REC_MIN_FREQUENCY 9
#define REC_SEEN 10
#define REC_NARGS 8 /* hidden columns, user .. seen */

static const char rec_schema[] =
    "CREATE TABLE x(rank INTEGER, item, score REAL, "
    "user HIDDEN, k HIDDEN, model HIDDEN, history HIDDEN, exclude HIDDEN, "
    "only HIDDEN, min_frequency HIDDEN, seen HIDDEN)";

#define REC_DEFAULT_K 10
/* Items seen fewer times in training are not recommended by default
** (docs/quality.md, "How recommend_items was chosen"). */
#define REC_DEFAULT_MIN_FREQUENCY I2V_RANK_MIN_FREQUENCY

static const char fname[] = "recommend_items";

/* The users of a source read in one pass: user u's items (model indices,
** oldest first) are items[start[u] .. start[u+1]). */
typedef struct rec_users {
  int loaded;
  i2v_vocab users;
  uint64_t *start;
  uint32_t *items;
} rec_users;

typedef struct rec_cursor {
  sqlite3_vtab_cursor base;
  i2v_model *model;  /* kept across the xFilter calls of one statement */
  float *log_count;  /* per item of model: log(stored frequency) */
  i2v_ranker ranker; /* over model's unit rows and context vectors */
  int have_ranker;
  char *source; /* the model's source, as recorded (NULL: not recorded) */
  char *user_col, *item_col, *order_by;
  sqlite3_stmt *history_st; /* the items of one user, oldest first */
  sqlite3_stmt *pairs_st;   /* one item's pair rows */
  int lookups;              /* users looked up one by one */
  int scanned;              /* a lookup scanned the whole source */
  rec_users all;            /* the whole source, once scanning is known */
  uint32_t *hist;           /* the history: model indices, oldest first */
  size_t nhist, hist_cap;
  i2v_item_rows items;   /* scratch: history's rows */
  i2v_item_rows exclude; /* exclude's rows, then the user's items */
  i2v_item_rows only;
  uint32_t *pair_other;
  float *pair_weight;
  size_t pair_other_cap, pair_weight_cap;
  float *scores;
  i2v_scored *results;
  size_t results_cap;
  size_t n, pos;
  sqlite3_value *args[REC_NARGS]; /* hidden columns as given, for xColumn */
} rec_cursor;

static int rec_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc;
  (void)argv;
  return i2v_vtab_connect(db, aux, rec_schema, fname, ppVtab, pzErr);
}

static int rec_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **ppCur) {
  (void)vt;
  return i2v_vtab_open(sizeof(rec_cursor), ppCur);
}

static void users_free(rec_users *u) {
  if (u->loaded) i2v_vocab_free(&u->users);
  sqlite3_free(u->start);
  sqlite3_free(u->items);
  memset(u, 0, sizeof(*u));
}

/* Forget everything that belongs to the cursor's model. */
static void drop_model(rec_cursor *c) {
  i2v_model_release(c->model);
  c->model = NULL;
  if (c->have_ranker) i2v_ranker_free(&c->ranker);
  c->have_ranker = 0;
  sqlite3_free(c->log_count);
  sqlite3_free(c->source);
  sqlite3_free(c->user_col);
  sqlite3_free(c->item_col);
  sqlite3_free(c->order_by);
  c->log_count = NULL;
  c->source = c->user_col = c->item_col = c->order_by = NULL;
  sqlite3_finalize(c->history_st);
  sqlite3_finalize(c->pairs_st);
  c->history_st = c->pairs_st = NULL;
  c->lookups = c->scanned = 0;
  users_free(&c->all);
  sqlite3_free(c->scores);
  c->scores = NULL;
}

static int rec_close(sqlite3_vtab_cursor *cur) {
  rec_cursor *c = (rec_cursor *)cur;
  drop_model(c);
  sqlite3_free(c->hist);
  i2v_item_rows_free(&c->items);
  i2v_item_rows_free(&c->exclude);
  i2v_item_rows_free(&c->only);
  sqlite3_free(c->pair_other);
  sqlite3_free(c->pair_weight);
  sqlite3_free(c->results);
  for (int i = 0; i < REC_NARGS; i++) sqlite3_value_free(c->args[i]);
  sqlite3_free(c);
  return SQLITE_OK;
}

/*
** The plan.  idxNum bit (1 << j) means hidden column REC_USER + j has an
** equality constraint: bit 1 user, 2 k, 4 model, 8 history, 16 exclude,
** 32 only, 64 min_frequency, 128 seen; the values come in argv in that
** order.  A constraint on any of them that is not usable yet (a lateral
** join's outer column) refuses the plan with SQLITE_CONSTRAINT so SQLite
** reads that table first.  Neither user nor history gets idxNum 0, which
** xFilter turns into an error saying what is missing.  Rows come out best
** first, so ORDER BY rank or ORDER BY score DESC is consumed.
*/
static int rec_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  static const i2v_plan plan = {REC_USER, REC_NARGS, 1 | 1 << (REC_HISTORY - REC_USER), 1000, 10,
                                REC_RANK, REC_SCORE};
  (void)vt;
  return i2v_vtab_plan(info, &plan);
}

/* ---- the model and what the cursor derives from it ---------------------- */

static char *dup_column(sqlite3_stmt *st, int col, int *nomem) {
  const unsigned char *t = sqlite3_column_text(st, col);
  if (!t) {
    if (sqlite3_column_type(st, col) != SQLITE_NULL) *nomem = 1;
    return NULL;
  }
  char *s = sqlite3_mprintf("%s", (const char *)t);
  if (!s) *nomem = 1;
  return s;
}

/* Where the model's training rows came from (its params). */
static int read_source(sqlite3 *db, rec_cursor *c, char **msg) {
  sqlite3_stmt *st = NULL;
  int nomem = 0;
  int rc = sqlite3_prepare_v2(db,
                              "SELECT source, json_extract(params, '$.user_col'), "
                              "json_extract(params, '$.item_col'), "
                              "json_extract(params, '$.order_by') "
                              "FROM main.item2vec_models WHERE name = ?1",
                              -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, c->model->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      c->source = dup_column(st, 0, &nomem);
      c->user_col = dup_column(st, 1, &nomem);
      c->item_col = dup_column(st, 2, &nomem);
      c->order_by = dup_column(st, 3, &nomem);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  if (rc != SQLITE_OK)
    *msg = sqlite3_mprintf("%s: cannot read model '%s': %s", fname, c->model->name,
                           sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return nomem ? SQLITE_NOMEM : rc;
}

/* Take the model called name (from the connection's cache) with its context
** vectors, source and ranker, unless the cursor already has it. */
static int take_model(rec_cursor *c, const char *name, char **msg) {
  i2v_vtab *vt = (i2v_vtab *)c->base.pVtab;
  sqlite3 *db = vt->conn->db;
  if (c->model && strcmp(c->model->name, name) == 0) return SQLITE_OK;
  drop_model(c);
  int rc = i2v_conn_model(vt->conn, fname, name, &c->model, msg);
  if (rc != SQLITE_OK) return rc;
  i2v_model *m = c->model;
  const float *context;
  rc = i2v_model_context(db, m, fname, &context, msg);
  if (rc == SQLITE_ERROR && *msg && strstr(*msg, "has no context vectors")) {
    sqlite3_free(*msg);
    *msg = sqlite3_mprintf(
        "%s: model '%s' has no context vectors, which recommend_items ranks with (it was "
        "trained with save_context=0, or imported); retrain it with item2vec_train",
        fname, m->name);
  }
  if (rc != SQLITE_OK) return rc;
  if ((rc = read_source(db, c, msg)) != SQLITE_OK) return rc;
  size_t n = m->n ? m->n : 1;
  c->log_count = sqlite3_malloc64(n * sizeof(float));
  c->scores = sqlite3_malloc64(n * sizeof(float));
  if (!c->log_count || !c->scores) return SQLITE_NOMEM;
  for (uint32_t i = 0; i < m->n; i++) {
    uint64_t f = m->items.entries[i].count;
    c->log_count[i] = (float)log((double)(f ? f : 1));
  }
  if (i2v_ranker_init(&c->ranker, m->unit, context, c->log_count, m->stride, m->dim, m->n,
                      &i2v_sqlite_alloc) != I2V_OK)
    return SQLITE_NOMEM;
  c->have_ranker = 1;
  if (i2v_table_exists(db, "item2vec_pairs") > 0) {
    rc = sqlite3_prepare_v2(db,
                            "SELECT other, weight FROM main.item2vec_pairs "
                            "WHERE model = ?1 AND item = ?2",
                            -1, &c->pairs_st, NULL);
    if (rc != SQLITE_OK) {
      *msg = sqlite3_mprintf("%s: cannot read the pairs of model '%s': %s", fname, m->name,
                             sqlite3_errmsg(db));
      return rc;
    }
    sqlite3_bind_text(c->pairs_st, 1, m->name, -1, SQLITE_STATIC);
  }
  return SQLITE_OK;
}

/* ---- the history --------------------------------------------------------- */

static int push_hist(rec_cursor *c, uint32_t idx) {
  if (i2v_reserve((void **)&c->hist, &c->hist_cap, c->nhist + 1, sizeof(uint32_t)) != SQLITE_OK)
    return SQLITE_NOMEM;
  c->hist[c->nhist++] = idx;
  return SQLITE_OK;
}

/* FROM "table" or "schema"."table" of the recorded source, for SQL: the
** whole name when an object has it, as item2vec_train looked it up. */
static char *source_from(sqlite3 *db, const char *source) {
  const char *dot = strchr(source, '.');
  sqlite3_stmt *st = NULL;
  int whole = 1;
  if (dot && dot != source && dot[1] &&
      sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1)", -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    whole = sqlite3_step(st) == SQLITE_ROW;
  }
  sqlite3_finalize(st);
  if (whole) return sqlite3_mprintf("\"%w\"", source);
  char *schema = sqlite3_mprintf("%.*s", (int)(dot - source), source);
  char *from = schema ? sqlite3_mprintf("\"%w\".\"%w\"", schema, dot + 1) : NULL;
  sqlite3_free(schema);
  return from;
}

/* Prepare sql with ", rowid" appended to its ORDER BY when the source has
** rowids (a view has none): ties in order_by come in rowid order, as
** item2vec_train read them. */
static int prepare_ordered(sqlite3 *db, const char *sql, const char *order_by, sqlite3_stmt **st) {
  char *a = order_by ? sqlite3_mprintf("%s ORDER BY \"%w\", rowid", sql, order_by)
                     : sqlite3_mprintf("%s ORDER BY rowid", sql);
  if (!a) return SQLITE_NOMEM;
  int rc = sqlite3_prepare_v2(db, a, -1, st, NULL);
  sqlite3_free(a);
  if (rc == SQLITE_OK) return rc;
  if (rc == SQLITE_NOMEM) return rc;
  char *b =
      order_by ? sqlite3_mprintf("%s ORDER BY \"%w\"", sql, order_by) : sqlite3_mprintf("%s", sql);
  if (!b) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, b, -1, st, NULL);
  sqlite3_free(b);
  return rc;
}

/* The message for a source that cannot be read. */
static char *source_error(sqlite3 *db, const rec_cursor *c) {
  return sqlite3_mprintf(
      "%s: cannot read the history of users from the source of model '%s' ('%s', "
      "columns '%s' and '%s'): %s; pass the user's items instead, as in "
      "WHERE history = '[1, 2, 3]'",
      fname, c->model->name, c->source, c->user_col, c->item_col, sqlite3_errmsg(db));
}

static int no_source(const rec_cursor *c, char **msg) {
  *msg = sqlite3_mprintf(
      "%s: model '%s' does not record where its training rows came from (it was "
      "trained before recommend_items existed, or imported); retrain it with "
      "item2vec_train, or pass the user's items, as in WHERE history = '[1, 2, 3]'",
      fname, c->model->name);
  return SQLITE_ERROR;
}

/* The model index of column col of the current row, or -1. */
static int64_t row_item(const i2v_model *m, sqlite3_stmt *st, int col, int *nomem) {
  i2v_value v;
  int got = i2v_value_from_column(st, col, &v);
  if (got < 0) *nomem = 1;
  return got > 0 ? i2v_vocab_find(&m->items, &v) : -1;
}

/* The history of one user, looked up with WHERE user = ?. */
static int lookup_user(rec_cursor *c, sqlite3_value *user, char **msg) {
  sqlite3 *db = ((i2v_vtab *)c->base.pVtab)->conn->db;
  int rc = SQLITE_OK, nomem = 0;
  if (!c->history_st) {
    char *from = source_from(db, c->source);
    char *sql = from ? sqlite3_mprintf("SELECT \"%w\" FROM %s WHERE \"%w\" = ?1", c->item_col, from,
                                       c->user_col)
                     : NULL;
    rc = sql ? prepare_ordered(db, sql, c->order_by, &c->history_st) : SQLITE_NOMEM;
    sqlite3_free(from);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
      if (rc != SQLITE_NOMEM) *msg = source_error(db, c);
      return rc;
    }
  }
  sqlite3_bind_value(c->history_st, 1, user);
  while ((rc = sqlite3_step(c->history_st)) == SQLITE_ROW) {
    int64_t idx = row_item(c->model, c->history_st, 0, &nomem);
    if (nomem) break;
    if (idx >= 0 && push_hist(c, (uint32_t)idx) != SQLITE_OK) {
      nomem = 1;
      break;
    }
  }
  if (sqlite3_stmt_status(c->history_st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1) > 0) c->scanned = 1;
  sqlite3_reset(c->history_st);
  if (nomem) return SQLITE_NOMEM;
  if (rc != SQLITE_DONE) {
    *msg = source_error(db, c);
    return rc;
  }
  c->lookups++;
  return SQLITE_OK;
}

/* Read the whole source once, grouped by user (model indices, in order). */
static int load_users(rec_cursor *c, char **msg) {
  sqlite3 *db = ((i2v_vtab *)c->base.pVtab)->conn->db;
  sqlite3_stmt *st = NULL;
  uint32_t *who = NULL, *what = NULL;
  size_t n = 0, cap = 0, wcap = 0;
  int rc, nomem = 0;
  rec_users *u = &c->all;
  i2v_vocab_init(&u->users, &i2v_sqlite_alloc);
  u->loaded = 1;
  char *from = source_from(db, c->source);
  char *sql = from
                  ? sqlite3_mprintf("SELECT \"%w\", \"%w\" FROM %s", c->user_col, c->item_col, from)
                  : NULL;
  rc = sql ? prepare_ordered(db, sql, c->order_by, &st) : SQLITE_NOMEM;
  sqlite3_free(from);
  sqlite3_free(sql);
  if (rc != SQLITE_OK) {
    if (rc != SQLITE_NOMEM) *msg = source_error(db, c);
    goto done;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t idx = row_item(c->model, st, 1, &nomem);
    i2v_value uv;
    int got = i2v_value_from_column(st, 0, &uv);
    if (got < 0 || nomem) {
      nomem = 1;
      break;
    }
    if (idx < 0 || got == 0) continue;
    int added;
    int64_t ui = i2v_vocab_add(&u->users, &uv, &added);
    if (ui < 0 || i2v_reserve((void **)&who, &cap, n + 1, sizeof(uint32_t)) != SQLITE_OK ||
        i2v_reserve((void **)&what, &wcap, n + 1, sizeof(uint32_t)) != SQLITE_OK) {
      nomem = 1;
      break;
    }
    who[n] = (uint32_t)ui;
    what[n++] = (uint32_t)idx;
  }
  if (nomem) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  if (rc != SQLITE_DONE) {
    *msg = source_error(db, c);
    goto done;
  }
  /* A stable counting sort by user keeps each user's rows in order. */
  size_t nu = u->users.n;
  u->start = sqlite3_malloc64((nu + 1) * sizeof(uint64_t));
  u->items = sqlite3_malloc64((n ? n : 1) * sizeof(uint32_t));
  if (!u->start || !u->items) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  memset(u->start, 0, (nu + 1) * sizeof(uint64_t));
  for (size_t r = 0; r < n; r++) u->start[who[r] + 1]++;
  for (size_t i = 0; i < nu; i++) u->start[i + 1] += u->start[i];
  for (size_t r = 0; r < n; r++) u->items[u->start[who[r]]++] = what[r];
  for (size_t i = nu; i > 0; i--) u->start[i] = u->start[i - 1];
  u->start[0] = 0;
  rc = SQLITE_OK;

done:
  sqlite3_finalize(st);
  sqlite3_free(who);
  sqlite3_free(what);
  if (rc != SQLITE_OK) users_free(u);
  return rc;
}

/* The user's history into c->hist. */
static int user_history(rec_cursor *c, sqlite3_value *user, char **msg) {
  if (!c->source || !c->user_col || !c->item_col) return no_source(c, msg);
  if (c->lookups >= 1 && c->scanned && !c->all.loaded) {
    int rc = load_users(c, msg);
    if (rc != SQLITE_OK) return rc;
  }
  if (!c->all.loaded) return lookup_user(c, user, msg);
  i2v_value uv;
  int got = i2v_value_from_sql(user, &uv);
  if (got < 0) return SQLITE_NOMEM;
  int64_t ui = got ? i2v_vocab_find(&c->all.users, &uv) : -1;
  if (ui < 0) return SQLITE_OK;
  for (uint64_t e = c->all.start[ui]; e < c->all.start[ui + 1]; e++)
    if (push_hist(c, c->all.items[e]) != SQLITE_OK) return SQLITE_NOMEM;
  return SQLITE_OK;
}

/* history: a JSON array of items, oldest first, into c->hist.  A value that
** names a known item is that item (sql/common.h's rule); any other value
** that is not a JSON array is an error. */
static int history_arg(rec_cursor *c, sqlite3_value *v, char **msg) {
  i2v_value iv;
  int got = i2v_value_from_sql(v, &iv);
  if (got < 0) return SQLITE_NOMEM;
  if (got && i2v_vocab_find(&c->model->items, &iv) < 0) {
    size_t i = 0;
    const char *t = iv.type == I2V_TEXT ? iv.bytes : NULL;
    while (t && i < iv.n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) i++;
    if (!t || i >= iv.n || t[i] != '[') {
      *msg = sqlite3_mprintf(
          "%s: history must be a JSON array of items, oldest first, as in '[1, 2, 3]' "
          "(json_array(...) builds one)",
          fname);
      return SQLITE_ERROR;
    }
  }
  c->items.n = 0;
  int rc = i2v_item_rows_add(&c->model->items, v, 0, fname, "history", &c->items, msg);
  for (size_t i = 0; rc == SQLITE_OK && i < c->items.n; i++) rc = push_hist(c, c->items.rows[i]);
  return rc;
}

/* ---- scoring ------------------------------------------------------------- */

/* The pair rows of the query items q[0..nq), read into c's buffers. */
static int read_pairs(rec_cursor *c, const uint32_t *q, size_t nq, i2v_pair_row *rows, char **msg) {
  const i2v_model *m = c->model;
  size_t used = 0;
  uint64_t begin[I2V_RANK_QUERY_ITEMS];
  int nomem = 0, rc = SQLITE_OK;
  for (size_t i = 0; i < nq; i++) {
    begin[i] = used;
    if (!c->pairs_st) continue;
    rc = i2v_bind_item(c->pairs_st, 2, &m->items, &m->items.entries[q[i]]);
    while (rc == SQLITE_OK && (rc = sqlite3_step(c->pairs_st)) == SQLITE_ROW) {
      int64_t o = row_item(m, c->pairs_st, 0, &nomem);
      double w = sqlite3_column_double(c->pairs_st, 1);
      if (nomem) break;
      if (o < 0 || !(w > 0.0) || !isfinite(w)) continue; /* hand-edited rows are skipped */
      if (i2v_reserve((void **)&c->pair_other, &c->pair_other_cap, used + 1, sizeof(uint32_t)) ||
          i2v_reserve((void **)&c->pair_weight, &c->pair_weight_cap, used + 1, sizeof(float))) {
        nomem = 1;
        break;
      }
      c->pair_other[used] = (uint32_t)o;
      c->pair_weight[used++] = (float)w;
      rc = SQLITE_OK;
    }
    sqlite3_reset(c->pairs_st);
    if (nomem) return SQLITE_NOMEM;
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
      *msg = sqlite3_mprintf("%s: cannot read the pairs of model '%s': %s", fname, m->name,
                             sqlite3_errmsg(((i2v_vtab *)c->base.pVtab)->conn->db));
      return rc;
    }
    rc = SQLITE_OK;
  }
  for (size_t i = 0; i < nq; i++) {
    uint64_t end = i + 1 < nq ? begin[i + 1] : used;
    rows[i].other = c->pair_other ? c->pair_other + begin[i] : NULL;
    rows[i].weight = c->pair_weight ? c->pair_weight + begin[i] : NULL;
    rows[i].n = end - begin[i];
  }
  return SQLITE_OK;
}

/* Score every item for the history and keep the k best that may be shown:
** not the user's items (unless seen_ok), not exclude's, only only's when
** given, none seen fewer than min_frequency times (core/filter.h). */
static int rank_items(rec_cursor *c, int64_t k, int64_t min_frequency, int seen_ok, int has_only,
                      char **msg) {
  const i2v_model *m = c->model;
  size_t nq = c->nhist < I2V_RANK_QUERY_ITEMS ? c->nhist : I2V_RANK_QUERY_ITEMS;
  const uint32_t *q = c->hist + (c->nhist - nq);
  i2v_pair_row rows[I2V_RANK_QUERY_ITEMS];
  int rc = read_pairs(c, q, nq, rows, msg);
  if (rc != SQLITE_OK) return rc;
  i2v_rank_scores(&c->ranker, q, rows, nq, c->scores);

  if (!seen_ok)
    for (size_t i = 0; i < c->nhist; i++)
      if (i2v_item_rows_push(&c->exclude, c->hist[i], 1.0f) != SQLITE_OK) return SQLITE_NOMEM;
  i2v_filter f = {0};
  f.nskip = i2v_rows_sort_unique(c->exclude.rows, c->exclude.n);
  f.skip = c->exclude.rows;
  if (has_only) {
    f.has_only = 1;
    f.nonly = i2v_rows_sort_unique(c->only.rows, c->only.n);
    f.only = c->only.rows;
  }
  f.entries = m->items.entries;
  f.min_frequency = min_frequency > 0 ? (uint64_t)min_frequency : 0;
  i2v_filter_scores(&f, 0, m->n, c->scores);

  size_t kk = (size_t)k < m->n ? (size_t)k : m->n;
  if (i2v_reserve((void **)&c->results, &c->results_cap, kk ? kk : 1, sizeof(i2v_scored)) !=
      SQLITE_OK)
    return SQLITE_NOMEM;
  i2v_topk top;
  i2v_topk_init(&top, c->results, kk);
  for (uint32_t j = 0; j < m->n; j++)
    if (c->scores[j] > -INFINITY && i2v_topk_wants(&top, c->scores[j]))
      i2v_topk_push(&top, c->scores[j], j);
  c->n = i2v_topk_finish(&top);
  return SQLITE_OK;
}

static int rec_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
  rec_cursor *c = (rec_cursor *)cur;
  sqlite3_vtab *vt = cur->pVtab;
  sqlite3_value *arg[REC_NARGS] = {0};
  char *msg = NULL;
  int rc = SQLITE_OK, ai = 0;
  (void)idxStr;

  c->n = c->pos = 0;
  c->nhist = 0;
  for (int j = 0; j < REC_NARGS; j++) {
    sqlite3_value_free(c->args[j]);
    c->args[j] = NULL;
    if ((idxNum & (1 << j)) && ai < argc) {
      arg[j] = argv[ai++];
      if (!(c->args[j] = sqlite3_value_dup(arg[j]))) return SQLITE_NOMEM;
    }
  }
  sqlite3_value *user = arg[0], *history = arg[REC_HISTORY - REC_USER];
  if (!user && !history)
    return i2v_vtab_error(vt, SQLITE_ERROR,
                          sqlite3_mprintf("%s: give a user, as in recommend_items(7, 10), or the "
                                          "items of a session, as in WHERE history = '[1, 2, 3]'",
                                          fname));
  int64_t k = REC_DEFAULT_K, min_frequency = REC_DEFAULT_MIN_FREQUENCY, seen = 0;
  sqlite3_value *v;
  if ((v = arg[REC_K - REC_USER]) && sqlite3_value_type(v) != SQLITE_NULL &&
      !i2v_arg_int(v, 1, INT64_MAX, &k))
    return i2v_vtab_error(
        vt, SQLITE_ERROR,
        sqlite3_mprintf("%s: k must be a positive integer (how many items to return), got '%s'",
                        fname, sqlite3_value_text(v) ? (const char *)sqlite3_value_text(v) : ""));
  if ((v = arg[REC_MIN_FREQUENCY - REC_USER]) && sqlite3_value_type(v) != SQLITE_NULL &&
      !i2v_arg_int(v, 0, INT64_MAX, &min_frequency))
    return i2v_vtab_error(
        vt, SQLITE_ERROR,
        sqlite3_mprintf("%s: min_frequency must be an integer of 0 or more (items seen fewer "
                        "times in training are not recommended), got '%s'",
                        fname, sqlite3_value_text(v) ? (const char *)sqlite3_value_text(v) : ""));
  if ((v = arg[REC_SEEN - REC_USER]) && sqlite3_value_type(v) != SQLITE_NULL &&
      !i2v_arg_int(v, 0, 1, &seen))
    return i2v_vtab_error(
        vt, SQLITE_ERROR,
        sqlite3_mprintf("%s: seen must be 0 (leave out the items the user has) or 1, got '%s'",
                        fname, sqlite3_value_text(v) ? (const char *)sqlite3_value_text(v) : ""));
  const char *name = "default";
  if ((v = arg[REC_MODEL - REC_USER]) && sqlite3_value_type(v) != SQLITE_NULL) {
    if (sqlite3_value_type(v) != SQLITE_TEXT)
      return i2v_vtab_error(
          vt, SQLITE_ERROR,
          sqlite3_mprintf("%s: the model argument must be a model name (text)", fname));
    name = (const char *)sqlite3_value_text(v);
  }

  rc = take_model(c, name, &msg);
  if (rc == SQLITE_OK) {
    if (history)
      rc = history_arg(c, history, &msg);
    else if (sqlite3_value_type(user) != SQLITE_NULL)
      rc = user_history(c, user, &msg);
  }
  int has_only =
      arg[REC_ONLY - REC_USER] && sqlite3_value_type(arg[REC_ONLY - REC_USER]) != SQLITE_NULL;
  c->exclude.n = c->only.n = 0;
  if (rc == SQLITE_OK)
    rc = i2v_item_rows_add(&c->model->items, arg[REC_EXCLUDE - REC_USER], 0, fname, "exclude",
                           &c->exclude, &msg);
  if (rc == SQLITE_OK && has_only)
    rc = i2v_item_rows_add(&c->model->items, arg[REC_ONLY - REC_USER], 0, fname, "only", &c->only,
                           &msg);
  /* A user with no known items gets no rows (README.md's recipe falls back
  ** to the popular items). */
  if (rc == SQLITE_OK && c->nhist > 0)
    rc = rank_items(c, k, min_frequency, (int)seen, has_only, &msg);
  if (rc != SQLITE_OK) {
    c->n = 0;
    /* An error whose message could not be written ran out of memory. */
    return i2v_vtab_error(vt, rc, msg);
  }
  return SQLITE_OK;
}

static int rec_next(sqlite3_vtab_cursor *cur) {
  ((rec_cursor *)cur)->pos++;
  return SQLITE_OK;
}

static int rec_eof(sqlite3_vtab_cursor *cur) {
  rec_cursor *c = (rec_cursor *)cur;
  return c->pos >= c->n;
}

static int rec_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  rec_cursor *c = (rec_cursor *)cur;
  const i2v_scored *r = &c->results[c->pos];
  switch (col) {
    case REC_RANK:
      sqlite3_result_int64(ctx, (sqlite3_int64)c->pos + 1);
      break;
    case REC_ITEM:
      i2v_result_item(ctx, &c->model->items, &c->model->items.entries[r->index]);
      break;
    case REC_SCORE:
      sqlite3_result_double(ctx, (double)r->score);
      break;
    default:
      if (col >= REC_USER && col < REC_USER + REC_NARGS && c->args[col - REC_USER])
        sqlite3_result_value(ctx, c->args[col - REC_USER]);
      else if (col == REC_K)
        sqlite3_result_int(ctx, REC_DEFAULT_K);
      else if (col == REC_MODEL)
        sqlite3_result_text(ctx, "default", -1, SQLITE_STATIC);
      else if (col == REC_MIN_FREQUENCY)
        sqlite3_result_int(ctx, REC_DEFAULT_MIN_FREQUENCY);
      else if (col == REC_SEEN)
        sqlite3_result_int(ctx, 0);
      break;
  }
  return SQLITE_OK;
}

static int rec_rowid(sqlite3_vtab_cursor *cur, sqlite_int64 *rowid) {
  *rowid = (sqlite_int64)((rec_cursor *)cur)->pos + 1;
  return SQLITE_OK;
}

const sqlite3_module i2v_recommend_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = rec_connect,
    .xBestIndex = rec_best_index,
    .xDisconnect = i2v_vtab_disconnect,
    .xOpen = rec_open,
    .xClose = rec_close,
    .xFilter = rec_filter,
    .xNext = rec_next,
    .xEof = rec_eof,
    .xColumn = rec_column,
    .xRowid = rec_rowid,
};
