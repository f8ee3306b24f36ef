/*
** sql/eval.c: the item2vec_evaluate SQL function.
**
** SQL served:
**   SELECT item2vec_evaluate('ratings', 'userId', 'movieId',
**                            'order_by=timestamp', 'holdout=10', 'window=3');
**   -- a grid in one statement; no model is left behind unless model= is given
**   WITH t(w) AS (VALUES (3), (10), (30))
**   SELECT w, json_extract(item2vec_evaluate('ratings', 'userId', 'movieId',
**                'order_by=timestamp', 'window=' || w), '$.hr') FROM t;
** returns JSON:
**   {"users":610,"cases":610,"k":10,"holdout":1,"query":"last","score":"cosine",
**    "hr":0.1,"mrr":0.05,"ndcg":0.06,"coverage":0.2,
**    "cosine":{...},"context":{...},"context_prior":{...},"popularity":{...},
**    "cooccurrence":{...},"items":...,"loss":[...],"seconds":...}
**
** How it works.  The arguments are those of item2vec_train plus the
** evaluation options holdout, k, query and score (core/eval.c); everything
** else is a training option.  The source is read once (every item kept; the
** split applies min_count to the training part), the last holdout items of
** each user are held out (i2v_eval_split_build), the trainer runs on the rest
** while this thread polls for sqlite3_interrupt, and every held-out item is
** predicted from the items before it by five scorers on the same cases: the
** embedding by cosine, by context (input x output vectors, word2vec's
** predict_output_word), by context plus ns_exponent x log(count) (the
** negative-sampling prior put back: an estimate of log P(item | query) up to
** a constant), the most popular items, and co-occurrence counts within
** `window`.  The top-level hr/mrr/ndcg/coverage are those of the scorer
** `score` names.  Only with
** model= is the model trained on the training part stored (as item2vec_train
** stores one); otherwise nothing in the database changes.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/eval.h"
#include "core/json.h"
#include "core/train.h"
#include "core/vec.h"
#include "sql/eval.h"
#include "sql/source.h"
#include "sql/store.h"
#include "sql/train.h"

typedef struct eval_poll_state {
  sqlite3_stmt *ping; /* SELECT 1: fails with SQLITE_INTERRUPT once interrupted */
  int verbose;
  double t0, last_print;
  const char *fname;
} eval_poll_state;

static int interrupted(eval_poll_state *ps) {
  int rc = sqlite3_step(ps->ping);
  sqlite3_reset(ps->ping);
  return rc == SQLITE_INTERRUPT;
}

static int eval_train_poll(void *ctx, const i2v_progress *p) {
  eval_poll_state *ps = ctx;
  if (interrupted(ps)) return 1;
  if (!ps->verbose) return 0;
  double now = i2v_now();
  int epoch_done =
      p->done > 0 && p->done * (uint64_t)p->epochs >= p->total * (uint64_t)(p->epoch + 1);
  if (!epoch_done && now - ps->last_print < 2.0) return 0;
  ps->last_print = now;
  fprintf(stderr, "%s: training epoch %d/%d  %5.1f%%  loss %.6g\n", ps->fname, p->epoch + 1,
          p->epochs, p->total ? 100.0 * (double)p->done / (double)p->total : 100.0, p->loss);
  return 0;
}

static int eval_run_poll(void *ctx, uint64_t done, uint64_t total) {
  eval_poll_state *ps = ctx;
  (void)done;
  (void)total;
  return interrupted(ps);
}

/* The training options as a JSON object (as item2vec_train stores them),
** with the evaluation options after them. */
static char *eval_params_json(sqlite3 *db, const i2v_options *o, const i2v_eval_options *e,
                              const char *const names[3]) {
  sqlite3_str *s = sqlite3_str_new(db);
  char buf[64];
  sqlite3_str_appendchar(s, 1, '{');
  i2v_options_json_members(s, o);
  i2v_source_json_members(s, names);
  sqlite3_str_appendchar(s, 1, ',');
  i2v_eval_query_text(e, buf, sizeof(buf));
  sqlite3_str_appendf(s,
                      "\"holdout\":%d,\"k\":%d,\"query\":\"%s\",\"min_frequency\":%lld,"
                      "\"score\":\"%s\"}",
                      e->holdout, e->k, buf, (long long)e->min_frequency,
                      e->score == I2V_SCORE_CONTEXT         ? "context"
                      : e->score == I2V_SCORE_CONTEXT_PRIOR ? "context_prior"
                      : e->score == I2V_SCORE_HYBRID        ? "hybrid"
                                                            : "cosine");
  return sqlite3_str_finish(s);
}

static void append_metrics(sqlite3_str *s, const i2v_eval_metrics *m) {
  char b[4][40];
  sqlite3_str_appendf(s, "\"hr\":%s,\"mrr\":%s,\"ndcg\":%s,\"coverage\":%s",
                      i2v_json_number(b[0], sizeof(b[0]), "%.6f", m->hr),
                      i2v_json_number(b[1], sizeof(b[1]), "%.6f", m->mrr),
                      i2v_json_number(b[2], sizeof(b[2]), "%.6f", m->ndcg),
                      i2v_json_number(b[3], sizeof(b[3]), "%.6f", m->coverage));
}

/* Is name (up to '=') a training option?  For the unknown-option message. */
static int is_training_option(const char *arg) {
  const char *eq = strchr(arg, '=');
  if (!eq) return 1; /* let the training parser explain the form */
  const char *name = arg;
  size_t n = (size_t)(eq - arg);
  while (n && (*name == ' ' || *name == '\t')) name++, n--;
  while (n && (name[n - 1] == ' ' || name[n - 1] == '\t')) n--;
  return i2v_options_find(name, n) >= 0;
}

enum { M_HYBRID, M_COSINE, M_CONTEXT, M_PRIOR, M_POPULARITY, M_COOC, M_COUNT };
static const char *const method_names[M_COUNT] = {"hybrid",        "cosine",     "context",
                                                  "context_prior", "popularity", "cooccurrence"};

void i2v_evaluate_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  static const char fname[] = "item2vec_evaluate";
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  i2v_conn *conn = sqlite3_user_data(ctx);
  i2v_options o, read_opts;
  i2v_eval_options e;
  i2v_dataset ds;
  i2v_eval_split sp;
  i2v_trained tr;
  i2v_eval_cooc cooc;
  i2v_eval_embedding emb[3];
  i2v_eval_hybrid hybrid;
  float *prior = NULL;
  i2v_eval_metrics metrics[M_COUNT];
  i2v_vocab train_items;
  eval_poll_state ps;
  char err[1024] = {0};
  char *zErr = NULL, *params = NULL, *result = NULL;
  const char *names[3];
  int rc = SQLITE_OK, erc;

  memset(&ds, 0, sizeof(ds));
  memset(&sp, 0, sizeof(sp));
  memset(&tr, 0, sizeof(tr));
  memset(&cooc, 0, sizeof(cooc));
  memset(emb, 0, sizeof(emb));
  memset(&hybrid, 0, sizeof(hybrid));
  memset(metrics, 0, sizeof(metrics));
  memset(&ps, 0, sizeof(ps));
  i2v_vocab_init(&train_items, &i2v_sqlite_alloc);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  i2v_options_init(&o, (int)(ncpu > 0 ? ncpu : 1), isatty(2));
  i2v_eval_options_init(&e);

  if (argc < 3) {
    sqlite3_result_error(ctx,
                         "item2vec_evaluate: expected (source, user_col, item_col, "
                         "'option=value', ...)",
                         -1);
    return;
  }
  rc = i2v_source_args(argv, fname, names, &zErr);
  if (rc != SQLITE_OK) goto done;
  for (int i = 3; i < argc; i++) {
    const char *arg = (const char *)sqlite3_value_text(argv[i]);
    if (arg && (erc = i2v_eval_option(&e, arg, fname, err, sizeof(err))) >= 0) {
      if (erc != I2V_OK) {
        zErr = sqlite3_mprintf("%s", err);
        rc = SQLITE_ERROR;
        goto done;
      }
      continue;
    }
    if (arg && !is_training_option(arg)) {
      static const char *const eval_names[] = {"holdout",       "k", "query", "score",
                                               "min_frequency", NULL};
      const char *eq = strchr(arg, '=');
      char hint[192];
      sqlite3_str *s = sqlite3_str_new(db);
      for (int j = 0; j < i2v_options_count(); j++)
        sqlite3_str_appendf(s, "%s%s", j ? ", " : "", i2v_options_name(j));
      char *list = sqlite3_str_finish(s);
      i2v_options_hint(arg, (size_t)(eq - arg), eval_names, hint, sizeof(hint));
      zErr = sqlite3_mprintf(
          "%s: unknown option '%.*s'; %sevaluation options are %s; training options "
          "are %s",
          fname, (int)(eq - arg), arg, hint, i2v_eval_option_names(), list ? list : "?");
      sqlite3_free(list);
      rc = SQLITE_ERROR;
      goto done;
    }
    erc = i2v_options_set(&o, arg, fname, &i2v_sqlite_alloc, err, sizeof(err));
    if (erc != I2V_OK) {
      rc = erc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
      zErr = sqlite3_mprintf("%s", erc == I2V_NOMEM ? "item2vec_evaluate: out of memory" : err);
      goto done;
    }
  }
  if (i2v_options_check(&o, fname, err, sizeof(err)) != I2V_OK) {
    zErr = sqlite3_mprintf("%s", err);
    rc = SQLITE_ERROR;
    goto done;
  }
  if (o.update) {
    zErr = sqlite3_mprintf(
        "%s: update=1 is not supported: the evaluation trains a "
        "fresh model on the training part of the source",
        fname);
    rc = SQLITE_ERROR;
    goto done;
  }
  /* With model= the model is stored at the end, as item2vec_train stores
  ** one: what would make that fail is an error now, before reading. */
  if (o.model && (rc = i2v_store_check_writable(db, fname, &zErr)) != SQLITE_OK) goto done;

  /* Read every item: min_count and max_final_vocab apply to the training
  ** part only, so held-out rows do not decide what training sees. */
  double t0 = i2v_now();
  read_opts = o;
  read_opts.min_count = 1;
  read_opts.max_final_vocab = 0;
  rc = i2v_source_read(db, fname, names[0], names[1], names[2], &read_opts, &ds, &zErr);
  if (rc != SQLITE_OK) goto done;
  erc = i2v_eval_split_build(&ds.corpus, (uint32_t)ds.items.n, e.holdout, o.min_count,
                             o.max_final_vocab, &i2v_sqlite_alloc, &sp, fname, err, sizeof(err));
  if (erc != I2V_OK) {
    rc = erc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    zErr = sqlite3_mprintf("%s", err);
    goto done;
  }
  /* Epochs not given: enough for the training part (core/rank.h). */
  if (!i2v_options_given(&o, "epochs")) o.epochs = i2v_auto_epochs(sp.counts, sp.nvocab);
  if ((uint64_t)sp.nvocab * i2v_row_stride(o.vector_size) > I2V_MAX_MATRIX_FLOATS) {
    zErr = sqlite3_mprintf(
        "%s: %u items x vector_size %d is more than this build "
        "trains; lower vector_size or raise min_count",
        fname, sp.nvocab, o.vector_size);
    rc = SQLITE_TOOBIG;
    goto done;
  }
  if ((rc = i2v_train_check_memory(db, fname, sp.nvocab, o.vector_size, &zErr)) != SQLITE_OK)
    goto done;

  rc = sqlite3_prepare_v2(db, "SELECT 1", -1, &ps.ping, NULL);
  if (rc != SQLITE_OK) {
    zErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errmsg(db));
    goto done;
  }
  ps.verbose = o.verbose;
  ps.fname = fname;
  double t1 = i2v_now();
  ps.t0 = t1;
  if (o.verbose)
    fprintf(stderr,
            "%s: %llu users (%llu evaluated, %llu cases), %u training items, %llu "
            "training tokens\n",
            fname, (unsigned long long)ds.corpus.nseq, (unsigned long long)sp.nusers,
            (unsigned long long)sp.ncases, sp.nvocab, (unsigned long long)sp.train.ntokens);
  erc = i2v_train(&o, &i2v_sqlite_alloc, sp.counts, sp.nvocab, &sp.train, NULL, eval_train_poll,
                  &ps, &tr, err, sizeof(err));
  if (erc != I2V_OK) {
    if (erc == I2V_CANCELLED) {
      rc = SQLITE_INTERRUPT;
      zErr = sqlite3_mprintf("%s: interrupted", fname);
    } else {
      rc = erc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
      zErr = sqlite3_mprintf("%s: %s", fname, err);
    }
    goto done;
  }
  double t2 = i2v_now();

  /* Four scorers on the same cases. */
  if (i2v_eval_embedding_init(&emb[0], tr.input, tr.output, tr.stride, tr.dim, tr.nvocab,
                              I2V_SCORE_COSINE, &i2v_sqlite_alloc) != I2V_OK ||
      i2v_eval_embedding_init(&emb[1], tr.input, tr.output, tr.stride, tr.dim, tr.nvocab,
                              I2V_SCORE_CONTEXT, &i2v_sqlite_alloc) != I2V_OK ||
      i2v_eval_embedding_init(&emb[2], tr.input, tr.output, tr.stride, tr.dim, tr.nvocab,
                              I2V_SCORE_CONTEXT, &i2v_sqlite_alloc) != I2V_OK ||
      !(prior = sqlite3_malloc64((size_t)(sp.nvocab ? sp.nvocab : 1) * sizeof(float))) ||
      i2v_eval_cooc_init(&cooc, &sp, o.window, &i2v_sqlite_alloc) != I2V_OK ||
      i2v_eval_hybrid_init(&hybrid, &sp, tr.input, tr.output, tr.stride, tr.dim, o.window,
                           &i2v_sqlite_alloc) != I2V_OK) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  for (uint32_t i = 0; i < sp.nvocab; i++)
    prior[i] = (float)(o.ns_exponent * log((double)sp.counts[i]));
  emb[2].prior = prior;
  {
    i2v_eval_scorer fns[M_COUNT] = {i2v_eval_score_hybrid,     i2v_eval_score_embedding,
                                    i2v_eval_score_embedding,  i2v_eval_score_embedding,
                                    i2v_eval_score_popularity, i2v_eval_score_cooc};
    void *ctxs[M_COUNT] = {&hybrid, &emb[0], &emb[1], &emb[2], &sp, &cooc};
    for (int m = 0; m < M_COUNT; m++) {
      erc = i2v_eval_run(&sp, &e, fns[m], ctxs[m], eval_run_poll, &ps, &i2v_sqlite_alloc,
                         &metrics[m]);
      if (erc == I2V_CANCELLED) {
        rc = SQLITE_INTERRUPT;
        zErr = sqlite3_mprintf("%s: interrupted", fname);
        goto done;
      }
      if (erc != I2V_OK) {
        rc = SQLITE_NOMEM;
        goto done;
      }
      if (o.verbose)
        fprintf(stderr, "%s: %-12s hr@%d %.4f  mrr %.4f  ndcg %.4f  coverage %.4f\n", fname,
                method_names[m], e.k, metrics[m].hr, metrics[m].mrr, metrics[m].ndcg,
                metrics[m].coverage);
    }
  }
  double t3 = i2v_now();

  {
    const i2v_eval_metrics *chosen = &metrics[e.score == I2V_SCORE_CONTEXT         ? M_CONTEXT
                                              : e.score == I2V_SCORE_CONTEXT_PRIOR ? M_PRIOR
                                              : e.score == I2V_SCORE_HYBRID        ? M_HYBRID
                                                                                   : M_COSINE];
    char qtext[32];
    i2v_eval_query_text(&e, qtext, sizeof(qtext));
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendf(s,
                        "{\"users\":%llu,\"cases\":%llu,\"k\":%d,\"holdout\":%d,"
                        "\"query\":\"%s\",\"score\":\"%s\",\"min_frequency\":%lld,",
                        (unsigned long long)sp.nusers, (unsigned long long)sp.ncases, e.k,
                        e.holdout, qtext, method_names[chosen - metrics],
                        (long long)e.min_frequency);
    append_metrics(s, chosen);
    for (int m = 0; m < M_COUNT; m++) {
      sqlite3_str_appendf(s, ",\"%s\":{", method_names[m]);
      append_metrics(s, &metrics[m]);
      sqlite3_str_appendchar(s, 1, '}');
    }
    sqlite3_str_appendf(s,
                        ",\"items\":%u,\"catalogue\":%llu,\"unknown_targets\":%llu,"
                        "\"train_sequences\":%llu,\"train_tokens\":%llu,\"epochs\":%d,"
                        "\"vector_size\":%d,\"window\":%d,\"sg\":%d,\"workers\":%d,\"loss\":[",
                        sp.nvocab, (unsigned long long)ds.items.n,
                        (unsigned long long)sp.unknown_targets, (unsigned long long)sp.train.nseq,
                        (unsigned long long)sp.train.ntokens, o.epochs, o.vector_size, o.window,
                        o.sg, o.workers);
    for (int ep = 0; ep < o.epochs; ep++) {
      char b[40];
      sqlite3_str_appendf(s, "%s%s", ep ? "," : "",
                          i2v_json_number(b, sizeof(b), "%.6g", tr.epoch_loss[ep]));
    }
    sqlite3_str_appendf(s,
                        "],\"read_seconds\":%.3f,\"train_seconds\":%.3f,"
                        "\"eval_seconds\":%.3f,\"model\":",
                        t1 - t0, t2 - t1, t3 - t2);
    if (o.model)
      i2v_json_string(s, o.model);
    else
      sqlite3_str_appendall(s, "null");
    result = sqlite3_str_finish(s);
    if (!result) {
      rc = SQLITE_NOMEM;
      goto done;
    }
  }

  if (o.model) {
    /* Store the model trained on the training part, with training counts. */
    params = eval_params_json(db, &o, &e, names);
    if (!params || i2v_vocab_select(&ds.items, sp.item_of, sp.nvocab, &train_items) != I2V_OK) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    for (uint32_t i = 0; i < sp.nvocab; i++) train_items.entries[i].count = sp.counts[i];
    char *stats = sqlite3_mprintf("%s}", result);
    if (!stats) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    rc = i2v_store_write(db, fname, o.model, &train_items, sp.counts, tr.input,
                         o.save_context ? tr.output : NULL, &hybrid.pairs, 0, tr.stride, tr.dim,
                         names[0], params, stats, &zErr);
    sqlite3_free(stats);
    if (rc != SQLITE_OK) goto done;
    i2v_conn_clear(conn);
  }
  {
    char *full = sqlite3_mprintf("%s,\"seconds\":%.3f}", result, i2v_now() - t0);
    if (!full) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    sqlite3_result_text(ctx, full, -1, sqlite3_free);
  }

done:
  if (rc != SQLITE_OK) {
    if (!zErr)
      zErr = sqlite3_mprintf("%s: %s", fname,
                             rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errstr(rc));
    i2v_result_error(ctx, rc, zErr);
    zErr = NULL;
  }
  sqlite3_free(zErr);
  sqlite3_free(params);
  sqlite3_free(result);
  sqlite3_finalize(ps.ping);
  i2v_vocab_free(&train_items);
  i2v_eval_embedding_free(&emb[0]);
  i2v_eval_embedding_free(&emb[1]);
  i2v_eval_embedding_free(&emb[2]);
  i2v_eval_hybrid_free(&hybrid);
  sqlite3_free(prior);
  i2v_eval_cooc_free(&cooc);
  i2v_trained_free(&tr, &i2v_sqlite_alloc);
  i2v_eval_split_free(&sp, &i2v_sqlite_alloc);
  i2v_dataset_free(&ds);
  i2v_options_free(&o, &i2v_sqlite_alloc);
}
