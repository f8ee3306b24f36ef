/*
** sql/train.c: the item2vec_train SQL function.
**
** SQL served:
**   SELECT item2vec_train('ratings', 'userId', 'movieId',
**                         'order_by=timestamp', 'vector_size=32', 'window=10');
** returns a JSON summary:
**   {"model":"default","items":9724,"sequences":610,"tokens":100836,...,
**    "loss":[...per epoch...]}
**
** How it works.  Options are parsed first (nothing is read before they are
** all valid; sql/driver.c), then the source is read into sequences
** (sql/source.c), the trainer runs on worker threads while this, the
** calling thread, polls for sqlite3_interrupt and prints progress
** (i2v_poller).  Only then is the model written, in one savepoint
** (sql/store.c), with the pair evidence recommend_items ranks with.
** With 'update=1' the stored model is read before the source and training
** continues from its vectors on the merged vocabulary (sql/update.c).
*/
#include <stdio.h>
#include <string.h>

#include "core/rank.h"
#include "core/train.h"
#include "core/vec.h"
#include "sql/driver.h"
#include "sql/source.h"
#include "sql/store.h"
#include "sql/train.h"
#include "sql/update.h"

static const char fname[] = "item2vec_train";

/* One call's state, freed by run_free whatever happened. */
typedef struct train_run {
  i2v_options o;
  const char *names[3]; /* source, user_col, item_col */
  i2v_dataset ds;
  i2v_stored_model sm; /* update=1: the model training continues from */
  i2v_update_stats us;
  float *rate; /* update=1: learning-rate factor per stored item */
  i2v_trained tr;
  i2v_pairs pairs;
  i2v_poller poll;
  double t0, t1, t2; /* start, read, trained */
  double pairs_s;    /* of which counting the pairs (item2vec_pairs) */
} train_run;

static void run_free(train_run *r) {
  i2v_poller_close(&r->poll);
  i2v_pairs_free(&r->pairs, &i2v_sqlite_alloc);
  i2v_trained_free(&r->tr, &i2v_sqlite_alloc);
  i2v_stored_model_free(&r->sm);
  sqlite3_free(r->rate);
  i2v_dataset_free(&r->ds);
  i2v_options_free(&r->o, &i2v_sqlite_alloc);
}

/* The sequences to train on.  With update=1 the stored model and options
** come first, so a mismatch fails before the read; the source is read with
** min_count=1 and i2v_update_merge applies it to new items only
** (sql/update.c). */
static int read_data(sqlite3 *db, train_run *r, char **pzErr) {
  i2v_options *o = &r->o;
  const char *const *names = r->names;
  int rc = i2v_update_check(o, fname, pzErr);
  if (rc != SQLITE_OK) return rc;
  if (!o->update) return i2v_source_read(db, fname, names[0], names[1], names[2], o, &r->ds, pzErr);
  char err[1024];
  rc = i2v_store_read_state(db, fname, i2v_options_model(o), &r->sm, pzErr);
  if (rc == SQLITE_OK) rc = i2v_update_options(db, fname, &r->sm, o, pzErr);
  if (rc != SQLITE_OK) return rc;
  if (i2v_options_check(o, fname, err, sizeof(err)) != I2V_OK) {
    *pzErr = sqlite3_mprintf("%s", err);
    return SQLITE_ERROR;
  }
  i2v_options ro = *o; /* shares o's strings; not freed */
  ro.min_count = 1;
  ro.max_final_vocab = 0;
  rc = i2v_source_read(db, fname, names[0], names[1], names[2], &ro, &r->ds, pzErr);
  if (rc != SQLITE_OK) return rc;
  return i2v_update_merge(fname, names[0], &r->sm, &r->ds, o, &r->us, &r->rate, pzErr);
}

/* Train on what was read, while the poller watches, and count the pair
** evidence recommend_items blends with the embedding. */
static int train(sqlite3 *db, train_run *r, char **pzErr) {
  i2v_options *o = &r->o;
  const i2v_dataset *ds = &r->ds;
  char err[1024] = {0};
  int rc = i2v_poller_open(&r->poll, db, fname, "items", o->verbose, pzErr);
  if (rc != SQLITE_OK) return rc;
  if (o->verbose)
    fprintf(stderr,
            "%s: %llu rows, %llu items, %llu sequences, %llu tokens read in %.2fs; "
            "training with %d worker%s\n",
            fname, (unsigned long long)ds->rows, (unsigned long long)ds->items.n,
            (unsigned long long)ds->corpus.nseq, (unsigned long long)ds->corpus.ntokens,
            r->t1 - r->t0, o->workers, o->workers == 1 ? "" : "s");
  if (o->verbose && o->update)
    fprintf(stderr, "%s: continuing model '%s': %llu stored items (%llu in the source), %llu new\n",
            fname, i2v_options_model(o), (unsigned long long)r->us.stored_items,
            (unsigned long long)r->us.seen_items, (unsigned long long)r->us.new_items);
  /* Epochs not given (and not taken from a stored model): from the data. */
  if (!o->update && !i2v_options_given(o, "epochs"))
    o->epochs = i2v_auto_epochs(ds->counts, (uint32_t)ds->items.n);
  i2v_start start = {r->sm.input, r->sm.output, r->sm.n, r->rate};
  int trc =
      i2v_train(o, &i2v_sqlite_alloc, ds->counts, (uint32_t)ds->items.n, &ds->corpus,
                o->update ? &start : NULL, i2v_poller_poll, &r->poll, &r->tr, err, sizeof(err));
  i2v_stored_model_free(&r->sm);
  if ((rc = i2v_driver_core_rc(trc, fname, err, pzErr)) != SQLITE_OK) return rc;
  double tp = i2v_now();
  if (i2v_pairs_build(&ds->corpus, (uint32_t)ds->items.n, o->window, I2V_RANK_BACKWARD,
                      I2V_RANK_PAIRS_CAP, &i2v_sqlite_alloc, &r->pairs) != I2V_OK)
    return SQLITE_NOMEM;
  r->pairs_s = i2v_now() - tp;
  return SQLITE_OK;
}

/* The summary (without the write time, which the caller adds) as stored in
** item2vec_models.stats; NULL when memory ran out. */
static char *summary(sqlite3 *db, const train_run *r) {
  const i2v_options *o = &r->o;
  const i2v_dataset *ds = &r->ds;
  sqlite3_str *s = sqlite3_str_new(db);
  double train_s = r->t2 - r->t1 - r->pairs_s;
  sqlite3_str_appendall(s, "{\"model\":");
  i2v_json_string(s, i2v_options_model(o));
  sqlite3_str_appendf(s,
                      ",\"items\":%llu,\"sequences\":%llu,\"users\":%llu,\"tokens\":%llu,"
                      "\"rows\":%llu,\"skipped_null_users\":%llu,\"skipped_null_items\":%llu,"
                      "\"dropped_items\":%llu,\"dropped_tokens\":%llu,\"longest_sequence\":%llu,"
                      "\"epochs\":%d,\"vector_size\":%d,\"sg\":%d,\"workers\":%d,"
                      "\"read_seconds\":%.3f,\"train_seconds\":%.3f,\"pairs_seconds\":%.3f,",
                      (unsigned long long)ds->items.n, (unsigned long long)ds->corpus.nseq,
                      (unsigned long long)ds->users, (unsigned long long)ds->corpus.ntokens,
                      (unsigned long long)ds->rows, (unsigned long long)ds->null_users,
                      (unsigned long long)ds->null_items, (unsigned long long)ds->dropped_items,
                      (unsigned long long)ds->dropped_tokens,
                      (unsigned long long)ds->corpus.longest, o->epochs, o->vector_size, o->sg,
                      o->workers, r->t1 - r->t0, train_s, r->pairs_s);
  sqlite3_str_appendf(s, "\"tokens_per_second\":%.0f,\"isa\":\"%s\",",
                      train_s > 0 ? (double)ds->corpus.ntokens * o->epochs / train_s : 0.0,
                      i2v_isa_name(r->tr.isa));
  i2v_driver_losses(s, r->tr.epoch_loss, o->epochs);
  if (o->update)
    sqlite3_str_appendf(s,
                        ",\"update\":{\"stored_items\":%llu,\"seen_items\":%llu,"
                        "\"new_items\":%llu}",
                        (unsigned long long)r->us.stored_items,
                        (unsigned long long)r->us.seen_items, (unsigned long long)r->us.new_items);
  sqlite3_str_appendall(s, "}");
  return sqlite3_str_finish(s);
}

/* Store the model and answer with the summary plus the write time.  The
** answer's buffer is allocated before the write: once the model is
** committed nothing may fail, or the caller would see an error for a model
** that was stored. */
static int store(sqlite3_context *ctx, sqlite3 *db, train_run *r, char **pzErr) {
  const i2v_options *o = &r->o;
  char *params = i2v_driver_params(db, o, r->names, NULL), *stats = summary(db, r), *full = NULL;
  size_t len = stats ? strlen(stats) : 0, cap = len + 96;
  int rc = SQLITE_NOMEM;
  if (params && stats && (full = sqlite3_malloc64(cap)) != NULL) {
    rc = i2v_store_write(db, fname, i2v_options_model(o), &r->ds.items, r->ds.counts, r->tr.input,
                         o->save_context ? r->tr.output : NULL, &r->pairs, o->update, r->tr.stride,
                         r->tr.dim, r->names[0], params, stats, pzErr);
  }
  if (rc == SQLITE_OK) {
    i2v_conn_clear(sqlite3_user_data(ctx));
    double t3 = i2v_now();
    snprintf(full, cap, "%.*s,\"write_seconds\":%.3f,\"seconds\":%.3f}", (int)len - 1, stats,
             t3 - r->t2, t3 - r->t0);
    sqlite3_result_text(ctx, full, -1, sqlite3_free);
    full = NULL;
  }
  sqlite3_free(full);
  sqlite3_free(params);
  sqlite3_free(stats);
  return rc;
}

void i2v_train_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  train_run r;
  char *zErr = NULL;
  memset(&r, 0, sizeof(r));
  int rc = i2v_driver_args(argc, argv, fname, NULL, r.names, &r.o, &zErr);
  /* The model is written in a savepoint at the end: whatever would make that
  ** write fail (a statement that writes calling this, a read-only database,
  ** a lock another connection keeps) is an error now, before reading. */
  if (rc == SQLITE_OK) rc = i2v_store_check_writable(db, fname, &zErr);
  r.t0 = i2v_now();
  if (rc == SQLITE_OK) rc = read_data(db, &r, &zErr);
  if (rc == SQLITE_OK) rc = i2v_driver_check_size(fname, r.ds.items.n, r.o.vector_size, &zErr);
  r.t1 = i2v_now();
  if (rc == SQLITE_OK) rc = train(db, &r, &zErr);
  r.t2 = i2v_now();
  if (rc == SQLITE_OK) rc = store(ctx, db, &r, &zErr);
  if (rc != SQLITE_OK) i2v_driver_error(ctx, fname, rc, zErr);
  run_free(&r);
}
