/*
** test_eval.c: unit tests of the evaluation core (core/eval.c) and the PCA
** (core/pca.c), linked without SQLite.  Prints "ok - name" / "not ok - name:
** why" lines for tests/run.sh.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/eval.h"
#include "core/pca.h"
#include "core/rank.h"

static int failures;

#define CHECK(name, cond, ...)                        \
  do {                                                \
    if (cond) {                                       \
      printf("ok - eval/%s\n", name);                 \
    } else {                                          \
      failures++;                                     \
      printf("not ok - eval/%s: ", name);             \
      printf(__VA_ARGS__);                            \
      printf("\n");                                   \
    }                                                 \
  } while (0)

static const i2v_alloc *A = &i2v_libc_alloc;

/* Three users over items 0..5 (full indices). */
static uint32_t toks[] = {0, 1, 2, 3, /* user 0 */
                                1, 2, 3,    /* user 1 */
                                4, 5};      /* user 2: only 2 items */
static uint64_t starts[] = {0, 4, 7, 9};

static void test_split(void) {
  i2v_corpus all = {.tokens = toks, .starts = starts, .nseq = 3, .ntokens = 9};
  i2v_eval_split sp;
  char err[256];
  int rc = i2v_eval_split_build(&all, 6, 1, 1, 0, A, &sp, "t", err, sizeof(err));
  CHECK("split builds", rc == I2V_OK, "rc %d: %s", rc, err);
  if (rc != I2V_OK) return;
  /* Training: 0 1 2 | 1 2 | 4 (user 2 has 2 items: 1 held out, 1 left). */
  CHECK("split users and cases", sp.nusers == 3 && sp.ncases == 3, "%llu users %llu cases",
        (unsigned long long)sp.nusers, (unsigned long long)sp.ncases);
  CHECK("split keeps sequences of two or more", sp.train.nseq == 2 && sp.train.ntokens == 5,
        "%llu seqs %llu tokens", (unsigned long long)sp.train.nseq, (unsigned long long)sp.train.ntokens);
  /* Vocabulary: 1 and 2 twice, 0 and 4 once; 3 and 5 only held out. */
  CHECK("split vocabulary by training count", sp.nvocab == 4 && sp.item_of[0] == 1 &&
        sp.item_of[1] == 2 && sp.item_of[2] == 0 && sp.item_of[3] == 4 &&
        sp.counts[0] == 2 && sp.counts[3] == 1,
        "nvocab %u first %u", sp.nvocab, sp.item_of[0]);
  CHECK("split marks held-out-only items", sp.train_of[3] == I2V_EVAL_NONE &&
        sp.train_of[5] == I2V_EVAL_NONE && sp.unknown_targets == 3,
        "unknown %llu", (unsigned long long)sp.unknown_targets);
  i2v_eval_split_free(&sp, A);

  rc = i2v_eval_split_build(&all, 6, 1, 2, 0, A, &sp, "t", err, sizeof(err));
  CHECK("split min_count on training counts", rc == I2V_OK && sp.nvocab == 2 && sp.train.nseq == 2,
        "rc %d nvocab %u", rc, sp.nvocab);
  i2v_eval_split_free(&sp, A);

  rc = i2v_eval_split_build(&all, 6, 4, 1, 0, A, &sp, "fn", err, sizeof(err));
  CHECK("split error: nobody has more than holdout items",
        rc == I2V_ERROR && strncmp(err, "fn: no user has more than 4 items", 33) == 0, "%s", err);
  /* Two users of two items: holding one out leaves single items. */
  static uint64_t two_starts[] = {0, 2, 4};
  i2v_corpus pairs = {.tokens = toks, .starts = two_starts, .nseq = 2, .ntokens = 4};
  rc = i2v_eval_split_build(&pairs, 6, 1, 1, 0, A, &sp, "fn", err, sizeof(err));
  CHECK("split error: nothing left to train on",
        rc == I2V_ERROR && strstr(err, "lower holdout") != NULL, "%s", err);
  if (rc == I2V_OK) i2v_eval_split_free(&sp, A);
}

/* A scorer that knows the ring: the item after the query scores 2, the one
** after that 1 (ranks: next item first when shift 1, second when shift 2). */
typedef struct ring_ctx {
  const i2v_eval_split *sp;
  int shift;
} ring_ctx;

static int ring_scorer(void *ctx, const uint32_t *q, size_t nq, float *scores) {
  ring_ctx *r = ctx;
  const i2v_eval_split *sp = r->sp;
  memset(scores, 0, sp->nvocab * sizeof(float));
  if (nq == 0) return I2V_OK;
  uint32_t full = sp->item_of[q[nq - 1]];
  for (uint32_t t = 0; t < sp->nvocab; t++) {
    uint32_t f = sp->item_of[t];
    if (f == (full + (uint32_t)r->shift) % 10) scores[t] = 2;
    if (f == (full + 3) % 10) scores[t] = 1;
  }
  return I2V_OK;
}

static void test_run(void) {
  /* 10 users walking a ring of 10 items, 6 steps each, from different starts. */
  uint32_t t[60];
  uint64_t s[11];
  for (int u = 0; u < 10; u++) {
    s[u] = (uint64_t)u * 6;
    for (int i = 0; i < 6; i++) t[u * 6 + i] = (uint32_t)((u + i) % 10);
  }
  s[10] = 60;
  i2v_corpus all = {.tokens = t, .starts = s, .nseq = 10, .ntokens = 60};
  i2v_eval_split sp;
  char err[256];
  int rc = i2v_eval_split_build(&all, 10, 2, 1, 0, A, &sp, "t", err, sizeof(err));
  CHECK("ring split", rc == I2V_OK && sp.ncases == 20 && sp.nvocab == 10, "%s", err);
  if (rc != I2V_OK) return;
  i2v_eval_options e;
  i2v_eval_options_init(&e);
  i2v_eval_metrics m;
  ring_ctx rc1 = {&sp, 1}, rc2 = {&sp, 2};

  e.k = 1;
  rc = i2v_eval_run(&sp, &e, ring_scorer, &rc1, NULL, NULL, A, &m);
  CHECK("oracle scorer: every case a hit at rank 1",
        rc == I2V_OK && m.cases == 20 && m.users == 10 && m.hr == 1.0 && m.mrr == 1.0 &&
        m.ndcg == 1.0, "hr %g mrr %g", m.hr, m.mrr);
  CHECK("coverage: share of items in some top k", fabs(m.coverage - 1.0) < 1e-12,
        "coverage %g", m.coverage);

  e.k = 2;
  rc = i2v_eval_run(&sp, &e, ring_scorer, &rc2, NULL, NULL, A, &m);
  /* Rank 1 is shift 2, the target (shift 1) scores 0 and ties lose to... the
  ** item at +3 (score 1): so the target is not in the top 2 unless seen items
  ** are left out. */
  CHECK("target ranked below k is a miss", rc == I2V_OK && m.hr == 0.0, "hr %g", m.hr);

  e.k = 3;
  ring_ctx rc3 = {&sp, 3}; /* +3 scores 2 (then 1): target +1 ties at 0 */
  rc = i2v_eval_run(&sp, &e, ring_scorer, &rc3, NULL, NULL, A, &m);
  CHECK("metrics bounded", m.mrr <= m.ndcg && m.ndcg <= m.hr && m.hr <= 1.0,
        "hr %g mrr %g ndcg %g", m.hr, m.mrr, m.ndcg);

  /* Popularity: every item equally popular in training but seen items are
  ** never recommended. */
  e.k = 10;
  rc = i2v_eval_run(&sp, &e, i2v_eval_score_popularity, &sp, NULL, NULL, A, &m);
  /* With k = 10 and 10 items, every unseen item is in the top k: the target
  ** is unseen, so each case hits, at a rank below the seen-free head. */
  CHECK("popularity leaves seen items out", rc == I2V_OK && m.hr == 1.0 && m.mrr < 1.0,
        "hr %g mrr %g", m.hr, m.mrr);

  /* Co-occurrence with window 1: the next item of the ring co-occurs with
  ** the query as often as the previous one, which is seen: a hit at rank 1. */
  i2v_eval_cooc cooc;
  rc = i2v_eval_cooc_init(&cooc, &sp, 1, A);
  CHECK("cooc builds", rc == I2V_OK, "rc %d", rc);
  float scores[10];
  uint32_t q = sp.train_of[4];
  i2v_eval_score_cooc(&cooc, &q, 1, scores);
  float want_next = 0;
  for (int u = 0; u < 10; u++)
    for (int i = 0; i + 1 < 4; i++)
      if ((u + i) % 10 == 4) want_next += 1; /* 4 followed by 5 in training */
  CHECK("cooc counts neighbours within the window",
        scores[sp.train_of[5]] == want_next && scores[sp.train_of[7]] == 0 &&
        scores[sp.train_of[4]] == 0,
        "next %g (want %g), +3 %g, self %g", scores[sp.train_of[5]], want_next,
        scores[sp.train_of[7]], scores[sp.train_of[4]]);
  e.k = 1;
  rc = i2v_eval_run(&sp, &e, i2v_eval_score_cooc, &cooc, NULL, NULL, A, &m);
  CHECK("cooc predicts the ring", rc == I2V_OK && m.hr == 1.0, "hr %g", m.hr);
  i2v_eval_cooc_free(&cooc);
  i2v_eval_split_free(&sp, A);
}

static void test_embedding(void) {
  /* Three items in 2-D (stride 16): cosine prefers direction, context the
  ** output vectors. */
  float in[3 * 16] = {0}, out[3 * 16] = {0}, sc[3];
  in[0] = 1; in[1] = 0;        /* item 0 */
  in[16] = 10; in[17] = 1;     /* item 1: near item 0's direction, long */
  in[32] = 0; in[33] = 1;      /* item 2 */
  out[0] = 0; out[16] = -1; out[32] = 5; /* context favours item 2 */
  i2v_eval_embedding e;
  int rc = i2v_eval_embedding_init(&e, in, out, 16, 2, 3, I2V_SCORE_COSINE, A);
  uint32_t q = 0;
  i2v_eval_score_embedding(&e, &q, 1, sc);
  CHECK("cosine ignores length", rc == I2V_OK && sc[1] > sc[2] && fabsf(sc[0] - 1) < 1e-6,
        "%g %g %g", sc[0], sc[1], sc[2]);
  i2v_eval_embedding_free(&e);
  rc = i2v_eval_embedding_init(&e, in, out, 16, 2, 3, I2V_SCORE_CONTEXT, A);
  q = 1;
  i2v_eval_score_embedding(&e, &q, 1, sc);
  CHECK("context is input . output", rc == I2V_OK && sc[2] == 50 && sc[1] == -10,
        "%g %g %g", sc[0], sc[1], sc[2]);
  i2v_eval_embedding_free(&e);
}

static void test_options(void) {
  i2v_eval_options e;
  char err[256];
  i2v_eval_options_init(&e);
  CHECK("options defaults", e.holdout == 1 && e.k == 10 && e.query_items == I2V_EVAL_QUERY_RECOMMEND &&
        e.score == I2V_SCORE_HYBRID, "%d %d", e.holdout, e.k);
  int rc = i2v_eval_option(&e, " holdout = 10 ", "f", err, sizeof(err));
  CHECK("option holdout", rc == I2V_OK && e.holdout == 10, "rc %d", rc);
  rc = i2v_eval_option(&e, "query=mean:5", "f", err, sizeof(err));
  CHECK("option query=mean:N", rc == I2V_OK && e.query_items == 5, "rc %d", rc);
  rc = i2v_eval_option(&e, "query=mean", "f", err, sizeof(err));
  CHECK("option query=mean", rc == I2V_OK && e.query_items == 0, "rc %d", rc);
  rc = i2v_eval_option(&e, "window=3", "f", err, sizeof(err));
  CHECK("training option passed over", rc == -1, "rc %d", rc);
  rc = i2v_eval_option(&e, "k=1e3", "f", err, sizeof(err));
  CHECK("option k rejects non-integers", rc == I2V_ERROR && strstr(err, "f: option 'k'"),
        "%s", err);
}

static void test_pca(void) {
  /* Points along (3, 4)/5 with a little noise across: the first component is
  ** that direction, positive-signed, and explains nearly everything. */
  enum { N = 200, D = 3, S = 16 };
  static float rows[N * S];
  for (int i = 0; i < N; i++) {
    float t = (float)(i - N / 2) / 10.0f, n = (i % 2 ? 0.05f : -0.05f);
    rows[i * S + 0] = 3 * t / 5 + 4 * n / 5 + 1;
    rows[i * S + 1] = 4 * t / 5 - 3 * n / 5 - 2;
    rows[i * S + 2] = (i % 3) * 0.01f;
  }
  i2v_pca_result r;
  int rc = i2v_pca(rows, S, N, D, 2, A, &r);
  CHECK("pca runs", rc == I2V_OK, "rc %d", rc);
  if (rc != I2V_OK) return;
  CHECK("pca first component", fabs(r.components[0] - 0.6) < 1e-4 &&
        fabs(r.components[1] - 0.8) < 1e-4, "(%g, %g, %g)", r.components[0],
        r.components[1], r.components[2]);
  CHECK("pca variance sorted and explained",
        r.variance[0] > r.variance[1] && r.variance[0] / r.total_variance > 0.99,
        "%g %g of %g", r.variance[0], r.variance[1], r.total_variance);
  double dot = 0;
  for (int j = 0; j < D; j++) dot += r.components[j] * r.components[D + j];
  CHECK("pca components orthogonal", fabs(dot) < 1e-9, "dot %g", dot);
  double xy[2], mean = 0;
  for (int i = 0; i < N; i++) {
    i2v_pca_project(&r, rows + i * S, xy);
    mean += xy[0];
  }
  CHECK("pca coordinates centred", fabs(mean / N) < 1e-6, "mean %g", mean / N);
  i2v_pca_free(&r, A);
  CHECK("pca rejects ncomp > dim", i2v_pca(rows, S, N, D, 4, A, &r) == I2V_ERROR, "%s", "accepted");
}

/* The pair evidence's share grows with how much of it the query has:
** blend x m / (m + evidence), m the query items' mean row total. */
static void test_rank_share(void) {
  static float input[4 * 16] __attribute__((aligned(64)));
  static float output[4 * 16] __attribute__((aligned(64)));
  const float log_count[4] = {0, 0, 0, 0};
  i2v_ranker r;
  int rc = i2v_ranker_init(&r, input, output, log_count, 16, 2, 4, A);
  CHECK("ranker builds", rc == I2V_OK, "rc %d", rc);
  if (rc != I2V_OK) return;
  const uint32_t q[2] = {0, 3}, other[1] = {1};
  const double sizes[3] = {0.0, 2.0 * I2V_RANK_EVIDENCE, 200.0 * I2V_RANK_EVIDENCE};
  double last = -1.0;
  for (int t = 0; t < 3; t++) {
    /* Item 0 has partner 1 with this weight; item 3 has no partners. */
    float weight[1] = {(float)sizes[t]};
    i2v_pair_row rows[2] = {{other, weight, sizes[t] > 0 ? 1 : 0}, {NULL, NULL, 0}};
    float scores[4];
    i2v_rank_scores(&r, q, rows, 2, scores);
    double mean = sizes[t] / 2.0;
    double want = sizes[t] > 0 ? I2V_RANK_BLEND * mean / (mean + I2V_RANK_EVIDENCE) : 0.0;
    double share = scores[1] - scores[2]; /* the embedding is uniform here */
    CHECK("rank share follows the evidence", fabs(share - want) < 1e-5 && share > last,
          "weight %g: share %g, want %g", sizes[t], share, want);
    CHECK("rank scores sum to 1", fabs(scores[0] + scores[1] + scores[2] + scores[3] - 1.0) < 1e-5,
          "weight %g", sizes[t]);
    last = share;
  }
  i2v_ranker_free(&r);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  test_split();
  test_rank_share();
  test_run();
  test_embedding();
  test_options();
  test_pca();
  printf("%s\n", failures ? "FAILED" : "done");
  return failures ? 1 : 0;
}
