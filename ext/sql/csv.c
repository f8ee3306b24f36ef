/*
** sql/csv.c: the item2vec_csv virtual table module: a CSV file as it is
** shipped (plain, gzip, or one member of a zip archive) read as a table.
**
** SQL served:
**   CREATE VIRTUAL TABLE temp.r USING item2vec_csv(
**       path='ml-latest-small.zip', member='ml-latest-small/ratings.csv');
**   CREATE TABLE ratings AS SELECT * FROM temp.r;
**   CREATE VIRTUAL TABLE temp.t USING item2vec_csv('events.csv.gz');
**   CREATE VIRTUAL TABLE temp.u USING item2vec_csv(path='x.tsv',
**       delimiter='tab', header=0);              -- columns c1, c2, ...
**
** Arguments: path (required; a lone quoted argument is the path), member
** (a zip member's full path, or a base name matching one member; optional
** for a one-file archive), header (1: the first row names the columns; 0:
** columns c1, c2, ... and the first row is data), delimiter (one character,
** or 'tab'), max_row_bytes (the most bytes one row may hold: 64 MiB unless
** raised, so a file without line ends or with a quote never closed fails
** fast).  Only regular files are read (i2v_reader.c); the reader asks for
** interrupts at every 64 KiB, so a long row stops soon after
** sqlite3_interrupt.
**
** How it works.  xCreate/xConnect open the file (core/reader.c decides plain,
** gzip or zip from its first bytes), read the header row and up to
** SNIFF_ROWS data rows, and declare one column per header field with the
** type those rows suggest (INTEGER, REAL, TEXT, or none when all were
** empty), so CREATE TABLE ... AS SELECT gets typed columns.  Each cursor has
** its own reader and tokenizer (core/csv.c); xFilter reopens the file, so
** every scan reads from the start and memory stays at a few buffers however
** big the file is.  Every value is typed as it is read: an unquoted
** canonical integer is INTEGER, an unquoted decimal with a fraction or
** exponent is REAL, an unquoted empty field is NULL, anything else
** (quoted fields included) is TEXT.  A row with fewer fields than the header
** gets NULLs; one with more is an error naming its line.
**
** The table reads files, so it is DIRECTONLY: a view or trigger in a schema
** someone else wrote cannot make it read a file of their choosing.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/reader.h"
#include "sql/csv.h"

#define SNIFF_ROWS 1000

static const char *const csv_arg_names = "path, member, header, delimiter, max_row_bytes";

typedef struct csv_vtab {
  sqlite3_vtab base;
  sqlite3 *db;
  char *path;
  char *member; /* NULL when not given */
  char *where;  /* "'x.zip' member 'a/b.csv'" or "'x.csv'", for messages */
  int header;
  int delim;
  int ncols;
  size_t max_row;    /* the most bytes a row may hold (max_row_bytes) */
  size_t max_fields; /* SQLITE_LIMIT_COLUMN */
} csv_vtab;

typedef struct csv_cursor {
  sqlite3_vtab_cursor base;
  sqlite3_stmt *ping; /* asked for interrupts while a row is read */
  i2v_reader *reader;
  i2v_csv tok;
  sqlite3_int64 rowid;
  int eof;
} csv_cursor;

/* The one error helper of this table: replaces any earlier message. */
static int csv_error(sqlite3_vtab *vt, int rc, char *msg) {
  i2v_utf8_sanitize(msg); /* names from a damaged file may not be UTF-8 */
  return i2v_vtab_error(vt, rc ? rc : SQLITE_ERROR, msg);
}

static int parse_bool(const char *v, int *out) {
  static const char *const yes[] = {"1", "yes", "true", "on"};
  static const char *const no[] = {"0", "no", "false", "off"};
  for (int i = 0; i < 4; i++) {
    if (sqlite3_stricmp(v, yes[i]) == 0) return *out = 1, 1;
    if (sqlite3_stricmp(v, no[i]) == 0) return *out = 0, 1;
  }
  return 0;
}

static void vtab_free(csv_vtab *vt) {
  if (!vt) return;
  sqlite3_free(vt->path);
  sqlite3_free(vt->member);
  sqlite3_free(vt->where);
  sqlite3_free(vt);
}

/* Arguments into vt; on failure *pzErr says which and why. */
static int parse_args(csv_vtab *vt, int argc, const char *const *argv, char **pzErr) {
  for (int i = 3; i < argc; i++) {
    char *key, *val;
    int rc = i2v_vtab_arg(argv[i], &key, &val);
    if (rc != SQLITE_OK) return rc;
    if (!key) {
      /* A lone value: the path, when it comes first. */
      if (vt->path) {
        *pzErr = sqlite3_mprintf(
            "item2vec_csv: argument '%s' is not name=value; valid "
            "names are %s",
            argv[i], csv_arg_names);
        sqlite3_free(val);
        return SQLITE_ERROR;
      }
      vt->path = val;
      continue;
    }
    if (sqlite3_stricmp(key, "path") == 0 || sqlite3_stricmp(key, "filename") == 0) {
      sqlite3_free(vt->path);
      vt->path = val;
      val = NULL;
    } else if (sqlite3_stricmp(key, "member") == 0) {
      sqlite3_free(vt->member);
      vt->member = val;
      val = NULL;
    } else if (sqlite3_stricmp(key, "header") == 0) {
      if (!parse_bool(val, &vt->header)) {
        *pzErr = sqlite3_mprintf("item2vec_csv: header must be 0 or 1 (or no/yes), got '%s'", val);
        rc = SQLITE_ERROR;
      }
    } else if (sqlite3_stricmp(key, "max_row_bytes") == 0) {
      if (!i2v_vtab_bytes(val, &vt->max_row)) {
        *pzErr = sqlite3_mprintf(
            "item2vec_csv: max_row_bytes must be an integer from 1 to %llu, got '%s'",
            (unsigned long long)I2V_FILE_MAX_ROW_LIMIT, val);
        rc = SQLITE_ERROR;
      }
    } else if (sqlite3_stricmp(key, "delimiter") == 0) {
      if (sqlite3_stricmp(val, "tab") == 0 || strcmp(val, "\\t") == 0)
        vt->delim = '\t';
      else if (strlen(val) == 1 && val[0] != '"' && val[0] != '\n' && val[0] != '\r')
        vt->delim = (unsigned char)val[0];
      else {
        *pzErr = sqlite3_mprintf(
            "item2vec_csv: delimiter must be one character other "
            "than a quote or a line end, or 'tab'; got '%s'",
            val);
        rc = SQLITE_ERROR;
      }
    } else {
      *pzErr = sqlite3_mprintf("item2vec_csv: unknown argument '%s'; valid names are %s", key,
                               csv_arg_names);
      rc = SQLITE_ERROR;
    }
    sqlite3_free(key);
    sqlite3_free(val);
    if (rc != SQLITE_OK) return rc;
  }
  if (!vt->path || !*vt->path) {
    *pzErr = sqlite3_mprintf(
        "item2vec_csv: path is required, as in "
        "CREATE VIRTUAL TABLE temp.t USING item2vec_csv(path='data.csv')");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Open the file and start the tokenizer, which asks ping for interrupts;
** on failure a message in *pzErr. */
static int open_source(csv_vtab *vt, sqlite3_stmt *ping, i2v_reader **reader, i2v_csv *tok,
                       char **pzErr) {
  int rc = i2v_file_open("item2vec_csv", vt->path, vt->member, ping, reader, &vt->where, pzErr);
  if (rc != SQLITE_OK) return rc;
  i2v_csv_init(tok, &i2v_sqlite_alloc, *reader, vt->delim, vt->max_row, vt->max_fields);
  return SQLITE_OK;
}

static char *tok_error(csv_vtab *vt, const i2v_csv *tok) {
  return sqlite3_mprintf("item2vec_csv: %s: %s", vt->where, tok->err);
}

/* The message of a failed read: an interrupt says just that. */
static char *read_error(csv_vtab *vt, int irc, const i2v_csv *tok) {
  return irc == I2V_CANCELLED ? sqlite3_mprintf("item2vec_csv: interrupted") : tok_error(vt, tok);
}

static char *too_many_fields(csv_vtab *vt, const i2v_csv *tok) {
  return sqlite3_mprintf(
      "item2vec_csv: %s: line %llu has %llu fields, but the %s has "
      "%d (quote fields that contain the delimiter)",
      vt->where, (unsigned long long)tok->row_line, (unsigned long long)tok->nfields,
      vt->header ? "header" : "first row", vt->ncols);
}

/* Type of a column from the values seen so far: 0 none yet, then the widest
** of INTEGER < REAL < TEXT. */
static int widen(int seen, int type) {
  if (type == I2V_TEXT || seen == I2V_TEXT) return I2V_TEXT;
  if (type == I2V_FLOAT || seen == I2V_FLOAT) return I2V_FLOAT;
  return I2V_INTEGER;
}

static int field_type(const i2v_csv *tok, size_t i, int64_t *iv, double *rv) {
  const i2v_csv_field *f = &tok->fields[i];
  if (f->quoted) return I2V_TEXT;
  if (f->len == 0) return 0; /* NULL */
  return i2v_csv_classify(i2v_csv_text(tok, i), f->len, iv, rv);
}

static void free_names(char **names, int n) {
  for (int i = 0; names && i < n; i++) sqlite3_free(names[i]);
  sqlite3_free(names);
}

static int csv_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
  csv_vtab *vt = sqlite3_malloc64(sizeof(*vt));
  sqlite3_stmt *ping = NULL;
  i2v_reader *reader = NULL;
  i2v_csv tok;
  int *types = NULL;
  char **names = NULL;
  char *sql = NULL;
  int rc;
  (void)aux;

  memset(&tok, 0, sizeof(tok));
  if (!vt) return SQLITE_NOMEM;
  memset(vt, 0, sizeof(*vt));
  vt->db = db;
  vt->header = 1;
  vt->delim = ',';
  vt->max_row = I2V_FILE_MAX_ROW;
  int limit = sqlite3_limit(db, SQLITE_LIMIT_COLUMN, -1);
  vt->max_fields = limit > 0 ? (size_t)limit : 2000;
  rc = parse_args(vt, argc, argv, pzErr);
  if (rc != SQLITE_OK) goto fail;
  /* Nor more than SQLite takes in one value. */
  limit = sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1);
  if (limit > 0 && (size_t)limit < vt->max_row) vt->max_row = (size_t)limit;
  rc = i2v_ping_open(db, &ping);
  if (rc != SQLITE_OK) goto fail;
  rc = open_source(vt, ping, &reader, &tok, pzErr);
  if (rc != SQLITE_OK) goto fail;

  /* The first row: the header, or the first data row. */
  int irc = i2v_csv_next(&tok);
  if (irc != I2V_OK) {
    *pzErr = read_error(vt, irc, &tok);
    rc = i2v_sqlite_rc(irc);
    goto fail;
  }
  if (tok.nfields == 0) {
    *pzErr = sqlite3_mprintf("item2vec_csv: %s is empty (no header row)", vt->where);
    rc = SQLITE_ERROR;
    goto fail;
  }
  vt->ncols = (int)tok.nfields;
  types = sqlite3_malloc64(sizeof(int) * (size_t)vt->ncols);
  names = sqlite3_malloc64(sizeof(char *) * (size_t)vt->ncols);
  if (names) memset(names, 0, sizeof(char *) * (size_t)vt->ncols); /* fail frees them */
  if (!types || !names) {
    rc = SQLITE_NOMEM;
    goto fail;
  }
  memset(types, 0, sizeof(int) * (size_t)vt->ncols);

  /* Column names: the header's fields (made unique), or c1, c2, ... */
  for (int i = 0; i < vt->ncols; i++) {
    const char *name = vt->header ? i2v_csv_text(&tok, (size_t)i) : "";
    int dup = 0;
    for (int j = 0; j < i && *name; j++)
      if (sqlite3_stricmp(name, i2v_csv_text(&tok, (size_t)j)) == 0) dup = 1;
    names[i] = !*name ? sqlite3_mprintf("c%d", i + 1)
               : dup  ? sqlite3_mprintf("%s_%d", name, i + 1)
                      : sqlite3_mprintf("%s", name);
    if (!names[i]) {
      rc = SQLITE_NOMEM;
      goto fail;
    }
    i2v_utf8_sanitize(names[i]); /* a name must be UTF-8 text */
  }

  /* Sniff the declared types from the first rows. */
  for (int row = 0; row < SNIFF_ROWS; row++) {
    if (row > 0 || vt->header) {
      irc = i2v_csv_next(&tok);
      if (irc != I2V_OK) {
        *pzErr = read_error(vt, irc, &tok);
        rc = i2v_sqlite_rc(irc);
        goto fail;
      }
      if (tok.nfields == 0) break;
    }
    if (tok.nfields > (size_t)vt->ncols) {
      *pzErr = too_many_fields(vt, &tok);
      rc = SQLITE_ERROR;
      goto fail;
    }
    for (size_t i = 0; i < tok.nfields; i++) {
      int64_t iv;
      double rv;
      int t = field_type(&tok, i, &iv, &rv);
      if (t) types[i] = widen(types[i], t);
    }
  }

  {
    static const char *const type_name[] = {"", " INTEGER", " REAL", " TEXT"};
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendall(s, "CREATE TABLE x(");
    for (int i = 0; i < vt->ncols; i++)
      sqlite3_str_appendf(s, "%s\"%w\"%s", i ? ", " : "", names[i], type_name[types[i]]);
    sqlite3_str_appendall(s, ")");
    sql = sqlite3_str_finish(s);
    if (!sql) {
      rc = SQLITE_NOMEM;
      goto fail;
    }
  }
  rc = sqlite3_declare_vtab(db, sql);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("item2vec_csv: %s: cannot declare columns (%s): %s", vt->where,
                             sqlite3_errmsg(db), sql);
    goto fail;
  }
  /* It reads files: only SQL the user typed may use it, never a view or a
  ** trigger in a schema someone else wrote. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  i2v_csv_free(&tok);
  i2v_reader_close(reader);
  sqlite3_finalize(ping);
  free_names(names, vt->ncols);
  sqlite3_free(types);
  sqlite3_free(sql);
  *ppVtab = &vt->base;
  return SQLITE_OK;

fail:
  if (rc == SQLITE_NOMEM && !*pzErr) *pzErr = sqlite3_mprintf("item2vec_csv: out of memory");
  i2v_utf8_sanitize(*pzErr);
  free_names(names, vt->ncols);
  i2v_csv_free(&tok);
  i2v_reader_close(reader);
  sqlite3_finalize(ping);
  sqlite3_free(types);
  sqlite3_free(sql);
  vtab_free(vt);
  return rc;
}

static int csv_disconnect(sqlite3_vtab *vt) {
  vtab_free((csv_vtab *)vt);
  return SQLITE_OK;
}

/* Every plan is a full scan: idxNum is always 0, no constraint is used. */
static int csv_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
  (void)vt;
  info->idxNum = 0;
  info->estimatedCost = 1e6;
  info->estimatedRows = 100000;
  return SQLITE_OK;
}

static int csv_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **ppCur) {
  (void)vt;
  csv_cursor *c = sqlite3_malloc64(sizeof(*c));
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  c->eof = 1;
  *ppCur = &c->base;
  return SQLITE_OK;
}

static void cursor_reset(csv_cursor *c) {
  i2v_csv_free(&c->tok);
  i2v_reader_close(c->reader);
  c->reader = NULL;
  sqlite3_finalize(c->ping);
  c->ping = NULL;
  c->eof = 1;
  c->rowid = 0;
}

static int csv_close(sqlite3_vtab_cursor *cur) {
  cursor_reset((csv_cursor *)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* The next row into the tokenizer: SQLITE_OK (c->eof set past the last
** row) or an error. */
static int read_row(csv_cursor *c, csv_vtab *vt) {
  int irc = i2v_csv_next(&c->tok);
  if (irc != I2V_OK) {
    c->eof = 1;
    return csv_error(&vt->base, i2v_sqlite_rc(irc), read_error(vt, irc, &c->tok));
  }
  if (c->tok.nfields == 0) c->eof = 1;
  return SQLITE_OK;
}

static int csv_next(sqlite3_vtab_cursor *cur) {
  csv_cursor *c = (csv_cursor *)cur;
  csv_vtab *vt = (csv_vtab *)cur->pVtab;
  int rc = read_row(c, vt);
  if (rc != SQLITE_OK || c->eof) return rc;
  if (c->tok.nfields > (size_t)vt->ncols) {
    c->eof = 1;
    return csv_error(&vt->base, SQLITE_ERROR, too_many_fields(vt, &c->tok));
  }
  c->rowid++;
  return SQLITE_OK;
}

/* idxNum is always 0 (see csv_best_index): start a full scan. */
static int csv_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
  csv_cursor *c = (csv_cursor *)cur;
  csv_vtab *vt = (csv_vtab *)cur->pVtab;
  char *err = NULL;
  (void)idxNum;
  (void)idxStr;
  (void)argc;
  (void)argv;
  cursor_reset(c);
  int rc = i2v_ping_open(vt->db, &c->ping);
  if (rc != SQLITE_OK) return rc;
  rc = open_source(vt, c->ping, &c->reader, &c->tok, &err);
  if (rc != SQLITE_OK) return csv_error(&vt->base, rc, err);
  c->eof = 0;
  if (vt->header) { /* the header row: its names are the columns' already */
    rc = read_row(c, vt);
    if (rc != SQLITE_OK || c->eof) return rc;
  }
  return csv_next(cur);
}

static int csv_eof(sqlite3_vtab_cursor *cur) {
  return ((csv_cursor *)cur)->eof;
}

static int csv_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col) {
  csv_cursor *c = (csv_cursor *)cur;
  if ((size_t)col >= c->tok.nfields) return SQLITE_OK; /* a short row: NULL */
  int64_t iv;
  double rv;
  switch (field_type(&c->tok, (size_t)col, &iv, &rv)) {
    case 0:
      break;
    case I2V_INTEGER:
      sqlite3_result_int64(ctx, iv);
      break;
    case I2V_FLOAT:
      sqlite3_result_double(ctx, rv);
      break;
    default:
      sqlite3_result_text64(ctx, i2v_csv_text(&c->tok, (size_t)col), c->tok.fields[col].len,
                            SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  return SQLITE_OK;
}

static int csv_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  *rowid = ((csv_cursor *)cur)->rowid;
  return SQLITE_OK;
}

const sqlite3_module i2v_csv_module = {
    .iVersion = 0,
    .xCreate = csv_connect,
    .xConnect = csv_connect,
    .xBestIndex = csv_best_index,
    .xDisconnect = csv_disconnect,
    .xDestroy = csv_disconnect,
    .xOpen = csv_open,
    .xClose = csv_close,
    .xFilter = csv_filter,
    .xNext = csv_next,
    .xEof = csv_eof,
    .xColumn = csv_column,
    .xRowid = csv_rowid,
};
