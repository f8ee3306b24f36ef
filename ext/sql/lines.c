/*
** sql/lines.c: the item2vec_lines virtual table module: a playlist file as
** it is shipped (plain, gzip, or one member of a zip archive), one sequence
** per line and items separated by whitespace (gensim's LineSentence,
** word2vec.c's and fastText's input), read as (line, position, item) rows.
**
** SQL served:
**   CREATE VIRTUAL TABLE temp.p USING item2vec_lines('playlists.txt');
**   SELECT item2vec_train('temp.p', 'line', 'item', 'order_by=position');
**   CREATE VIRTUAL TABLE temp.q USING item2vec_lines(
**       path='yes_complete.zip', member='train.txt');
**   CREATE TABLE plays AS SELECT * FROM temp.q;
**
** Arguments: path (required; a lone value is the path) and member (a zip
** member's full path, or a base name matching one member; optional for a
** one-file archive), as item2vec_csv takes them, and max_item_bytes (the
** most bytes one item may hold: 64 MiB unless raised).
** Columns: line (the line's number in the file, from 1; blank and comment
** lines are counted, so it is the line an editor shows), position (the
** item's place in its line, from 1) and item.  Items are typed as
** item2vec_csv types an unquoted value: a canonical integer is INTEGER, a
** decimal with a fraction or an exponent is REAL, anything else is TEXT.
** The layout (blanks, line ends, '#' comment lines before the first item)
** is core/lines.h's.
**
** How it works.  xCreate/xConnect open the file (core/reader.c decides
** plain, gzip or zip from its first bytes) and read up to SNIFF_ITEMS items
** to declare the item column's type (INTEGER, REAL or TEXT, the widest
** seen), so CREATE TABLE ... AS SELECT gets a typed column.  Each cursor has
** its own reader and tokenizer (core/lines.c); xFilter reopens the file, so
** every scan reads from the start and memory stays at a buffer or two
** however big the file or a line is.  Each row is one item: SQLite checks
** for an interrupt between rows, and the reader every 64 KiB (so gigabytes
** of blank lines stop too); an item is at most max_item_bytes.  Only regular
** files are read.  Errors name the file (and member) and the line.
**
** The table reads files, so it is DIRECTONLY: a view or trigger in a schema
** someone else wrote cannot make it read a file of their choosing.
*/
#include <string.h>

#include "core/csv.h"
#include "core/lines.h"
#include "core/reader.h"
#include "sql/lines.h"

#define SNIFF_ITEMS 1000

enum { COL_LINE = 0, COL_POSITION = 1, COL_ITEM = 2 };

static const char *const lines_arg_names = "path, member, max_item_bytes";

typedef struct lines_vtab {
  sqlite3_vtab base;
  sqlite3 *db;
  char *path;
  char *member;    /* NULL when not given */
  char *where;     /* "'x.zip' member 'a/b.txt'" or "'x.txt'", for messages */
  size_t max_item; /* the most bytes an item may hold (max_item_bytes) */
} lines_vtab;

typedef struct lines_cursor {
  sqlite3_vtab_cursor base;
  sqlite3_stmt *ping; /* asked for interrupts while the file is read */
  i2v_reader *reader;
  i2v_lines tok;
  sqlite3_int64 rowid;
  int eof;
  int type; /* of the current item: I2V_INTEGER, I2V_FLOAT or I2V_TEXT */
  int64_t iv;
  double rv;
} lines_cursor;

/* The one error helper of this table: replaces any earlier message. */
static int lines_error(sqlite3_vtab *vt, int rc, char *msg) {
  i2v_utf8_sanitize(msg); /* bytes from a damaged file may not be UTF-8 */
  return i2v_vtab_error(vt, rc ? rc : SQLITE_ERROR, msg);
}

/* The message of a failed read: an interrupt says just that. */
static char *tok_error(lines_vtab *vt, int irc, const i2v_lines *tok) {
  if (irc == I2V_CANCELLED) return sqlite3_mprintf("item2vec_lines: interrupted");
  return sqlite3_mprintf("item2vec_lines: %s: %s", vt->where, tok->err);
}

static void vtab_free(lines_vtab *vt) {
  if (!vt) return;
  sqlite3_free(vt->path);
  sqlite3_free(vt->member);
  sqlite3_free(vt->where);
  sqlite3_free(vt);
}

/* Arguments into vt; on failure *pzErr says which and why. */
static int parse_args(lines_vtab *vt, int argc, const char *const *argv, char **pzErr) {
  for (int i = 3; i < argc; i++) {
    char *key, *val;
    int rc = i2v_vtab_arg(argv[i], &key, &val);
    if (rc != SQLITE_OK) return rc;
    if (!key && !vt->path) { /* a lone value: the path, when it comes first */
      vt->path = val;
      continue;
    }
    if (!key) {
      *pzErr =
          sqlite3_mprintf("item2vec_lines: argument '%s' is not name=value; valid names are %s",
                          argv[i], lines_arg_names);
      rc = SQLITE_ERROR;
    } else if (sqlite3_stricmp(key, "path") == 0 || sqlite3_stricmp(key, "filename") == 0) {
      sqlite3_free(vt->path);
      vt->path = val;
      val = NULL;
    } else if (sqlite3_stricmp(key, "member") == 0) {
      sqlite3_free(vt->member);
      vt->member = val;
      val = NULL;
    } else if (sqlite3_stricmp(key, "max_item_bytes") == 0) {
      if (!i2v_vtab_bytes(val, &vt->max_item)) {
        *pzErr = sqlite3_mprintf(
            "item2vec_lines: max_item_bytes must be an integer from 1 to %llu, got '%s'",
            (unsigned long long)I2V_FILE_MAX_ROW_LIMIT, val);
        rc = SQLITE_ERROR;
      }
    } else {
      *pzErr = sqlite3_mprintf("item2vec_lines: unknown argument '%s'; valid names are %s", key,
                               lines_arg_names);
      rc = SQLITE_ERROR;
    }
    sqlite3_free(key);
    sqlite3_free(val);
    if (rc != SQLITE_OK) return rc;
  }
  if (!vt->path || !*vt->path) {
    *pzErr = sqlite3_mprintf(
        "item2vec_lines: path is required, as in "
        "CREATE VIRTUAL TABLE temp.p USING item2vec_lines(path='playlists.txt')");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Open the file and start the tokenizer, which asks ping for interrupts;
** on failure a message in *pzErr. */
static int open_source(lines_vtab *vt, sqlite3_stmt *ping, i2v_reader **reader, i2v_lines *tok,
                       char **pzErr) {
  int rc = i2v_file_open("item2vec_lines", vt->path, vt->member, ping, reader, &vt->where, pzErr);
  if (rc != SQLITE_OK) return rc;
  i2v_lines_init(tok, &i2v_sqlite_alloc, *reader, vt->max_item);
  return SQLITE_OK;
}

/* The type of the tokenizer's current item (i2v_csv_classify never says
** "empty": an item has at least one byte). */
static int item_type(const i2v_lines *tok, int64_t *iv, double *rv) {
  return i2v_csv_classify(tok->text, tok->len, iv, rv);
}

static int lines_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                         sqlite3_vtab **ppVtab, char **pzErr) {
  static const char *const type_name[] = {"", " INTEGER", " REAL", " TEXT"};
  lines_vtab *vt = sqlite3_malloc64(sizeof(*vt));
  sqlite3_stmt *ping = NULL;
  i2v_reader *reader = NULL;
  i2v_lines tok;
  char *sql = NULL;
  int rc, type = 0;
  (void)aux;

  memset(&tok, 0, sizeof(tok));
  if (!vt) return SQLITE_NOMEM;
  memset(vt, 0, sizeof(*vt));
  vt->db = db;
  vt->max_item = I2V_FILE_MAX_ROW;
  rc = parse_args(vt, argc, argv, pzErr);
  if (rc != SQLITE_OK) goto fail;
  /* An item is one value: never more than SQLite takes either. */
  int limit = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1);
  if (limit > 0 && (size_t)limit < vt->max_item) vt->max_item = (size_t)limit;
  rc = i2v_ping_open(db, &ping);
  if (rc != SQLITE_OK) goto fail;
  rc = open_source(vt, ping, &reader, &tok, pzErr);
  if (rc != SQLITE_OK) goto fail;

  /* The item column's type: the widest of the first items' (INTEGER <
  ** REAL < TEXT are 1 < 2 < 3); none for a file without items. */
  for (int n = 0; n < SNIFF_ITEMS; n++) {
    int64_t iv;
    double rv;
    int irc = i2v_lines_next(&tok);
    if (irc != I2V_OK) {
      *pzErr = tok_error(vt, irc, &tok);
      rc = i2v_sqlite_rc(irc);
      goto fail;
    }
    if (tok.len == 0) break;
    int t = item_type(&tok, &iv, &rv);
    if (t > type) type = t;
  }
  sql = sqlite3_mprintf("CREATE TABLE x(line INTEGER, position INTEGER, item%s)", type_name[type]);
  if (!sql) {
    rc = SQLITE_NOMEM;
    goto fail;
  }
  rc = sqlite3_declare_vtab(db, sql);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("item2vec_lines: %s: cannot declare columns: %s", vt->where,
                             sqlite3_errmsg(db));
    goto fail;
  }
  /* It reads files: only SQL the user typed may use it, never a view or a
  ** trigger in a schema someone else wrote. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  i2v_lines_free(&tok);
  i2v_reader_close(reader);
  sqlite3_finalize(ping);
  sqlite3_free(sql);
  *ppVtab = &vt->base;
  return SQLITE_OK;

fail:
  if (rc == SQLITE_NOMEM && !*pzErr) *pzErr = sqlite3_mprintf("item2vec_lines: out of memory");
  i2v_utf8_sanitize(*pzErr);
  i2v_lines_free(&tok);
  i2v_reader_close(reader);
  sqlite3_finalize(ping);
  sqlite3_free(sql);
  vtab_free(vt);
  return rc;
}

static int lines_disconnect(sqlite3_vtab *vt) {
  vtab_free((lines_vtab *)vt);
  return SQLITE_OK;
}

/* Every plan is a full scan: idxNum is always 0, no constraint is used
** (SQLite checks them on the rows). */
static int lines_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  (void)vt;
  info->idxNum = 0;
  info->estimatedCost = 1e6;
  info->estimatedRows = 1000000;
  return SQLITE_OK;
}

static int lines_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **ppCur) {
  (void)vt;
  int rc = i2v_vtab_open(sizeof(lines_cursor), ppCur);
  if (rc == SQLITE_OK) ((lines_cursor *)*ppCur)->eof = 1;
  return rc;
}

static void cursor_reset(lines_cursor *c) {
  i2v_lines_free(&c->tok);
  i2v_reader_close(c->reader);
  c->reader = NULL;
  sqlite3_finalize(c->ping);
  c->ping = NULL;
  c->eof = 1;
  c->rowid = 0;
}

static int lines_close(sqlite3_vtab_cursor *cur) {
  cursor_reset((lines_cursor *)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

static int lines_next(sqlite3_vtab_cursor *cur) {
  lines_cursor *c = (lines_cursor *)cur;
  lines_vtab *vt = (lines_vtab *)cur->pVtab;
  int irc = i2v_lines_next(&c->tok);
  if (irc != I2V_OK) {
    c->eof = 1;
    return lines_error(&vt->base, i2v_sqlite_rc(irc), tok_error(vt, irc, &c->tok));
  }
  if (c->tok.len == 0) {
    c->eof = 1;
    return SQLITE_OK;
  }
  c->type = item_type(&c->tok, &c->iv, &c->rv);
  c->rowid++;
  return SQLITE_OK;
}

/* idxNum is always 0 (see lines_best_index): start a full scan. */
static int lines_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                        sqlite3_value **argv) {
  lines_cursor *c = (lines_cursor *)cur;
  lines_vtab *vt = (lines_vtab *)cur->pVtab;
  char *err = NULL;
  (void)idxNum;
  (void)idxStr;
  (void)argc;
  (void)argv;
  cursor_reset(c);
  int rc = i2v_ping_open(vt->db, &c->ping);
  if (rc != SQLITE_OK) return rc;
  rc = open_source(vt, c->ping, &c->reader, &c->tok, &err);
  if (rc != SQLITE_OK) return lines_error(&vt->base, rc, err);
  c->eof = 0;
  return lines_next(cur);
}

static int lines_eof(sqlite3_vtab_cursor *cur) {
  return ((lines_cursor *)cur)->eof;
}

static int lines_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  lines_cursor *c = (lines_cursor *)cur;
  switch (col) {
    case COL_LINE:
      sqlite3_result_int64(ctx, (sqlite3_int64)c->tok.line);
      break;
    case COL_POSITION:
      sqlite3_result_int64(ctx, (sqlite3_int64)c->tok.position);
      break;
    default:
      if (c->type == I2V_INTEGER)
        sqlite3_result_int64(ctx, c->iv);
      else if (c->type == I2V_FLOAT)
        sqlite3_result_double(ctx, c->rv);
      else
        sqlite3_result_text64(ctx, c->tok.text, c->tok.len, SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  return SQLITE_OK;
}

static int lines_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  *rowid = ((lines_cursor *)cur)->rowid;
  return SQLITE_OK;
}

const sqlite3_module i2v_lines_module = {
    .iVersion = 0,
    .xCreate = lines_connect,
    .xConnect = lines_connect,
    .xBestIndex = lines_best_index,
    .xDisconnect = lines_disconnect,
    .xDestroy = lines_disconnect,
    .xOpen = lines_open,
    .xClose = lines_close,
    .xFilter = lines_filter,
    .xNext = lines_next,
    .xEof = lines_eof,
    .xColumn = lines_column,
    .xRowid = lines_rowid,
};
