/*
** sql/driver.h: what the long-running SQL functions share (sql/driver.c):
** item2vec_train and item2vec_evaluate take the same arguments and options,
** make the same checks before they start, and end in the same error tail;
** they and item2vec_index report progress and notice sqlite3_interrupt
** through one poller.
*/
#ifndef I2V_SQL_DRIVER_H
#define I2V_SQL_DRIVER_H

#include "sql/common.h"

/* ---- the poller ---------------------------------------------------------- */

/* The poll callback of the core's long operations (core/common.h), on the
** calling thread.  It asks i2v_ping_interrupted (sql/common.h) whether
** sqlite3_interrupt was called, and asks the operation to stop then.  When
** verbose it prints a progress line on stderr, rewritten in place on a
** terminal every 0.25 s, a new line every 2 s otherwise (and at each
** epoch's end).  Lines name fname; done counts `unit`. */
typedef struct i2v_poller {
  sqlite3_stmt *ping; /* SELECT 1 */
  const char *fname;
  const char *unit; /* what done counts: "items" */
  int verbose;      /* print progress (the caller may turn it off) */
  int tty;          /* stderr is a terminal */
  int open_line;    /* the last line printed has no newline yet */
  double t0, last_print;
} i2v_poller;

/* Ready p for an operation starting now.  SQLITE_OK, or an error with
** *pzErr. */
int i2v_poller_open(i2v_poller *p, sqlite3 *db, const char *fname, const char *unit, int verbose,
                    char **pzErr);
/* The i2v_poll_fn; ctx is the poller. */
int i2v_poller_poll(void *ctx, const i2v_progress *pr);
/* End the line left open, release the statement. */
void i2v_poller_close(i2v_poller *p);

/* ---- arguments ----------------------------------------------------------- */

/* Options a driver takes besides the training options (item2vec_evaluate's
** own).  set applies arg when it is one of them: I2V_OK, I2V_ERROR with a
** message in err, or -1 when it is not one of them. */
typedef struct i2v_extra_options {
  const char *kind;              /* "evaluation", for the unknown-option message */
  const char *names;             /* their names, for the same */
  const char *const *name_array; /* the same, NULL-terminated, for "did you mean" */
  int (*set)(void *ctx, const char *arg, const char *fname, char *err, size_t errlen);
  void *ctx;
} i2v_extra_options;

/* The arguments (source, user_col, item_col, 'option=value', ...) into
** names and o, which is initialised here first (this machine's defaults:
** a worker per core, verbose when stderr is a terminal) and must be freed
** with i2v_options_free even on failure.  extra, when not NULL, is offered
** each option first.  SQLITE_OK, or an error with *pzErr. */
int i2v_driver_args(int argc, sqlite3_value **argv, const char *fname,
                    const i2v_extra_options *extra, const char *names[3], i2v_options *o,
                    char **pzErr);

/* ---- checks before the work ---------------------------------------------- */

/* (Whether the model can be written at all is i2v_store_check_writable's,
** sql/store.h, which item2vec_import and item2vec_index ask too.) */

/* Training items x dim must fit: this build's limit on the matrices, then
** this machine's memory or, when the application set one (PRAGMA
** hard_heap_limit), what is left under SQLite's heap limit.  SQLITE_TOOBIG
** with *pzErr when it does not. */
int i2v_driver_check_size(const char *fname, uint64_t items, int dim, char **pzErr);

/* ---- results ------------------------------------------------------------- */

/* A core return code (I2V_*) as an SQLite one, with "fname: err" in *pzErr
** (an interrupt is reported by i2v_driver_error). */
int i2v_driver_core_rc(int crc, const char *fname, const char *err, char **pzErr);

/* The params a model is stored with: every training option and the source
** columns as one JSON object, then `more` (",\"name\":value..." or NULL)
** inside it.  NULL when memory ran out. */
char *i2v_driver_params(sqlite3 *db, const i2v_options *o, const char *const names[3],
                        const char *more);

/* "loss":[l0,l1,...] of n epochs. */
void i2v_driver_losses(sqlite3_str *s, const double *loss, int n);

/* The error tail: report rc with zErr (freed here).  An interrupt is
** "fname: interrupted" whatever phase it stopped; a failure without a
** message is an out-of-memory failure. */
void i2v_driver_error(sqlite3_context *ctx, const char *fname, int rc, char *zErr);

#endif
