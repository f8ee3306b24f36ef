/*
** core/reader.h: bytes in and out of files as they are shipped: a plain file,
** a gzip stream, or one member of a zip archive (stored or deflated), read
** through a fixed-size buffer so memory stays bounded whatever the file's
** size; and a writer that produces a plain or gzip file atomically (a
** temporary file renamed into place only when everything was written).
**
** No SQLite in here.  Messages never name the file: the caller knows how it
** wants to name it ("item2vec_csv: 'x.zip': ...") and prefixes them.
*/
#ifndef I2V_READER_H
#define I2V_READER_H

#include <stdio.h>

#include "core/common.h"

/* What an open reader decodes. */
enum { I2V_SOURCE_PLAIN = 0, I2V_SOURCE_GZIP = 1, I2V_SOURCE_ZIP = 2 };

#define I2V_READER_BUFSIZE 65536

/* The reader.  Callers use the functions below; the fields are visible only
** so that i2v_reader_getc can be inlined. */
typedef struct i2v_reader {
  const unsigned char *pos, *end; /* decoded bytes not yet handed out */
  int kind;                       /* I2V_SOURCE_* */
  int state;                      /* 0 reading, 1 at the end, -1 failed */
  struct i2v_reader_impl *impl;
} i2v_reader;

/* Open path, which must be a regular file (a FIFO, device, directory or
** socket is refused at once, without blocking).  member names a zip member:
** the full path inside the archive, or a base name that matches exactly one
** member; NULL or "" takes the only file of a one-file archive (NULL: the
** caller cannot name a member, and the message for an archive of several
** does not suggest it).  The kind is
** found from the file's first bytes (a path ending in .gz or .zip must be
** what it says).  Returns I2V_OK with *out set, or I2V_ERROR / I2V_NOMEM
** with the problem in err. */
int i2v_reader_open(const i2v_alloc *a, const char *path, const char *member, i2v_reader **out,
                    char *err, size_t errlen);

/* The same for a stream already open (fmemopen in the fuzz harness); the
** reader owns f from then on, also when opening fails.  path only serves
** the .gz / .zip checks. */
int i2v_reader_open_stream(const i2v_alloc *a, FILE *f, const char *path, const char *member,
                           i2v_reader **out, char *err, size_t errlen);

/* Refill the decoded buffer: 1 when bytes are available, 0 at the end, -1
** on error (see i2v_reader_errmsg). */
int i2v_reader_fill(i2v_reader *r);

/* The next byte, -1 at the end, -2 on error. */
static inline int i2v_reader_getc(i2v_reader *r) {
  if (r->pos == r->end) {
    int f = i2v_reader_fill(r);
    if (f <= 0) return f == 0 ? -1 : -2;
  }
  return *r->pos++;
}

/* Up to n bytes into buf: the count, 0 at the end, -1 on error. */
long i2v_reader_read(i2v_reader *r, void *buf, size_t n);

/* Why the last call failed ("corrupt gzip data (incorrect data check)"). */
const char *i2v_reader_errmsg(const i2v_reader *r);

/* Ask cancel(ctx) before each refill of the buffer; when it returns
** nonzero the read fails with "interrupted" and i2v_reader_cancelled says
** so (callers report SQLITE_INTERRUPT). */
void i2v_reader_set_cancel(i2v_reader *r, int (*cancel)(void *ctx), void *ctx);
int i2v_reader_cancelled(const i2v_reader *r);

/* The zip member being read ("" for other kinds). */
const char *i2v_reader_member(const i2v_reader *r);

void i2v_reader_close(i2v_reader *r);

/* The writer: bytes go to a temporary file of its own next to path (a
** random name created with O_EXCL, mode 0666 less the umask),
** gzip-compressed when gzip is set; i2v_writer_finish renames it over path,
** i2v_writer_abort removes it.  A path that exists and is not a regular
** file is refused (I2V_ERROR) by both open and finish. */
typedef struct i2v_writer i2v_writer;

int i2v_writer_open(const i2v_alloc *a, const char *path, int gzip, i2v_writer **out, char *err,
                    size_t errlen);
int i2v_writer_write(i2v_writer *w, const void *buf, size_t n);
/* Flush, close and rename; frees w whatever happens. */
int i2v_writer_finish(i2v_writer *w, char *err, size_t errlen);
/* Close and remove the temporary file; frees w.  NULL is allowed. */
void i2v_writer_abort(i2v_writer *w);
/* Why the last write failed. */
const char *i2v_writer_errmsg(const i2v_writer *w);

/* 1 when path ends in suffix, ignoring ASCII case. */
int i2v_path_has_suffix(const char *path, const char *suffix);

#endif
