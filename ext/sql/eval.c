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
**   {"users":610,"cases":610,"k":10,"holdout":1,"query":"recommend",
**    "score":"hybrid","min_frequency":2,"hr":0.1,"mrr":0.05,"ndcg":0.06,
**    "coverage":0.2,"hybrid":{...},"cosine":{...},"context":{...},
**    "context_prior":{...},"popularity":{...},"cooccurrence":{...},
**    "items":...,"loss":[...],"seconds":...}
**
** How it works.  The arguments are those of item2vec_train plus the
** evaluation options holdout, k, query, score and min_frequency
** (core/eval.c); everything else is a training option.  The source is read
** once (every item kept; the split applies min_count to the training part),
** the last holdout items of each user are held out (i2v_eval_split_build),
** the trainer runs on the rest while this thread polls for
** sqlite3_interrupt (i2v_poller, sql/driver.c, as item2vec_train does), and
** every held-out item is predicted from the items
** before it by six scorers on the same cases: recommend_items' ranking
** (hybrid, core/rank.h), the embedding by cosine, by context (input x output
** vectors, word2vec's predict_output_word), by context plus ns_exponent x
** log(count) (the negative-sampling prior put back: an estimate of
** log P(item | query) up to a constant), the most popular items, and
** co-occurrence counts within `window`.  The top-level hr/mrr/ndcg/coverage
** are those of the scorer `score` names.  Only with model= is the model
** trained on the training part stored (as item2vec_train stores one);
** otherwise nothing in the database changes.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/eval.h"
#include "core/json.h"
#include "core/train.h"
#include "core/vec.h"
#include "sql/driver.h"
#include "sql/eval.h"
#include "sql/source.h"
#include "sql/store.h"

static const char fname[] = "item2vec_evaluate";

enum { M_HYBRID, M_COSINE, M_CONTEXT, M_PRIOR, M_POPULARITY, M_COOC, M_COUNT };
static const char *const method_names[M_COUNT] = {"hybrid",        "cosine",     "context",
                                                  "context_prior", "popularity", "cooccurrence"};

/* One call's state, freed by run_free whatever happened. */
typedef struct eval_run {
  i2v_options o;
  i2v_eval_options e;
  const char *names[3]; /* source, user_col, item_col */
  i2v_dataset ds;
  i2v_eval_split sp;
  i2v_trained tr;
  i2v_eval_cooc cooc;
  i2v_eval_embedding emb[3]; /* cosine, context, context_prior */
  i2v_eval_hybrid hybrid;
  float *prior;
  i2v_eval_metrics metrics[M_COUNT];
  i2v_poller poll;
  char *result;          /* the answer so far, without its closing brace */
  double t0, t1, t2, t3; /* start, read, trained, scored */
} eval_run;

static void run_free(eval_run *r) {
  sqlite3_free(r->result);
  i2v_poller_close(&r->poll);
  for (int i = 0; i < 3; i++) i2v_eval_embedding_free(&r->emb[i]);
  i2v_eval_hybrid_free(&r->hybrid);
  sqlite3_free(r->prior);
  i2v_eval_cooc_free(&r->cooc);
  i2v_trained_free(&r->tr, &i2v_sqlite_alloc);
  i2v_eval_split_free(&r->sp, &i2v_sqlite_alloc);
  i2v_dataset_free(&r->ds);
  i2v_options_free(&r->o, &i2v_sqlite_alloc);
}

static int set_eval_option(void *ctx, const char *arg, const char *fn, char *err, size_t errlen) {
  return i2v_eval_option(ctx, arg, fn, err, errlen);
}

static const char *score_name(int score) {
  return score == I2V_SCORE_CONTEXT         ? "context"
         : score == I2V_SCORE_CONTEXT_PRIOR ? "context_prior"
         : score == I2V_SCORE_HYBRID        ? "hybrid"
                                            : "cosine";
}

/* The arguments, and the checks before anything is read. */
static int read_args(sqlite3 *db, eval_run *r, int argc, sqlite3_value **argv, char **pzErr) {
  i2v_eval_options_init(&r->e);
  static const char *const names[] = {"holdout", "k", "query", "score", "min_frequency", NULL};
  i2v_extra_options extra = {"evaluation", i2v_eval_option_names(), names, set_eval_option, &r->e};
  int rc = i2v_driver_args(argc, argv, fname, &extra, r->names, &r->o, pzErr);
  if (rc != SQLITE_OK) return rc;
  if (r->o.update) {
    *pzErr = sqlite3_mprintf(
        "%s: update=1 is not supported: the evaluation trains a "
        "fresh model on the training part of the source",
        fname);
    return SQLITE_ERROR;
  }
  /* With model= the model is stored at the end, as item2vec_train stores
  ** one: what would make that fail is an error now, before reading. */
  return r->o.model ? i2v_store_check_writable(db, fname, pzErr) : SQLITE_OK;
}

/* Read every item: min_count and max_final_vocab apply to the training
** part only, so held-out rows do not decide what training sees. */
static int read_split(sqlite3 *db, eval_run *r, char **pzErr) {
  char err[1024] = {0};
  i2v_options read_opts = r->o; /* shares o's strings; not freed */
  read_opts.min_count = 1;
  read_opts.max_final_vocab = 0;
  int rc =
      i2v_source_read(db, fname, r->names[0], r->names[1], r->names[2], &read_opts, &r->ds, pzErr);
  if (rc != SQLITE_OK) return rc;
  int erc = i2v_eval_split_build(&r->ds.corpus, (uint32_t)r->ds.items.n, r->e.holdout,
                                 r->o.min_count, r->o.max_final_vocab, &i2v_sqlite_alloc, &r->sp,
                                 fname, err, sizeof(err));
  if (erc != I2V_OK) {
    *pzErr = sqlite3_mprintf("%s", err);
    return erc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
  }
  /* Epochs not given: enough for the training part (core/rank.h). */
  if (!i2v_options_given(&r->o, "epochs"))
    r->o.epochs = i2v_auto_epochs(r->sp.counts, r->sp.nvocab);
  return i2v_driver_check_size(fname, r->sp.nvocab, r->o.vector_size, pzErr);
}

/* Train on the training part while the poller watches. */
static int train(sqlite3 *db, eval_run *r, char **pzErr) {
  const i2v_eval_split *sp = &r->sp;
  char err[1024] = {0};
  int rc = i2v_poller_open(&r->poll, db, fname, "items", r->o.verbose, pzErr);
  if (rc != SQLITE_OK) return rc;
  if (r->o.verbose)
    fprintf(stderr,
            "%s: %llu users (%llu evaluated, %llu cases), %u training items, %llu "
            "training tokens\n",
            fname, (unsigned long long)r->ds.corpus.nseq, (unsigned long long)sp->nusers,
            (unsigned long long)sp->ncases, sp->nvocab, (unsigned long long)sp->train.ntokens);
  int erc = i2v_train(&r->o, &i2v_sqlite_alloc, sp->counts, sp->nvocab, &sp->train, NULL,
                      i2v_poller_poll, &r->poll, &r->tr, err, sizeof(err));
  return i2v_driver_core_rc(erc, fname, err, pzErr);
}

/* Every scorer on the same cases.  The poller only watches for an interrupt
** now: each scorer prints its own line when verbose. */
static int score(eval_run *r) {
  const i2v_trained *tr = &r->tr;
  const i2v_eval_split *sp = &r->sp;
  if (i2v_eval_embedding_init(&r->emb[0], tr->input, tr->output, tr->stride, tr->dim, tr->nvocab,
                              I2V_SCORE_COSINE, &i2v_sqlite_alloc) != I2V_OK ||
      i2v_eval_embedding_init(&r->emb[1], tr->input, tr->output, tr->stride, tr->dim, tr->nvocab,
                              I2V_SCORE_CONTEXT, &i2v_sqlite_alloc) != I2V_OK ||
      i2v_eval_embedding_init(&r->emb[2], tr->input, tr->output, tr->stride, tr->dim, tr->nvocab,
                              I2V_SCORE_CONTEXT, &i2v_sqlite_alloc) != I2V_OK ||
      !(r->prior = sqlite3_malloc64((size_t)(sp->nvocab ? sp->nvocab : 1) * sizeof(float))) ||
      i2v_eval_cooc_init(&r->cooc, sp, r->o.window, &i2v_sqlite_alloc) != I2V_OK ||
      i2v_eval_hybrid_init(&r->hybrid, sp, tr->input, tr->output, tr->stride, tr->dim, r->o.window,
                           &i2v_sqlite_alloc) != I2V_OK)
    return SQLITE_NOMEM;
  for (uint32_t i = 0; i < sp->nvocab; i++)
    r->prior[i] = (float)(r->o.ns_exponent * log((double)sp->counts[i]));
  r->emb[2].prior = r->prior;
  i2v_eval_scorer fns[M_COUNT] = {i2v_eval_score_hybrid,     i2v_eval_score_embedding,
                                  i2v_eval_score_embedding,  i2v_eval_score_embedding,
                                  i2v_eval_score_popularity, i2v_eval_score_cooc};
  void *ctxs[M_COUNT] = {&r->hybrid, &r->emb[0], &r->emb[1], &r->emb[2], (void *)sp, &r->cooc};
  r->poll.verbose = 0;
  for (int m = 0; m < M_COUNT; m++) {
    i2v_eval_metrics *mt = &r->metrics[m];
    int erc =
        i2v_eval_run(sp, &r->e, fns[m], ctxs[m], i2v_poller_poll, &r->poll, &i2v_sqlite_alloc, mt);
    if (erc == I2V_CANCELLED) return SQLITE_INTERRUPT;
    if (erc != I2V_OK) return SQLITE_NOMEM;
    if (r->o.verbose)
      fprintf(stderr, "%s: %-12s hr@%d %.4f  mrr %.4f  ndcg %.4f  coverage %.4f\n", fname,
              method_names[m], r->e.k, mt->hr, mt->mrr, mt->ndcg, mt->coverage);
  }
  return SQLITE_OK;
}

static void append_metrics(sqlite3_str *s, const i2v_eval_metrics *m) {
  char b[4][40];
  sqlite3_str_appendf(s, "\"hr\":%s,\"mrr\":%s,\"ndcg\":%s,\"coverage\":%s",
                      i2v_json_number(b[0], sizeof(b[0]), "%.6f", m->hr),
                      i2v_json_number(b[1], sizeof(b[1]), "%.6f", m->mrr),
                      i2v_json_number(b[2], sizeof(b[2]), "%.6f", m->ndcg),
                      i2v_json_number(b[3], sizeof(b[3]), "%.6f", m->coverage));
}

/* The answer, up to "model" (the caller closes it), into r->result. */
static int summary(sqlite3 *db, eval_run *r) {
  const i2v_eval_split *sp = &r->sp;
  const i2v_options *o = &r->o;
  const i2v_eval_options *e = &r->e;
  int chosen = e->score == I2V_SCORE_CONTEXT         ? M_CONTEXT
               : e->score == I2V_SCORE_CONTEXT_PRIOR ? M_PRIOR
               : e->score == I2V_SCORE_HYBRID        ? M_HYBRID
                                                     : M_COSINE;
  char qtext[32];
  i2v_eval_query_text(e, qtext, sizeof(qtext));
  sqlite3_str *s = sqlite3_str_new(db);
  sqlite3_str_appendf(s,
                      "{\"users\":%llu,\"cases\":%llu,\"k\":%d,\"holdout\":%d,"
                      "\"query\":\"%s\",\"score\":\"%s\",\"min_frequency\":%lld,",
                      (unsigned long long)sp->nusers, (unsigned long long)sp->ncases, e->k,
                      e->holdout, qtext, method_names[chosen], (long long)e->min_frequency);
  append_metrics(s, &r->metrics[chosen]);
  for (int m = 0; m < M_COUNT; m++) {
    sqlite3_str_appendf(s, ",\"%s\":{", method_names[m]);
    append_metrics(s, &r->metrics[m]);
    sqlite3_str_appendchar(s, 1, '}');
  }
  sqlite3_str_appendf(s,
                      ",\"items\":%u,\"catalogue\":%llu,\"unknown_targets\":%llu,"
                      "\"train_sequences\":%llu,\"train_tokens\":%llu,\"epochs\":%d,"
                      "\"vector_size\":%d,\"window\":%d,\"sg\":%d,\"workers\":%d,",
                      sp->nvocab, (unsigned long long)r->ds.items.n,
                      (unsigned long long)sp->unknown_targets, (unsigned long long)sp->train.nseq,
                      (unsigned long long)sp->train.ntokens, o->epochs, o->vector_size, o->window,
                      o->sg, o->workers);
  i2v_driver_losses(s, r->tr.epoch_loss, o->epochs);
  sqlite3_str_appendf(s,
                      ",\"read_seconds\":%.3f,\"train_seconds\":%.3f,"
                      "\"eval_seconds\":%.3f,\"model\":",
                      r->t1 - r->t0, r->t2 - r->t1, r->t3 - r->t2);
  if (o->model)
    i2v_json_string(s, o->model);
  else
    sqlite3_str_appendall(s, "null");
  r->result = sqlite3_str_finish(s);
  return r->result ? SQLITE_OK : SQLITE_NOMEM;
}

/* With model=: store the model trained on the training part, with the
** training counts, as item2vec_train stores one; params are the training
** options with the evaluation options after them. */
static int store(sqlite3_context *ctx, sqlite3 *db, eval_run *r, char **pzErr) {
  const i2v_eval_split *sp = &r->sp;
  const i2v_eval_options *e = &r->e;
  i2v_vocab train_items;
  char qtext[64];
  i2v_vocab_init(&train_items, &i2v_sqlite_alloc);
  i2v_eval_query_text(e, qtext, sizeof(qtext));
  char *more = sqlite3_mprintf(
      ",\"holdout\":%d,\"k\":%d,\"query\":\"%s\",\"min_frequency\":%lld,\"score\":\"%s\"",
      e->holdout, e->k, qtext, (long long)e->min_frequency, score_name(e->score));
  char *params = more ? i2v_driver_params(db, &r->o, r->names, more) : NULL;
  char *stats = sqlite3_mprintf("%s}", r->result);
  sqlite3_free(more);
  int rc = SQLITE_NOMEM;
  if (params && stats &&
      i2v_vocab_select(&r->ds.items, sp->item_of, sp->nvocab, &train_items) == I2V_OK) {
    for (uint32_t i = 0; i < sp->nvocab; i++) train_items.entries[i].count = sp->counts[i];
    rc = i2v_store_write(db, fname, r->o.model, &train_items, sp->counts, r->tr.input,
                         r->o.save_context ? r->tr.output : NULL, &r->hybrid.pairs, 0, r->tr.stride,
                         r->tr.dim, r->names[0], params, stats, pzErr);
  }
  if (rc == SQLITE_OK) i2v_conn_clear(sqlite3_user_data(ctx));
  i2v_vocab_free(&train_items);
  sqlite3_free(params);
  sqlite3_free(stats);
  return rc;
}

void i2v_evaluate_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  eval_run r;
  char *zErr = NULL;
  memset(&r, 0, sizeof(r));
  int rc = read_args(db, &r, argc, argv, &zErr);
  r.t0 = i2v_now();
  if (rc == SQLITE_OK) rc = read_split(db, &r, &zErr);
  r.t1 = i2v_now();
  if (rc == SQLITE_OK) rc = train(db, &r, &zErr);
  r.t2 = i2v_now();
  if (rc == SQLITE_OK) rc = score(&r);
  r.t3 = i2v_now();
  if (rc == SQLITE_OK) rc = summary(db, &r);
  if (rc == SQLITE_OK && r.o.model) rc = store(ctx, db, &r, &zErr);
  if (rc == SQLITE_OK) {
    char *full = sqlite3_mprintf("%s,\"seconds\":%.3f}", r.result, i2v_now() - r.t0);
    if (full)
      sqlite3_result_text(ctx, full, -1, sqlite3_free);
    else
      rc = SQLITE_NOMEM;
  }
  if (rc != SQLITE_OK) i2v_driver_error(ctx, fname, rc, zErr);
  run_free(&r);
}
