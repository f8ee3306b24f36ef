/*
** core/reader.c: reading plain, gzip and zip-member files through a bounded
** buffer, and writing plain or gzip files atomically.  Used by item2vec_csv
** (sql/csv.c) and by item2vec_import / item2vec_export (sql/w2v.c).
**
** How it works.  Opening a file reads its first bytes: 1f 8b is gzip, "PK"
** followed by 03 04 (or 05 06 for an empty archive) is zip, anything else is
** read as it is.  A gzip file goes through zlib's inflate with gzip framing
** (windowBits 16+MAX_WBITS, which checks the CRC and length in the trailer);
** concatenated gzip members are read one after the other, as gzip(1) does.
** A zip archive is read from its end: the end-of-central-directory record
** gives the central directory, which is walked one entry at a time (never
** held whole) to find the member, its method, sizes and CRC; the member's
** local header then gives where its data starts.  Stored members are copied,
** deflated members go through raw inflate (windowBits -MAX_WBITS) fed no
** more than the member's compressed size; at the end the CRC-32 and length
** must match the directory's.  Every path uses two 64 KiB buffers (input and
** decoded output) plus zlib's window, whatever the size of the file.
**
** Only regular files are read: the file is opened without blocking (a FIFO
** with no writer would otherwise wait forever in open) and anything else
** (FIFO, device, directory, socket) is refused at once.  A caller's cancel
** callback is asked before each buffer is refilled, so a long read (a huge
** row, a gzip bomb) stops soon after an interrupt.
**
** The writer creates a temporary file of its own in the target's directory
** (a random name, O_CREAT | O_EXCL, so it never follows a planted symlink
** and two writers never share one; mode 0666 less the umask), writes it
** (through deflate with gzip framing when asked), flushes and syncs it, and
** renames it over path only when all went well, so a failed export never
** leaves a half-written file under the name the user asked for, and each of
** two concurrent exports leaves a complete file.  A path that exists and is
** not a regular file (a device, a directory, a FIFO) is refused, before
** writing and again before the rename.
*/
#define _FILE_OFFSET_BITS 64
#include "core/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/random.h"

#define BUFSIZE I2V_READER_BUFSIZE
#define ERRSIZE 512
#define ZIP_EOCD_SIZE 22
#define ZIP_CDH_SIZE 46
#define ZIP_LFH_SIZE 30
#define ZIP_MAX_COMMENT 65535
#define LIST_MAX 400 /* bytes of member names quoted in an error */

typedef struct i2v_reader_impl {
  i2v_reader pub;
  const i2v_alloc *alloc;
  FILE *f;
  z_stream zs;
  int zs_init;
  int in_eof;           /* the file (or the member's data) is used up */
  int stream_done;      /* inflate reported the end of the (last) stream */
  uint64_t remaining;   /* zip: compressed bytes of the member still unread */
  uint64_t expect_size; /* zip: uncompressed size from the directory */
  uint64_t produced;    /* zip: uncompressed bytes produced so far */
  uint32_t expect_crc, crc;
  int method;   /* zip: 0 stored, 8 deflated */
  char *member; /* zip: the member's name */
  int (*cancel)(void *ctx);
  void *cancel_ctx;
  int cancelled; /* the cancel callback stopped the read */
  char err[ERRSIZE];
  unsigned char in[BUFSIZE];
  unsigned char out[BUFSIZE];
} i2v_reader_impl;

static int fail(i2v_reader_impl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(i2v_reader_impl *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, sizeof(r->err), fmt, ap);
  va_end(ap);
  r->pub.state = -1;
  r->pub.pos = r->pub.end = NULL;
  return -1;
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
  int ovf = 0;
  size_t n = i2v_mul_size(items, size, &ovf);
  if (ovf) return Z_NULL;
  return i2v_malloc((const i2v_alloc *)opaque, n);
}
static void z_free(voidpf opaque, voidpf p) {
  i2v_free((const i2v_alloc *)opaque, p);
}

int i2v_path_has_suffix(const char *path, const char *suffix) {
  size_t n = strlen(path), m = strlen(suffix);
  if (m > n) return 0;
  for (size_t i = 0; i < m; i++) {
    char a = path[n - m + i], b = suffix[i];
    if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
    if (a != b) return 0;
  }
  return 1;
}

static uint16_t get16(const unsigned char *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}

/* ---------------------------------------------------------------- reading */

static int fill_plain(i2v_reader_impl *r) {
  size_t n = fread(r->out, 1, BUFSIZE, r->f);
  if (n == 0) {
    if (ferror(r->f)) return fail(r, "read error (%s)", strerror(errno));
    r->pub.state = 1;
    return 0;
  }
  r->pub.pos = r->out;
  r->pub.end = r->out + n;
  return 1;
}

/* Top up the compressed input, no further than a zip member's data. */
static int read_input(i2v_reader_impl *r) {
  if (r->zs.avail_in > 0 || r->in_eof) return 0;
  size_t want = BUFSIZE;
  if (r->pub.kind == I2V_SOURCE_ZIP && r->remaining < want) want = (size_t)r->remaining;
  size_t n = want ? fread(r->in, 1, want, r->f) : 0;
  if (n == 0) {
    if (want && ferror(r->f)) return fail(r, "read error (%s)", strerror(errno));
    r->in_eof = 1;
  }
  if (r->pub.kind == I2V_SOURCE_ZIP) {
    r->remaining -= n;
    if (r->remaining == 0) r->in_eof = 1;
  }
  r->zs.next_in = r->in;
  r->zs.avail_in = (uInt)n;
  return 0;
}

/* After a gzip member ends: 1 when another member follows, 0 when the file
** ends (bytes that are not a gzip header are ignored, as gzip(1) does). */
static int gzip_next_member(i2v_reader_impl *r) {
  if (r->zs.avail_in < 2 && !r->in_eof) {
    /* Move what is left to the front and read more after it. */
    size_t left = r->zs.avail_in;
    memmove(r->in, r->zs.next_in, left);
    size_t n = fread(r->in + left, 1, BUFSIZE - left, r->f);
    if (n == 0) {
      if (ferror(r->f)) return fail(r, "read error (%s)", strerror(errno));
      r->in_eof = 1;
    }
    r->zs.next_in = r->in;
    r->zs.avail_in = (uInt)(left + n);
  }
  if (r->zs.avail_in >= 2 && r->zs.next_in[0] == 0x1f && r->zs.next_in[1] == 0x8b) {
    if (inflateReset(&r->zs) != Z_OK) return fail(r, "inflateReset failed");
    return 1;
  }
  return 0;
}

static int finish_zip_member(i2v_reader_impl *r) {
  if (r->produced != r->expect_size)
    return fail(r, "corrupt data (%llu bytes decoded, the zip directory says %llu)",
                (unsigned long long)r->produced, (unsigned long long)r->expect_size);
  if (r->crc != r->expect_crc)
    return fail(r, "corrupt data (CRC-32 %08x, the zip directory says %08x)", r->crc,
                r->expect_crc);
  r->pub.state = 1;
  return 0;
}

static int deliver(i2v_reader_impl *r, size_t n) {
  r->pub.pos = r->out;
  r->pub.end = r->out + n;
  if (r->pub.kind == I2V_SOURCE_ZIP) {
    r->produced += n;
    r->crc = (uint32_t)crc32(r->crc, r->out, (uInt)n);
    if (r->produced > r->expect_size)
      return fail(r,
                  "corrupt data (it decodes to more than the %llu bytes the zip "
                  "directory says)",
                  (unsigned long long)r->expect_size);
  }
  return 1;
}

static int fill_stored(i2v_reader_impl *r) {
  size_t want = r->remaining < BUFSIZE ? (size_t)r->remaining : BUFSIZE;
  if (want == 0) return finish_zip_member(r);
  size_t n = fread(r->out, 1, want, r->f);
  if (n < want) {
    if (ferror(r->f)) return fail(r, "read error (%s)", strerror(errno));
    return fail(r, "truncated data (the archive ends inside the member)");
  }
  r->remaining -= n;
  return deliver(r, n);
}

static int fill_inflate(i2v_reader_impl *r) {
  int is_zip = r->pub.kind == I2V_SOURCE_ZIP;
  for (;;) {
    if (read_input(r) < 0) return -1;
    r->zs.next_out = r->out;
    r->zs.avail_out = BUFSIZE;
    uInt had_in = r->zs.avail_in;
    int ret = inflate(&r->zs, Z_NO_FLUSH);
    size_t n = BUFSIZE - r->zs.avail_out;
    if (ret == Z_STREAM_END) {
      if (is_zip) {
        if (n > 0) {
          r->stream_done = 1; /* the next call checks size and CRC */
          return deliver(r, n);
        }
        return finish_zip_member(r);
      }
      int more = gzip_next_member(r);
      if (more < 0) return -1;
      if (!more) r->stream_done = 1;
      if (n > 0) return deliver(r, n);
      if (!more) {
        r->pub.state = 1;
        return 0;
      }
      continue;
    }
    if (ret == Z_DATA_ERROR)
      return is_zip ? fail(r, "corrupt deflate data (%s)", r->zs.msg ? r->zs.msg : "invalid data")
                    : fail(r, "corrupt gzip data (%s)", r->zs.msg ? r->zs.msg : "invalid data");
    if (ret == Z_MEM_ERROR) return fail(r, "out of memory in inflate");
    if (ret != Z_OK && ret != Z_BUF_ERROR)
      return fail(r, "inflate failed (%s)", r->zs.msg ? r->zs.msg : "unknown error");
    if (n > 0) return deliver(r, n);
    if (r->in_eof && r->zs.avail_in == 0 && had_in == 0)
      return is_zip ? fail(r,
                           "truncated or corrupt deflate data (the stream does "
                           "not end inside the member)")
                    : fail(r,
                           "truncated gzip data (the file ends inside the "
                           "compressed stream)");
  }
}

int i2v_reader_fill(i2v_reader *pub) {
  i2v_reader_impl *r = pub->impl;
  if (pub->state != 0) return pub->state < 0 ? -1 : 0;
  if (r->cancel && r->cancel(r->cancel_ctx)) {
    r->cancelled = 1;
    return fail(r, "interrupted");
  }
  if (pub->kind == I2V_SOURCE_PLAIN) return fill_plain(r);
  if (r->stream_done) {
    /* The stream ended on the previous call. */
    if (pub->kind == I2V_SOURCE_ZIP) return finish_zip_member(r);
    pub->state = 1;
    pub->pos = pub->end = NULL;
    return 0;
  }
  if (pub->kind == I2V_SOURCE_ZIP && r->method == 0) return fill_stored(r);
  return fill_inflate(r);
}

long i2v_reader_read(i2v_reader *r, void *buf, size_t n) {
  size_t got = 0;
  unsigned char *b = buf;
  if (n > (size_t)0x7fffffff) n = 0x7fffffff;
  while (got < n) {
    if (r->pos == r->end) {
      int f = i2v_reader_fill(r);
      if (f < 0) return -1;
      if (f == 0) break;
    }
    size_t k = (size_t)(r->end - r->pos);
    if (k > n - got) k = n - got;
    memcpy(b + got, r->pos, k);
    r->pos += k;
    got += k;
  }
  return (long)got;
}

const char *i2v_reader_errmsg(const i2v_reader *r) {
  return r->impl->err;
}

void i2v_reader_set_cancel(i2v_reader *r, int (*cancel)(void *ctx), void *ctx) {
  r->impl->cancel = cancel;
  r->impl->cancel_ctx = ctx;
}

int i2v_reader_cancelled(const i2v_reader *r) {
  return r->impl->cancelled;
}

const char *i2v_reader_member(const i2v_reader *r) {
  return r->impl->member ? r->impl->member : "";
}

void i2v_reader_close(i2v_reader *pub) {
  if (!pub) return;
  i2v_reader_impl *r = pub->impl;
  if (r->zs_init) inflateEnd(&r->zs);
  if (r->f) fclose(r->f);
  i2v_free(r->alloc, r->member);
  i2v_free(r->alloc, r);
}

/* ------------------------------------------------------------ zip archive */

static const char *method_name(unsigned m) {
  switch (m) {
    case 1:
      return "shrink";
    case 6:
      return "implode";
    case 9:
      return "deflate64";
    case 12:
      return "bzip2";
    case 14:
      return "LZMA";
    case 93:
      return "zstd";
    case 95:
      return "xz";
    case 98:
      return "PPMd";
    case 99:
      return "AES encryption";
    default:
      return "unknown";
  }
}

/* A central directory entry worth remembering. */
typedef struct zip_entry {
  uint16_t flags, method;
  uint32_t crc, csize, usize, local_off;
  char *name;
} zip_entry;

/* Names of the members, quoted and comma separated, cut at LIST_MAX. */
typedef struct name_list {
  char text[LIST_MAX + 8];
  size_t len;
  int cut;
} name_list;

static void list_add(name_list *l, const char *name, size_t n) {
  if (l->cut) return;
  if (l->len + n + 4 > LIST_MAX) {
    memcpy(l->text + l->len, l->len ? ", ..." : "...", l->len ? 6 : 4);
    l->len += l->len ? 5 : 3;
    l->cut = 1;
    return;
  }
  if (l->len) {
    memcpy(l->text + l->len, ", ", 2);
    l->len += 2;
  }
  memcpy(l->text + l->len, name, n);
  l->len += n;
  l->text[l->len] = 0;
}

static int keep_entry(i2v_reader_impl *r, zip_entry *e, const unsigned char *h, const char *name,
                      size_t n) {
  i2v_free(r->alloc, e->name);
  e->name = i2v_malloc(r->alloc, n + 1);
  if (!e->name) return I2V_NOMEM;
  memcpy(e->name, name, n);
  e->name[n] = 0;
  e->flags = get16(h + 8);
  e->method = get16(h + 10);
  e->crc = i2v_get_le32(h + 16);
  e->csize = i2v_get_le32(h + 20);
  e->usize = i2v_get_le32(h + 24);
  e->local_off = i2v_get_le32(h + 42);
  return I2V_OK;
}

/* The end-of-central-directory record: where the central directory is
** and how many entries it has.  I2V_OK, or I2V_ERROR / I2V_NOMEM with err. */
static int find_directory(i2v_reader_impl *r, off_t *size, uint32_t *cd_off, uint32_t *cd_size,
                          uint16_t *nentries, char *err, size_t errlen) {
  if (fseeko(r->f, 0, SEEK_END) != 0) {
    i2v_set_err(err, errlen, "cannot seek (%s)", strerror(errno));
    return I2V_ERROR;
  }
  *size = ftello(r->f);
  size_t ntail =
      *size < ZIP_EOCD_SIZE + ZIP_MAX_COMMENT ? (size_t)*size : ZIP_EOCD_SIZE + ZIP_MAX_COMMENT;
  unsigned char *tail = i2v_malloc(r->alloc, ntail);
  int rc = I2V_ERROR;
  if (!tail) {
    i2v_set_err(err, errlen, "out of memory");
    return I2V_NOMEM;
  }
  if (fseeko(r->f, *size - (off_t)ntail, SEEK_SET) != 0 || fread(tail, 1, ntail, r->f) != ntail) {
    i2v_set_err(err, errlen, "read error (%s)", strerror(errno));
    goto done;
  }
  long at = -1;
  for (long i = (long)ntail - ZIP_EOCD_SIZE; i >= 0; i--) {
    if (tail[i] == 'P' && tail[i + 1] == 'K' && tail[i + 2] == 5 && tail[i + 3] == 6 &&
        (size_t)i + ZIP_EOCD_SIZE + get16(tail + i + 20) <= ntail) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    i2v_set_err(err, errlen,
                "not a zip archive, or a truncated one (no end-of-central-directory "
                "record)");
    goto done;
  }
  const unsigned char *eocd = tail + at;
  uint64_t eocd_pos = (uint64_t)*size - ntail + (uint64_t)at;
  uint16_t disk = get16(eocd + 4), cd_disk = get16(eocd + 6);
  *nentries = get16(eocd + 10);
  *cd_size = i2v_get_le32(eocd + 12);
  *cd_off = i2v_get_le32(eocd + 16);
  if (*nentries == 0xffff || *cd_size == 0xffffffffu || *cd_off == 0xffffffffu) {
    i2v_set_err(err, errlen,
                "a zip64 archive, which is not supported (unzip it, or gzip the member "
                "instead)");
    goto done;
  }
  if (disk != 0 || cd_disk != 0) {
    i2v_set_err(err, errlen, "a multi-part zip archive, which is not supported");
    goto done;
  }
  if ((uint64_t)*cd_off + *cd_size > eocd_pos) {
    i2v_set_err(err, errlen, "a corrupt zip archive (its central directory lies outside the file)");
    goto done;
  }
  if (fseeko(r->f, (off_t)*cd_off, SEEK_SET) != 0) {
    i2v_set_err(err, errlen, "cannot seek (%s)", strerror(errno));
    goto done;
  }
  rc = I2V_OK;
done:
  i2v_free(r->alloc, tail);
  return rc;
}

/* What the central directory says about the member asked for (or, with
** none asked for, about the only file). */
typedef struct zip_matches {
  const char *member; /* asked for, or NULL */
  zip_entry exact, base, only;
  int nbase, nfiles;
  name_list list;
} zip_matches;

/* Read the nentries entries of the central directory (the file is at its
** start) into zm.  I2V_OK, or I2V_ERROR / I2V_NOMEM with err. */
static int scan_directory(i2v_reader_impl *r, uint16_t nentries, uint32_t cd_size, zip_matches *zm,
                          char *err, size_t errlen) {
  const char *member = zm->member;
  int want = member && *member;
  int want_has_slash = want && strchr(member, '/') != NULL;
  size_t want_len = want ? strlen(member) : 0;
  char *name = i2v_malloc(r->alloc, 65536);
  int rc = I2V_ERROR;
  if (!name) {
    i2v_set_err(err, errlen, "out of memory");
    return I2V_NOMEM;
  }
  uint64_t cd_left = cd_size;
  for (unsigned k = 0; k < nentries; k++) {
    unsigned char h[ZIP_CDH_SIZE];
    if (cd_left < ZIP_CDH_SIZE || fread(h, 1, ZIP_CDH_SIZE, r->f) != ZIP_CDH_SIZE ||
        i2v_get_le32(h) != 0x02014b50) {
      i2v_set_err(err, errlen,
                  "a corrupt zip archive (central directory entry %u of %u is damaged)", k + 1,
                  (unsigned)nentries);
      goto done;
    }
    size_t nlen = get16(h + 28), xlen = get16(h + 30), clen = get16(h + 32);
    cd_left -= ZIP_CDH_SIZE;
    if (cd_left < nlen + xlen + clen || fread(name, 1, nlen, r->f) != nlen) {
      i2v_set_err(err, errlen,
                  "a corrupt zip archive (central directory entry %u of %u is damaged)", k + 1,
                  (unsigned)nentries);
      goto done;
    }
    cd_left -= nlen + xlen + clen;
    if ((xlen + clen) && fseeko(r->f, (off_t)(xlen + clen), SEEK_CUR) != 0) {
      i2v_set_err(err, errlen, "cannot seek (%s)", strerror(errno));
      goto done;
    }
    name[nlen] = 0;
    if (nlen == 0 || name[nlen - 1] == '/') continue; /* a directory */
    if (memchr(name, 0, nlen)) continue;              /* not a usable name */
    zm->nfiles++;
    list_add(&zm->list, name, nlen);
    int krc = I2V_OK;
    if (!want) {
      if (zm->nfiles == 1) krc = keep_entry(r, &zm->only, h, name, nlen);
    } else if (nlen == want_len && memcmp(name, member, nlen) == 0) {
      if (!zm->exact.name) krc = keep_entry(r, &zm->exact, h, name, nlen);
    } else if (!want_has_slash && nlen > want_len && name[nlen - want_len - 1] == '/' &&
               memcmp(name + nlen - want_len, member, want_len) == 0) {
      if (++zm->nbase == 1) krc = keep_entry(r, &zm->base, h, name, nlen);
    }
    if (krc != I2V_OK) {
      rc = krc;
      i2v_set_err(err, errlen, "out of memory");
      goto done;
    }
  }
  rc = I2V_OK;
done:
  i2v_free(r->alloc, name);
  return rc;
}

/* The entry to read, or NULL with err saying why none is. */
static zip_entry *choose_entry(zip_matches *zm, char *err, size_t errlen) {
  const char *member = zm->member;
  if (!(member && *member)) {
    if (zm->nfiles == 1) return &zm->only;
    /* member NULL: the caller has no way to name one (item2vec_import). */
    if (!zm->nfiles)
      i2v_set_err(err, errlen, "an empty zip archive");
    else if (member)
      i2v_set_err(err, errlen, "a zip archive with %d members; name one with member=...: %s",
                  zm->nfiles, zm->list.text);
    else
      i2v_set_err(err, errlen,
                  "a zip archive with %d members (%s); only a zip of one file is read here: "
                  "extract the one you want, or gzip it",
                  zm->nfiles, zm->list.text);
    return NULL;
  }
  if (zm->exact.name) return &zm->exact;
  if (zm->nbase == 1) return &zm->base;
  if (zm->nbase > 1)
    i2v_set_err(err, errlen, "member '%s' matches %d members; give its full path: %s", member,
                zm->nbase, zm->list.text);
  else
    i2v_set_err(err, errlen, "no member '%s' in the archive; its members: %s", member,
                zm->nfiles ? zm->list.text : "none");
  return NULL;
}

/* Check entry e and set r up to read its data (the archive is size bytes).
** I2V_OK, or I2V_ERROR / I2V_NOMEM with err. */
static int open_entry(i2v_reader_impl *r, zip_entry *e, off_t size, char *err, size_t errlen) {
  if (e->flags & 1) {
    i2v_set_err(err, errlen, "member '%s' is encrypted, which is not supported", e->name);
    return I2V_ERROR;
  }
  if (e->csize == 0xffffffffu || e->usize == 0xffffffffu || e->local_off == 0xffffffffu) {
    i2v_set_err(err, errlen,
                "member '%s' is a zip64 entry (4 GiB or more), which is not supported; "
                "unzip it, or gzip it instead",
                e->name);
    return I2V_ERROR;
  }
  if (e->method != 0 && e->method != 8) {
    i2v_set_err(err, errlen,
                "member '%s' uses compression method %u (%s), which is not supported "
                "(only stored and deflated members are)",
                e->name, (unsigned)e->method, method_name(e->method));
    return I2V_ERROR;
  }
  if (e->method == 0 && e->csize != e->usize) {
    i2v_set_err(err, errlen,
                "a corrupt zip archive (stored member '%s' has different compressed and "
                "uncompressed sizes)",
                e->name);
    return I2V_ERROR;
  }
  unsigned char lh[ZIP_LFH_SIZE];
  if (fseeko(r->f, (off_t)e->local_off, SEEK_SET) != 0 ||
      fread(lh, 1, ZIP_LFH_SIZE, r->f) != ZIP_LFH_SIZE || i2v_get_le32(lh) != 0x04034b50) {
    i2v_set_err(err, errlen, "a corrupt zip archive (the local header of '%s' is damaged)",
                e->name);
    return I2V_ERROR;
  }
  uint64_t data = (uint64_t)e->local_off + ZIP_LFH_SIZE + get16(lh + 26) + get16(lh + 28);
  if (data + e->csize > (uint64_t)size) {
    i2v_set_err(err, errlen, "member '%s' is truncated (the archive ends inside its data)",
                e->name);
    return I2V_ERROR;
  }
  if (fseeko(r->f, (off_t)data, SEEK_SET) != 0) {
    i2v_set_err(err, errlen, "cannot seek (%s)", strerror(errno));
    return I2V_ERROR;
  }
  r->method = e->method;
  r->remaining = e->csize;
  r->expect_size = e->usize;
  r->expect_crc = e->crc;
  r->crc = (uint32_t)crc32(0, Z_NULL, 0);
  r->member = e->name;
  e->name = NULL;
  if (r->method == 8) {
    if (inflateInit2(&r->zs, -MAX_WBITS) != Z_OK) {
      i2v_set_err(err, errlen, "out of memory");
      return I2V_NOMEM;
    }
    r->zs_init = 1;
  }
  return I2V_OK;
}

static int zip_open(i2v_reader_impl *r, const char *member, char *err, size_t errlen) {
  zip_matches zm;
  off_t size = 0;
  uint32_t cd_off = 0, cd_size = 0;
  uint16_t nentries = 0;
  memset(&zm, 0, sizeof(zm));
  zm.member = member;
  int rc = find_directory(r, &size, &cd_off, &cd_size, &nentries, err, errlen);
  if (rc == I2V_OK) rc = scan_directory(r, nentries, cd_size, &zm, err, errlen);
  if (rc == I2V_OK) {
    zip_entry *e = choose_entry(&zm, err, errlen);
    rc = e ? open_entry(r, e, size, err, errlen) : I2V_ERROR;
  }
  i2v_free(r->alloc, zm.exact.name);
  i2v_free(r->alloc, zm.base.name);
  i2v_free(r->alloc, zm.only.name);
  return rc;
}

/* What a file that is not a regular file is, for messages. */
static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "something else";
}

int i2v_reader_open(const i2v_alloc *a, const char *path, const char *member, i2v_reader **out,
                    char *err, size_t errlen) {
  struct stat st;
  *out = NULL;
  /* Without blocking: open() of a FIFO with no writer waits for one. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    /* A socket cannot be opened at all: say what it is. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
      i2v_set_err(err, errlen, "not a regular file (it is %s); only regular files are read",
                  file_kind(st.st_mode));
      return I2V_ERROR;
    }
    i2v_set_err(err, errlen, "cannot open (%s)", strerror(e));
    return I2V_ERROR;
  }
  if (fstat(fd, &st) != 0) {
    i2v_set_err(err, errlen, "cannot open (%s)", strerror(errno));
    close(fd);
    return I2V_ERROR;
  }
  if (!S_ISREG(st.st_mode)) {
    i2v_set_err(err, errlen, "not a regular file (it is %s); only regular files are read",
                file_kind(st.st_mode));
    close(fd);
    return I2V_ERROR;
  }
  int flags = fcntl(fd, F_GETFL);
  FILE *f = flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 ? fdopen(fd, "rb") : NULL;
  if (!f) {
    i2v_set_err(err, errlen, "cannot open (%s)", strerror(errno));
    close(fd);
    return I2V_ERROR;
  }
  return i2v_reader_open_stream(a, f, path, member, out, err, errlen);
}

int i2v_reader_open_stream(const i2v_alloc *a, FILE *f, const char *path, const char *member,
                           i2v_reader **out, char *err, size_t errlen) {
  struct stat st;
  unsigned char magic[4] = {0};
  int rc = I2V_ERROR;
  *out = NULL;
  i2v_reader_impl *r = i2v_malloc(a, sizeof(*r));
  if (!r) {
    fclose(f);
    i2v_set_err(err, errlen, "out of memory");
    return I2V_NOMEM;
  }
  memset(r, 0, offsetof(i2v_reader_impl, in));
  r->alloc = a;
  r->pub.impl = r;
  r->zs.zalloc = z_alloc;
  r->zs.zfree = z_free;
  r->zs.opaque = (voidpf)(uintptr_t)a;
  r->f = f;
  int fd = fileno(f);
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    i2v_set_err(err, errlen, "cannot open (it is a directory)");
    goto fail;
  }
  size_t nmagic = fread(magic, 1, sizeof(magic), r->f);
  if (nmagic < sizeof(magic) && ferror(r->f)) {
    i2v_set_err(err, errlen, "read error (%s)", strerror(errno));
    goto fail;
  }
  int is_gzip = nmagic >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  int is_zip = nmagic >= 4 && magic[0] == 'P' && magic[1] == 'K' &&
               ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
  if (i2v_path_has_suffix(path, ".gz") && !is_gzip) {
    i2v_set_err(err, errlen, "not a gzip file (it does not start with the gzip signature 1f 8b)");
    goto fail;
  }
  if (i2v_path_has_suffix(path, ".zip") && !is_zip) {
    i2v_set_err(err, errlen, "not a zip archive (it does not start with a zip signature)");
    goto fail;
  }
  if (member && *member && !is_zip) {
    i2v_set_err(err, errlen, "not a zip archive, so member '%s' cannot be read from it", member);
    goto fail;
  }
  if (is_zip) {
    r->pub.kind = I2V_SOURCE_ZIP;
    rc = zip_open(r, member, err, errlen);
    if (rc != I2V_OK) goto fail;
  } else {
    if (fseeko(r->f, 0, SEEK_SET) != 0) {
      i2v_set_err(err, errlen, "cannot seek (%s)", strerror(errno));
      goto fail;
    }
    if (is_gzip) {
      r->pub.kind = I2V_SOURCE_GZIP;
      if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
        rc = I2V_NOMEM;
        i2v_set_err(err, errlen, "out of memory");
        goto fail;
      }
      r->zs_init = 1;
    }
  }
  *out = &r->pub;
  return I2V_OK;

fail:
  i2v_reader_close(&r->pub);
  return rc;
}

/* ---------------------------------------------------------------- writing */

struct i2v_writer {
  const i2v_alloc *alloc;
  FILE *f;
  char *path, *tmp;
  int gzip;
  z_stream zs;
  int zs_init;
  char err[ERRSIZE];
  unsigned char out[BUFSIZE];
};

static int w_fail(i2v_writer *w, const char *what) {
  snprintf(w->err, sizeof(w->err), "cannot write '%s' (%s)", w->path, what);
  return I2V_ERROR;
}

static int w_deflate(i2v_writer *w, int flush) {
  int ret;
  do {
    w->zs.next_out = w->out;
    w->zs.avail_out = BUFSIZE;
    ret = deflate(&w->zs, flush);
    if (ret == Z_STREAM_ERROR) return w_fail(w, "deflate failed");
    size_t n = BUFSIZE - w->zs.avail_out;
    if (n && fwrite(w->out, 1, n, w->f) != n) return w_fail(w, strerror(errno));
  } while (w->zs.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
  return I2V_OK;
}

/* 0 when path does not exist or is a regular file (or a symlink to one:
** the rename replaces the link, never what it points to); else -1 with
** the reason in err. */
static int check_destination(const char *path, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    if (errno == ENOENT) return 0; /* absent, or a dangling symlink */
    i2v_set_err(err, errlen, "cannot write '%s' (%s)", path, strerror(errno));
    return -1;
  }
  if (S_ISREG(st.st_mode)) return 0;
  i2v_set_err(err, errlen, "'%s' exists and is %s, not a regular file; choose another path", path,
              file_kind(st.st_mode));
  return -1;
}

/* Six letters and digits, unpredictable (core/random.c). */
static void random_suffix(char *out) {
  static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char r[6];
  i2v_random_bytes(r, sizeof(r));
  for (size_t i = 0; i < sizeof(r); i++) out[i] = chars[r[i] % (sizeof(chars) - 1)];
  out[sizeof(r)] = 0;
}

/* Create w->tmp: ".<name>.<random>.tmp" in path's directory, exclusively. */
static int create_temp(i2v_writer *w, char *err, size_t errlen) {
  const char *slash = strrchr(w->path, '/');
  size_t dirlen = slash ? (size_t)(slash - w->path) + 1 : 0;
  const char *base = w->path + dirlen;
  size_t baselen = strlen(base);
  if (baselen > 200) baselen = 200; /* room for the rest within NAME_MAX */
  w->tmp = i2v_malloc(w->alloc, dirlen + baselen + 16);
  if (!w->tmp) {
    i2v_set_err(err, errlen, "out of memory");
    return I2V_NOMEM;
  }
  for (int attempt = 0; attempt < 100; attempt++) {
    char suffix[8];
    random_suffix(suffix);
    snprintf(w->tmp, dirlen + baselen + 16, "%.*s.%.*s.%s.tmp", (int)dirlen, w->path, (int)baselen,
             base, suffix);
    /* O_EXCL: never an existing file, never through a symlink. */
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      i2v_set_err(err, errlen, "cannot create a temporary file next to '%s' (%s)", w->path,
                  strerror(errno));
      return I2V_ERROR;
    }
    w->f = fdopen(fd, "wb");
    if (!w->f) {
      i2v_set_err(err, errlen, "cannot write '%s' (%s)", w->path, strerror(errno));
      close(fd);
      remove(w->tmp);
      return I2V_ERROR;
    }
    return I2V_OK;
  }
  i2v_set_err(err, errlen, "cannot create a temporary file next to '%s' (no free name)", w->path);
  return I2V_ERROR;
}

int i2v_writer_open(const i2v_alloc *a, const char *path, int gzip, i2v_writer **out, char *err,
                    size_t errlen) {
  size_t n = strlen(path);
  *out = NULL;
  if (check_destination(path, err, errlen) != 0) return I2V_ERROR;
  i2v_writer *w = i2v_malloc(a, sizeof(*w));
  if (!w) {
    i2v_set_err(err, errlen, "out of memory");
    return I2V_NOMEM;
  }
  memset(w, 0, offsetof(i2v_writer, out));
  w->alloc = a;
  w->gzip = gzip;
  w->path = i2v_malloc(a, n + 1);
  if (!w->path) {
    i2v_writer_abort(w);
    i2v_set_err(err, errlen, "out of memory");
    return I2V_NOMEM;
  }
  memcpy(w->path, path, n + 1);
  if (gzip) {
    w->zs.zalloc = z_alloc;
    w->zs.zfree = z_free;
    w->zs.opaque = (voidpf)(uintptr_t)a;
    if (deflateInit2(&w->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      i2v_writer_abort(w);
      i2v_set_err(err, errlen, "out of memory");
      return I2V_NOMEM;
    }
    w->zs_init = 1;
  }
  int rc = create_temp(w, err, errlen);
  if (rc != I2V_OK) {
    i2v_writer_abort(w);
    return rc;
  }
  *out = w;
  return I2V_OK;
}

int i2v_writer_write(i2v_writer *w, const void *buf, size_t n) {
  if (!w->gzip) {
    if (n && fwrite(buf, 1, n, w->f) != n) return w_fail(w, strerror(errno));
    return I2V_OK;
  }
  const unsigned char *p = buf;
  while (n > 0) {
    uInt k = n > 0x40000000u ? 0x40000000u : (uInt)n;
    w->zs.next_in = (unsigned char *)(uintptr_t)p;
    w->zs.avail_in = k;
    if (w_deflate(w, Z_NO_FLUSH) != I2V_OK) return I2V_ERROR;
    p += k;
    n -= k;
  }
  return I2V_OK;
}

const char *i2v_writer_errmsg(const i2v_writer *w) {
  return w->err;
}

void i2v_writer_abort(i2v_writer *w) {
  if (!w) return;
  if (w->f) {
    fclose(w->f);
    remove(w->tmp);
  }
  if (w->zs_init) deflateEnd(&w->zs);
  i2v_free(w->alloc, w->path);
  i2v_free(w->alloc, w->tmp);
  i2v_free(w->alloc, w);
}

/* Make a rename in path's directory durable (best effort). */
static void sync_directory(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash)
    snprintf(dir, sizeof(dir), ".");
  else if (slash == path)
    snprintf(dir, sizeof(dir), "/");
  else if ((size_t)(slash - path) < sizeof(dir))
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
  else
    return;
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}

int i2v_writer_finish(i2v_writer *w, char *err, size_t errlen) {
  int rc = I2V_OK;
  if (w->gzip) {
    w->zs.next_in = NULL;
    w->zs.avail_in = 0;
    rc = w_deflate(w, Z_FINISH);
  }
  if (rc == I2V_OK && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0))
    rc = w_fail(w, strerror(errno));
  if (rc != I2V_OK) {
    i2v_set_err(err, errlen, "%s", w->err);
    i2v_writer_abort(w);
    return rc;
  }
  int closed = fclose(w->f);
  w->f = NULL;
  if (closed != 0) {
    i2v_set_err(err, errlen, "cannot write '%s' (%s)", w->path, strerror(errno));
    remove(w->tmp);
    i2v_writer_abort(w);
    return I2V_ERROR;
  }
  /* Again: the path may have been replaced by a device or a directory
  ** while the file was written. */
  if (check_destination(w->path, err, errlen) != 0) {
    remove(w->tmp);
    i2v_writer_abort(w);
    return I2V_ERROR;
  }
  if (rename(w->tmp, w->path) != 0) {
    i2v_set_err(err, errlen, "cannot replace '%s' (%s)", w->path, strerror(errno));
    remove(w->tmp);
    i2v_writer_abort(w);
    return I2V_ERROR;
  }
  sync_directory(w->path);
  i2v_writer_abort(w);
  return I2V_OK;
}
