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
** all valid), then the source is read into sequences (sql/source.c), the
** trainer runs on worker threads while this, the calling thread, polls:
** it steps a prepared "SELECT 1" to learn of sqlite3_interrupt (SQLite 3.40
** has no sqlite3_is_interrupted) and prints progress on stderr when verbose.
** Only then is the model written, in one savepoint (sql/store.c).
** With 'update=1' the stored model is read before the source and training
** continues from its vectors on the merged vocabulary (sql/update.c).
*/
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/rank.h"
#include "core/train.h"
#include "core/vec.h"
#include "sql/source.h"
#include "sql/store.h"
#include "sql/train.h"
#include "sql/update.h"

typedef struct poll_state {
  sqlite3_stmt *ping; /* SELECT 1: fails with SQLITE_INTERRUPT once interrupted */
  int verbose, tty;
  double t0, last_print;
  int last_epoch;
  const char *fname;
} poll_state;

static void fmt_rate(char *buf, size_t n, double r) {
  if (r >= 1e6)
    snprintf(buf, n, "%.2fM", r / 1e6);
  else if (r >= 1e3)
    snprintf(buf, n, "%.1fk", r / 1e3);
  else
    snprintf(buf, n, "%.0f", r);
}

static int train_poll(void *ctx, const i2v_progress *p) {
  poll_state *ps = ctx;
  int rc = sqlite3_step(ps->ping);
  sqlite3_reset(ps->ping);
  if (rc == SQLITE_INTERRUPT) return 1;
  if (!ps->verbose) return 0;
  double now = i2v_now(), el = now - ps->t0;
  int epoch_done = p->epoch_loss && p->done > 0 &&
                   p->done * (uint64_t)p->epochs >= p->total * (uint64_t)(p->epoch + 1);
  if (!epoch_done && now - ps->last_print < (ps->tty ? 0.25 : 2.0)) return 0;
  ps->last_print = now;
  char rate[32];
  double r = el > 0 ? (double)p->done / el : 0;
  fmt_rate(rate, sizeof(rate), r);
  double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 100.0;
  double eta = r > 0 ? (double)(p->total - p->done) / r : 0;
  fprintf(stderr, "%s%s: epoch %d/%d  %5.1f%%  %s items/s  loss %.6g  ETA %.0fs%s",
          ps->tty ? "\r" : "", ps->fname, p->epoch + 1, p->epochs, pct, rate, p->loss, eta,
          (ps->tty && !epoch_done) ? "   " : "\n");
  fflush(stderr);
  return 0;
}

static char *params_json(sqlite3 *db, const i2v_options *o, const char *const names[3]) {
  sqlite3_str *s = sqlite3_str_new(db);
  sqlite3_str_appendchar(s, 1, '{');
  i2v_options_json_members(s, o);
  i2v_source_json_members(s, names);
  sqlite3_str_appendchar(s, 1, '}');
  return sqlite3_str_finish(s);
}

/* Refuse, before allocating it, a model whose training cannot fit: two
** matrices of items x row stride floats (input and output vectors) and a few
** per-item tables, against this machine's memory and, when the application
** set one (PRAGMA hard_heap_limit), what is left under SQLite's heap limit. */
int i2v_train_check_memory(sqlite3 *db, const char *fname, uint64_t items, int dim, char **pzErr) {
  (void)db;
  uint64_t need = items * (2 * (uint64_t)i2v_row_stride(dim) * sizeof(float) + 24);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  uint64_t room = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
  const char *what = "this machine's memory";
  sqlite3_int64 limit = sqlite3_hard_heap_limit64(-1);
  if (limit > 0) {
    uint64_t used = (uint64_t)sqlite3_memory_used();
    uint64_t left = (uint64_t)limit > used ? (uint64_t)limit - used : 0;
    if (room == 0 || left < room) {
      room = left;
      what = "what is left under SQLite's heap limit (PRAGMA hard_heap_limit)";
    }
  }
  if (room == 0 || need <= room) return SQLITE_OK;
  *pzErr = sqlite3_mprintf(
      "%s: training %llu items x vector_size %d needs %.1f MiB, more than %s, "
      "%.1f MiB; lower vector_size, or raise min_count or set max_final_vocab",
      fname, (unsigned long long)items, dim, (double)need / 1048576.0, what,
      (double)room / 1048576.0);
  return SQLITE_TOOBIG;
}

void i2v_train_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_train";
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  i2v_conn *conn = sqlite3_user_data(ctx);
  i2v_options o;
  i2v_dataset ds;
  i2v_trained tr;
  i2v_stored_model sm; /* update=1: the model training continues from */
  i2v_update_stats us;
  float *rate = NULL; /* update=1: learning-rate factor per stored item */
  i2v_pairs pairs;
  poll_state ps;
  char err[1024] = {0};
  char *zErr = NULL, *params = NULL, *stats = NULL;
  const char *names[3];
  int rc = SQLITE_OK;

  memset(&ds, 0, sizeof(ds));
  memset(&tr, 0, sizeof(tr));
  memset(&sm, 0, sizeof(sm));
  memset(&us, 0, sizeof(us));
  memset(&pairs, 0, sizeof(pairs));
  memset(&ps, 0, sizeof(ps));
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  int tty = isatty(2);
  i2v_options_init(&o, (int)(ncpu > 0 ? ncpu : 1), tty);

  if (argc < 3) {
    sqlite3_result_error(ctx,
                         "item2vec_train: expected (source, user_col, item_col, "
                         "'option=value', ...)",
                         -1);
    return;
  }
  rc = i2v_source_args(argv, fname, names, &zErr);
  if (rc != SQLITE_OK) goto done;
  for (int i = 3; i < argc; i++) {
    const char *arg = (const char *)sqlite3_value_text(argv[i]);
    int orc = i2v_options_set(&o, arg, fname, &i2v_sqlite_alloc, err, sizeof(err));
    if (orc != I2V_OK) {
      rc = orc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
      zErr = sqlite3_mprintf("%s", orc == I2V_NOMEM ? "item2vec_train: out of memory" : err);
      goto done;
    }
  }
  if (i2v_options_check(&o, fname, err, sizeof(err)) != I2V_OK) {
    zErr = sqlite3_mprintf("%s", err);
    rc = SQLITE_ERROR;
    goto done;
  }
  /* The model is written in a savepoint at the end: whatever would make that
  ** write fail (a statement that writes calling this, a read-only database,
  ** a lock another connection keeps) is an error now, before reading. */
  if ((rc = i2v_store_check_writable(db, fname, &zErr)) != SQLITE_OK) goto done;

  if ((rc = i2v_update_check(&o, fname, &zErr)) != SQLITE_OK) goto done;
  double t0 = i2v_now();
  if (o.update) {
    /* Stored model and options first, so a mismatch fails before the read;
    ** the source is read with min_count=1 and i2v_update_merge applies it to
    ** new items only (sql/update.c). */
    i2v_options ro;
    rc = i2v_store_read_state(db, fname, i2v_options_model(&o), &sm, &zErr);
    if (rc == SQLITE_OK) rc = i2v_update_options(db, fname, &sm, &o, &zErr);
    if (rc != SQLITE_OK) goto done;
    if (i2v_options_check(&o, fname, err, sizeof(err)) != I2V_OK) {
      zErr = sqlite3_mprintf("%s", err);
      rc = SQLITE_ERROR;
      goto done;
    }
    ro = o; /* shares o's strings; not freed */
    ro.min_count = 1;
    ro.max_final_vocab = 0;
    rc = i2v_source_read(db, fname, names[0], names[1], names[2], &ro, &ds, &zErr);
    if (rc == SQLITE_OK) rc = i2v_update_merge(fname, names[0], &sm, &ds, &o, &us, &rate, &zErr);
  } else {
    rc = i2v_source_read(db, fname, names[0], names[1], names[2], &o, &ds, &zErr);
  }
  if (rc != SQLITE_OK) goto done;
  if ((uint64_t)ds.items.n * i2v_row_stride(o.vector_size) > I2V_MAX_MATRIX_FLOATS) {
    zErr = sqlite3_mprintf(
        "%s: %llu items x vector_size %d is more than this build trains "
        "(%llu floats); lower vector_size or raise min_count",
        fname, (unsigned long long)ds.items.n, o.vector_size,
        (unsigned long long)I2V_MAX_MATRIX_FLOATS);
    rc = SQLITE_TOOBIG;
    goto done;
  }
  if ((rc = i2v_train_check_memory(db, fname, ds.items.n, o.vector_size, &zErr)) != SQLITE_OK)
    goto done;
  double t1 = i2v_now();

  rc = sqlite3_prepare_v2(db, "SELECT 1", -1, &ps.ping, NULL);
  if (rc != SQLITE_OK) {
    zErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errmsg(db));
    goto done;
  }
  ps.verbose = o.verbose;
  ps.tty = tty;
  ps.t0 = t1;
  ps.fname = fname;
  if (o.verbose)
    fprintf(stderr,
            "%s: %llu rows, %llu items, %llu sequences, %llu tokens read in %.2fs; "
            "training with %d worker%s\n",
            fname, (unsigned long long)ds.rows, (unsigned long long)ds.items.n,
            (unsigned long long)ds.corpus.nseq, (unsigned long long)ds.corpus.ntokens, t1 - t0,
            o.workers, o.workers == 1 ? "" : "s");
  if (o.verbose && o.update)
    fprintf(stderr, "%s: continuing model '%s': %llu stored items (%llu in the source), %llu new\n",
            fname, i2v_options_model(&o), (unsigned long long)us.stored_items,
            (unsigned long long)us.seen_items, (unsigned long long)us.new_items);
  /* Epochs not given (and not taken from a stored model): from the data. */
  if (!o.update && !i2v_options_given(&o, "epochs"))
    o.epochs = i2v_auto_epochs(ds.counts, (uint32_t)ds.items.n);
  i2v_start start = {sm.input, sm.output, sm.n, rate};
  int trc = i2v_train(&o, &i2v_sqlite_alloc, ds.counts, (uint32_t)ds.items.n, &ds.corpus,
                      o.update ? &start : NULL, train_poll, &ps, &tr, err, sizeof(err));
  i2v_stored_model_free(&sm);
  if (trc != I2V_OK) {
    if (trc == I2V_CANCELLED) {
      rc = SQLITE_INTERRUPT;
      zErr = sqlite3_mprintf("%s: interrupted", fname);
    } else {
      rc = trc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
      zErr = sqlite3_mprintf("%s: %s", fname, err);
    }
    goto done;
  }
  /* The pair evidence recommend_items blends with the embedding. */
  if (i2v_pairs_build(&ds.corpus, (uint32_t)ds.items.n, o.window, I2V_RANK_BACKWARD,
                      I2V_RANK_PAIRS_CAP, &i2v_sqlite_alloc, &pairs) != I2V_OK) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  double t2 = i2v_now();

  params = params_json(db, &o, names);
  {
    sqlite3_str *s = sqlite3_str_new(db);
    double train_s = t2 - t1;
    sqlite3_str_appendall(s, "{\"model\":");
    i2v_json_string(s, i2v_options_model(&o));
    sqlite3_str_appendf(s,
                        ",\"items\":%llu,\"sequences\":%llu,\"users\":%llu,\"tokens\":%llu,"
                        "\"rows\":%llu,\"skipped_null_users\":%llu,\"skipped_null_items\":%llu,"
                        "\"dropped_items\":%llu,\"dropped_tokens\":%llu,\"longest_sequence\":%llu,"
                        "\"epochs\":%d,\"vector_size\":%d,\"sg\":%d,\"workers\":%d,"
                        "\"read_seconds\":%.3f,\"train_seconds\":%.3f,",
                        (unsigned long long)ds.items.n, (unsigned long long)ds.corpus.nseq,
                        (unsigned long long)ds.users, (unsigned long long)ds.corpus.ntokens,
                        (unsigned long long)ds.rows, (unsigned long long)ds.null_users,
                        (unsigned long long)ds.null_items, (unsigned long long)ds.dropped_items,
                        (unsigned long long)ds.dropped_tokens,
                        (unsigned long long)ds.corpus.longest, o.epochs, o.vector_size, o.sg,
                        o.workers, t1 - t0, train_s);
    sqlite3_str_appendf(s, "\"tokens_per_second\":%.0f,\"isa\":\"%s\",\"loss\":[",
                        train_s > 0 ? (double)ds.corpus.ntokens * o.epochs / train_s : 0.0,
                        i2v_isa_name(tr.isa));
    for (int e = 0; e < o.epochs; e++) {
      char b[40]; /* JSON has no Inf or NaN (training refuses them anyway) */
      sqlite3_str_appendf(s, "%s%s", e ? "," : "",
                          i2v_json_number(b, sizeof(b), "%.6g", tr.epoch_loss[e]));
    }
    sqlite3_str_appendall(s, "]");
    if (o.update)
      sqlite3_str_appendf(s,
                          ",\"update\":{\"stored_items\":%llu,\"seen_items\":%llu,"
                          "\"new_items\":%llu}",
                          (unsigned long long)us.stored_items, (unsigned long long)us.seen_items,
                          (unsigned long long)us.new_items);
    sqlite3_str_appendall(s, "}");
    stats = sqlite3_str_finish(s);
  }
  if (!params || !stats) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  {
    /* The summary adds the write time to what was stored.  Its buffer is
    ** allocated before the write: once the model is committed nothing may
    ** fail, or the caller would see an error for a model that was stored. */
    size_t len = strlen(stats), cap = len + 96;
    char *full = sqlite3_malloc64(cap);
    if (!full) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    rc = i2v_store_write(db, fname, i2v_options_model(&o), &ds.items, ds.counts, tr.input,
                         o.save_context ? tr.output : NULL, &pairs, o.update, tr.stride, tr.dim,
                         names[0], params, stats, &zErr);
    if (rc != SQLITE_OK) {
      sqlite3_free(full);
      goto done;
    }
    i2v_conn_clear(conn);
    double t3 = i2v_now();
    snprintf(full, cap, "%.*s,\"write_seconds\":%.3f,\"seconds\":%.3f}", (int)len - 1, stats,
             t3 - t2, t3 - t0);
    sqlite3_result_text(ctx, full, -1, sqlite3_free);
  }

done:
  if (rc != SQLITE_OK) {
    /* An interrupt stops every phase (reading, training, writing) with
    ** SQLITE_INTERRUPT and one message; a failure whose message could not be
    ** allocated is an out-of-memory failure. */
    if (rc == SQLITE_INTERRUPT) {
      sqlite3_free(zErr);
      zErr = sqlite3_mprintf("%s: interrupted", fname);
    } else if (!zErr) {
      rc = SQLITE_NOMEM;
    }
    if (!zErr) zErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errstr(rc));
    i2v_result_error(ctx, rc, zErr);
    zErr = NULL;
  }
  sqlite3_free(zErr);
  sqlite3_free(params);
  sqlite3_free(stats);
  i2v_pairs_free(&pairs, &i2v_sqlite_alloc);
  sqlite3_finalize(ps.ping);
  i2v_trained_free(&tr, &i2v_sqlite_alloc);
  i2v_stored_model_free(&sm);
  sqlite3_free(rate);
  i2v_dataset_free(&ds);
  i2v_options_free(&o, &i2v_sqlite_alloc);
}
