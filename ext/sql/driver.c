/*
** sql/driver.c: what the long-running SQL functions share: the progress and
** interrupt poller (item2vec_train, item2vec_evaluate, item2vec_index), the
** arguments and options of item2vec_train and item2vec_evaluate, the checks
** they make before any work, and their error tail.
**
** SQL served: none of its own; see sql/train.c, sql/eval.c and sql/hnsw.c.
**
** How it works.  The poller is the core's poll callback: the core calls it
** on the calling thread (the only thread that talks to SQLite) every few
** tens of milliseconds while worker threads compute.  The argument parser
** reads every option before anything else happens, so a typo fails at
** once; an option a driver adds (evaluate's holdout, k, ...) is offered to
** it first, and a name neither knows gets a message listing both.
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/train.h"
#include "core/vec.h"
#include "sql/driver.h"
#include "sql/source.h"

/* ---- the poller ---------------------------------------------------------- */

int i2v_poller_open(i2v_poller *p, sqlite3 *db, const char *fname, const char *unit, int verbose,
                    char **pzErr) {
  memset(p, 0, sizeof(*p));
  p->fname = fname;
  p->unit = unit;
  p->verbose = verbose;
  p->tty = isatty(2);
  p->t0 = i2v_now();
  int rc = i2v_ping_open(db, &p->ping);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errmsg(db));
  return rc;
}

void i2v_poller_close(i2v_poller *p) {
  if (p->open_line) {
    fputc('\n', stderr);
    fflush(stderr);
  }
  sqlite3_finalize(p->ping);
  memset(p, 0, sizeof(*p));
}

static void fmt_rate(char *buf, size_t n, double r) {
  if (r >= 1e6)
    snprintf(buf, n, "%.2fM", r / 1e6);
  else if (r >= 1e3)
    snprintf(buf, n, "%.1fk", r / 1e3);
  else
    snprintf(buf, n, "%.0f", r);
}

int i2v_poller_poll(void *ctx, const i2v_progress *pr) {
  i2v_poller *p = ctx;
  if (i2v_ping_interrupted(p->ping)) return 1;
  if (!p->verbose) return 0;
  double now = i2v_now(), el = now - p->t0;
  /* Training: a finished epoch gets its own line. */
  int epoch_done = pr->epochs > 0 && pr->epoch_loss && pr->done > 0 &&
                   pr->done * (uint64_t)pr->epochs >= pr->total * (uint64_t)(pr->epoch + 1);
  if (!epoch_done && now - p->last_print < (p->tty ? 0.25 : 2.0)) return 0;
  p->last_print = now;
  char rate[32], step[64];
  double r = el > 0 ? (double)pr->done / el : 0;
  fmt_rate(rate, sizeof(rate), r);
  double pct = pr->total ? 100.0 * (double)pr->done / (double)pr->total : 100.0;
  double eta = r > 0 && pr->total > pr->done ? (double)(pr->total - pr->done) / r : 0;
  if (pr->epochs > 0)
    snprintf(step, sizeof(step), "epoch %d/%d  %5.1f%%", pr->epoch + 1, pr->epochs, pct);
  else
    snprintf(step, sizeof(step), "%5.1f%%  %llu/%llu %s", pct, (unsigned long long)pr->done,
             (unsigned long long)pr->total, p->unit);
  int end_line = !p->tty || epoch_done;
  if (pr->epochs > 0)
    fprintf(stderr, "%s%s: %s  %s %s/s  loss %.6g  ETA %.0fs%s", p->tty ? "\r" : "", p->fname, step,
            rate, p->unit, pr->loss, eta, end_line ? "\n" : "   ");
  else
    fprintf(stderr, "%s%s: %s  %s %s/s  ETA %.0fs%s", p->tty ? "\r" : "", p->fname, step, rate,
            p->unit, eta, end_line ? "\n" : "   ");
  p->open_line = !end_line;
  fflush(stderr);
  return 0;
}

/* ---- arguments ----------------------------------------------------------- */

/* Is arg's name (up to '=') a training option?  For the unknown-option
** message. */
static int is_training_option(const char *arg) {
  const char *eq = strchr(arg, '=');
  if (!eq) return 1; /* let the training parser explain the form */
  const char *name = arg;
  size_t n = (size_t)(eq - arg);
  while (n && (*name == ' ' || *name == '\t')) name++, n--;
  while (n && (name[n - 1] == ' ' || name[n - 1] == '\t')) n--;
  return i2v_options_find(name, n) >= 0;
}

/* "fname: unknown option 'x'; [did you mean ...? ]<kind> options are ...;
** training options are ..." */
static char *unknown_option(const char *fname, const char *arg, const i2v_extra_options *extra) {
  const char *eq = strchr(arg, '=');
  char hint[192];
  sqlite3_str *s = sqlite3_str_new(NULL);
  for (int j = 0; j < i2v_options_count(); j++)
    sqlite3_str_appendf(s, "%s%s", j ? ", " : "", i2v_options_name(j));
  char *list = sqlite3_str_finish(s);
  i2v_options_hint(arg, (size_t)(eq - arg), extra->name_array, hint, sizeof(hint));
  char *msg = sqlite3_mprintf(
      "%s: unknown option '%.*s'; %s%s options are %s; training options are %s", fname,
      (int)(eq - arg), arg, hint, extra->kind, extra->names, list ? list : "?");
  sqlite3_free(list);
  return msg;
}

int i2v_driver_args(int argc, sqlite3_value **argv, const char *fname,
                    const i2v_extra_options *extra, const char *names[3], i2v_options *o,
                    char **pzErr) {
  char err[1024] = {0};
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  i2v_options_init(o, (int)(ncpu > 0 ? ncpu : 1), isatty(2));
  if (argc < 3) {
    *pzErr =
        sqlite3_mprintf("%s: expected (source, user_col, item_col, 'option=value', ...)", fname);
    return SQLITE_ERROR;
  }
  int rc = i2v_source_args(argv, fname, names, pzErr);
  if (rc != SQLITE_OK) return rc;
  for (int i = 3; i < argc; i++) {
    const char *arg = (const char *)sqlite3_value_text(argv[i]);
    int orc;
    if (extra && arg && (orc = extra->set(extra->ctx, arg, fname, err, sizeof(err))) >= 0) {
      if (orc == I2V_OK) continue;
      *pzErr = sqlite3_mprintf("%s", err);
      return SQLITE_ERROR;
    }
    if (extra && arg && !is_training_option(arg)) {
      *pzErr = unknown_option(fname, arg, extra);
      return SQLITE_ERROR;
    }
    orc = i2v_options_set(o, arg, fname, &i2v_sqlite_alloc, err, sizeof(err));
    if (orc != I2V_OK) {
      *pzErr = orc == I2V_NOMEM ? sqlite3_mprintf("%s: out of memory", fname)
                                : sqlite3_mprintf("%s", err);
      return orc == I2V_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    }
  }
  if (i2v_options_check(o, fname, err, sizeof(err)) != I2V_OK) {
    *pzErr = sqlite3_mprintf("%s", err);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* ---- checks before the work ---------------------------------------------- */

int i2v_driver_check_size(const char *fname, uint64_t items, int dim, char **pzErr) {
  if (items * i2v_row_stride(dim) > I2V_MAX_MATRIX_FLOATS) {
    *pzErr = sqlite3_mprintf(
        "%s: %llu items x vector_size %d is more than this build trains "
        "(%llu floats); lower vector_size or raise min_count",
        fname, (unsigned long long)items, dim, (unsigned long long)I2V_MAX_MATRIX_FLOATS);
    return SQLITE_TOOBIG;
  }
  /* Two matrices of items x row stride floats (input and output vectors)
  ** and a few per-item tables. */
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

/* ---- results ------------------------------------------------------------- */

int i2v_driver_core_rc(int crc, const char *fname, const char *err, char **pzErr) {
  int rc = i2v_sqlite_rc(crc);
  if (rc != SQLITE_OK && rc != SQLITE_INTERRUPT) *pzErr = sqlite3_mprintf("%s: %s", fname, err);
  return rc;
}

char *i2v_driver_params(sqlite3 *db, const i2v_options *o, const char *const names[3],
                        const char *more) {
  sqlite3_str *s = sqlite3_str_new(db);
  sqlite3_str_appendchar(s, 1, '{');
  i2v_options_json_members(s, o);
  i2v_source_json_members(s, names);
  if (more) sqlite3_str_appendall(s, more);
  sqlite3_str_appendchar(s, 1, '}');
  return sqlite3_str_finish(s);
}

void i2v_driver_losses(sqlite3_str *s, const double *loss, int n) {
  sqlite3_str_appendall(s, "\"loss\":[");
  for (int e = 0; e < n; e++) {
    char b[40]; /* JSON has no Inf or NaN (training refuses them anyway) */
    sqlite3_str_appendf(s, "%s%s", e ? "," : "", i2v_json_number(b, sizeof(b), "%.6g", loss[e]));
  }
  sqlite3_str_appendchar(s, 1, ']');
}

void i2v_driver_error(sqlite3_context *ctx, const char *fname, int rc, char *zErr) {
  if (rc == SQLITE_INTERRUPT) {
    sqlite3_free(zErr);
    zErr = sqlite3_mprintf("%s: interrupted", fname);
  } else if (!zErr) {
    rc = SQLITE_NOMEM;
  }
  if (!zErr) zErr = sqlite3_mprintf("%s: %s", fname, sqlite3_errstr(rc));
  i2v_result_error(ctx, rc, zErr);
}
