/*
** sql/common.h: what the SQLite-facing files share, in one home
** (sql/common.c): the extension API pointer, the allocator on
** sqlite3_malloc64, the eponymous tables' vtab helpers, item values in and
** out of SQLite, the query functions' arguments (integers, the items an
** argument names), the one float32 BLOB decoder, the model tables'
** existence and list for messages, the scalar functions' error tail, a
** monotonic clock and the JSON string writer.
** No SQL file is included from here, so every SQL file can include it.
*/
#ifndef I2V_SQL_COMMON_H
#define I2V_SQL_COMMON_H

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#include "core/common.h"
#include "core/options.h"
#include "core/vocab.h"

/* The allocator of everything SQLite may see or free. */
extern const i2v_alloc i2v_sqlite_alloc;

/* ---- the eponymous tables (similar_items, item2vec_project) ------------- */

/* Each vtab is an i2v_vtab; each cursor is allocated zeroed.  conn is the
** connection state (sql/store.h) given to sqlite3_create_module_v2. */
typedef struct i2v_vtab {
  sqlite3_vtab base;
  struct i2v_conn *conn;
} i2v_vtab;
int i2v_vtab_connect(sqlite3 *db, void *conn, const char *schema, const char *fname,
                     sqlite3_vtab **ppVtab, char **pzErr);
int i2v_vtab_disconnect(sqlite3_vtab *vt);
int i2v_vtab_open(size_t cursor_size, sqlite3_vtab_cursor **ppCur);
/* Set the table's error message (replacing any earlier one); a message that
** could not be allocated (msg NULL) means memory ran out. */
int i2v_vtab_error(sqlite3_vtab *vt, int rc, char *msg);

/* The plan of a table-valued function whose hidden columns first_arg ..
** first_arg + nargs - 1 are its arguments.  Bit j of idxNum says hidden
** column first_arg + j has an equality constraint; their values come in
** argv in column order.  A constraint on one of them that is not usable yet
** (a lateral join's outer column) refuses the plan with SQLITE_CONSTRAINT,
** so SQLite reads that table first.  When none of the columns in required
** (bits as in idxNum; 0: none needed) has one, idxNum is 0 at a prohibitive
** cost and xFilter says what is missing.  Rows come out best first, so
** ORDER BY rank_col or ORDER BY score_col DESC is consumed (-1: neither). */
typedef struct i2v_plan {
  int first_arg, nargs;
  int required;
  double cost, rows; /* of a plan with its arguments */
  int rank_col, score_col;
} i2v_plan;
int i2v_vtab_plan(sqlite3_index_info *info, const i2v_plan *plan);

/* Grow *buf to hold n elements of size bytes (contents kept): SQLITE_OK or
** SQLITE_NOMEM (*buf as it was). */
int i2v_reserve(void **buf, size_t *cap, size_t n, size_t size);

/* A core return code (I2V_*) as SQLite's: SQLITE_OK, SQLITE_NOMEM,
** SQLITE_INTERRUPT for I2V_CANCELLED, else SQLITE_ERROR. */
int i2v_sqlite_rc(int irc);

/* ---- arguments of the file tables (item2vec_csv, item2vec_lines) -------- */

/* One argument of CREATE VIRTUAL TABLE ... USING module(...): name=value
** into *key and *val, or a lone value (no '=' before its first quote) into
** *val with *key NULL; both dequoted ('it''s' -> it's, [x] -> x) and
** sqlite3_malloc'd.  SQLITE_OK, or SQLITE_NOMEM with nothing to free. */
int i2v_vtab_arg(const char *arg, char **key, char **val);

/* The most bytes one row (item2vec_csv) or item (item2vec_lines) of a file
** may hold unless max_row_bytes / max_item_bytes says otherwise: enough for
** any sane row, small enough that a file without line ends (or a quote
** never closed) fails fast instead of taking memory. */
#define I2V_FILE_MAX_ROW ((size_t)64 << 20)
#define I2V_FILE_MAX_ROW_LIMIT ((size_t)1 << 40)
/* A byte count given to a file table (max_row_bytes=...): 1 with *out set
** when val is an integer from 1 to I2V_FILE_MAX_ROW_LIMIT, else 0. */
int i2v_vtab_bytes(const char *val, size_t *out);

struct i2v_reader;
/* Open a file table's file (core/reader.h: plain, gzip or a zip member):
** SQLITE_OK with *out, or an SQLite code with *pzErr "fname: 'path': why".
** ping (NULL for none) is asked for interrupts before each 64 KiB is read
** (core/reader.h, i2v_reader_set_cancel).
** When *where is NULL it gets how messages name the file: "'x.zip' member
** 'a/b.txt'" or "'x.txt'". */
int i2v_file_open(const char *fname, const char *path, const char *member, sqlite3_stmt *ping,
                  struct i2v_reader **out, char **where, char **pzErr);

/* ---- item values --------------------------------------------------------- */

/* Read a column value into an i2v_value (payload valid until the next
** step).  Returns 1, 0 for NULL, -1 when converting it to text ran out of
** memory. */
int i2v_value_from_column(sqlite3_stmt *st, int col, i2v_value *v);
int i2v_value_from_sql(sqlite3_value *sv, i2v_value *v);
/* Bind or return an item's stored value. */
int i2v_bind_item(sqlite3_stmt *st, int idx, const i2v_vocab *v, const i2v_vocab_entry *e);
void i2v_result_item(sqlite3_context *ctx, const i2v_vocab *v, const i2v_vocab_entry *e);
/* A value, or an item as stored, written as an SQL literal for messages
** (1, 1.5, 'x', x'00ff'); sqlite3_malloc'd, NULL when out of memory. */
char *i2v_value_literal(const i2v_value *v);
char *i2v_item_literal(const i2v_vocab *v, const i2v_vocab_entry *e);
/* The one rule for an item stored twice by hand ('1' and 1 are one item):
** every reader refuses the model with this message (first and second are
** literals, freed by the caller). */
char *i2v_duplicate_error(const char *fname, const char *model, const char *table,
                          const char *first, const char *second);

/* ---- arguments of the query functions ------------------------------------ */

/* An integer argument: an integer, an integral real, or a text that spells a
** canonical integer, from lo to hi.  Returns 1 with *out set, 0 when v is
** not one (NULL included). */
int i2v_arg_int(sqlite3_value *v, int64_t lo, int64_t hi, int64_t *out);

/* Model rows an argument names, in the order given.  Kept across calls (set
** n to 0 to reuse) and freed with i2v_item_rows_free. */
typedef struct i2v_item_rows {
  uint32_t *rows;
  float *weights; /* +1, or -1 for the "negative" members of a JSON object */
  size_t n, cap;
  size_t unknown; /* items named that the model does not know (not in rows) */
} i2v_item_rows;
void i2v_item_rows_free(i2v_item_rows *r);
/* Append one row; SQLITE_OK or SQLITE_NOMEM. */
int i2v_item_rows_push(i2v_item_rows *r, uint32_t row, float weight);

/*
** Append to out the rows of `items` that argument v names.  The rule:
**   - NULL (or v NULL: not given) names nothing;
**   - a value that is a known item is that item, whatever it looks like:
**     a title such as '[REC] (2007)' is one item;
**   - otherwise a text whose first character other than whitespace is '['
**     is a JSON array of items (json_array(x) is the explicit form of one
**     item), and one that starts with '{' is {"positive": [...],
**     "negative": [...]} when objects is set, an error when not;
**   - anything else is one item the model does not know.
** Unknown items are counted in out->unknown, not added.  Errors (malformed
** JSON, an object where an array is wanted) return SQLITE_ERROR with
** "fname: what: ..." in *msg ("fname: ..." when what is NULL); out of
** memory returns SQLITE_NOMEM (with *msg when it could be written).
*/
int i2v_item_rows_add(const i2v_vocab *items, sqlite3_value *v, int objects, const char *fname,
                      const char *what, i2v_item_rows *out, char **msg);

/* ---- the model tables ---------------------------------------------------- */

/* The stored vector in column col: a BLOB of dim little-endian float32
** values (not a TEXT of as many bytes), or NULL with what it is instead in
** why ("a TEXT value, not a BLOB of 2 float32 values"). */
const unsigned char *i2v_column_vector(sqlite3_stmt *st, int col, int dim, char *why, size_t n);
/* The same decoded into out (dim floats) and checked by i2v_blob_floats:
** I2V_BLOB_OK, I2V_BLOB_LENGTH with why saying what the value is instead,
** or I2V_BLOB_NONFINITE. */
int i2v_column_floats(sqlite3_stmt *st, int col, int dim, float *out, char *why, size_t n);

/* The largest dimension a stored model may have. */
#define I2V_MAX_DIM 65536
/* The dimension in column col of a model's header row: an INTEGER from 1
** to I2V_MAX_DIM (read whole: 2^32 + 32 is not 32), else 0.  shown gets the
** stored value as text, for messages. */
int i2v_header_dim(sqlite3_stmt *st, int col, char *shown, size_t n);

/* 1 when main has the table called name, 0 when not, -1 when SQLite could
** not say (out of memory, interrupted: sqlite3_errcode tells). */
int i2v_table_exists(sqlite3 *db, const char *name);
/* Both item2vec_models and item2vec_vectors exist: 1, 0 or -1 as above. */
int i2v_model_tables(sqlite3 *db);
/* The models of main as "'a', 'b'" ("none" when there is none) into *out
** (sqlite3_malloc'd), for messages; item2vec_models must exist.  Returns
** SQLITE_OK, or the code of what failed with *out NULL. */
int i2v_model_list(sqlite3 *db, char **out);
/* "fname: no such model 'name'; models in this database: ..." into *pzErr,
** returning SQLITE_ERROR; when the list cannot be read, "fname: cannot read
** model 'name': why" and that code. */
int i2v_no_such_model(sqlite3 *db, const char *fname, const char *name, char **pzErr);

/* ---- vector BLOBs -------------------------------------------------------- */

/* What i2v_blob_floats found. */
enum { I2V_BLOB_OK = 0, I2V_BLOB_LENGTH = 1, I2V_BLOB_NONFINITE = 2 };

/* The one decoder of stored vectors: bytes bytes at b, little-endian
** float32 values (sqlite-vec's layout), into out, checked.  With dim > 0 the
** BLOB must be dim values (bytes == 4 x dim), with dim 0 any whole number
** of them; every value must be finite.  Returns I2V_BLOB_OK,
** I2V_BLOB_LENGTH (b NULL, or a length that does not fit), or
** I2V_BLOB_NONFINITE with *bad (when not NULL) the index of the first NaN or
** infinity; out is then partly written. */
int i2v_blob_floats(const void *b, int bytes, int dim, float *out, int *bad);

/* ---- scalar functions ---------------------------------------------------- */

/* The error tail of a scalar function: report msg (sqlite3_malloc'd, freed
** here) with code rc; a NULL msg means memory ran out. */
void i2v_result_error(sqlite3_context *ctx, int rc, char *msg);

/* ---- interrupts ---------------------------------------------------------- */

/* SQLite 3.40 has no sqlite3_is_interrupted, but a prepared "SELECT 1"
** fails with SQLITE_INTERRUPT once sqlite3_interrupt was called, while the
** calling statement runs.  i2v_ping_interrupted has the shape of the core's
** cancel callbacks (ctx: the statement). */
int i2v_ping_open(sqlite3 *db, sqlite3_stmt **ping);
int i2v_ping_interrupted(void *ping);

/* ---- small helpers ------------------------------------------------------- */

/* Monotonic seconds. */
double i2v_now(void);
/* Fault in the pages of a large fresh block in one call, ahead of writing
** it (nothing where Linux cannot). */
void i2v_prefault(void *p, size_t bytes);
/* Append t as a JSON string (quoted, escaped) to s. */
void i2v_json_string(sqlite3_str *s, const char *t);
/* Every training option as JSON object members ("name":value,...), without
** the braces: the params of item2vec_train and item2vec_evaluate. */
void i2v_options_json_members(sqlite3_str *s, const i2v_options *o);
/* ,"user_col":...,"item_col":... (names[1] and names[2] of a source's
** arguments): stored in params so recommend_items can read a user's history
** from the model's own source. */
void i2v_source_json_members(sqlite3_str *s, const char *const names[3]);

#endif
