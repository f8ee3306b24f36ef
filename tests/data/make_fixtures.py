#!/usr/bin/env python3
"""Writes the small synthetic fixtures of the item2vec_csv tests into
tests/data/ (run it again after changing it; the files are committed).

Everything here is made up: a few users rating a few movies, with titles
that need RFC 4180 quoting.  The compressed and damaged variants are built
byte by byte so each error case is exactly one defect:

  ratings.csv            plain CSV, LF line ends
  ratings.csv.gz         the same, gzip
  ratings_2members.csv.gz  the same split into two concatenated gzip members
  small.zip              deflated members small/ratings.csv, small/movies.csv,
                         small/README.txt and a directory entry small/
  stored.zip             the same members, stored (no compression)
  one.zip                a single member, ratings.csv
  bad_crc.zip            small.zip with the CRC of small/ratings.csv changed
  encrypted.zip          small.zip with ratings.csv flagged as encrypted
  zip64.zip              small.zip with ratings.csv's sizes set to 0xFFFFFFFF
  bzip2.zip              small.zip with ratings.csv's method set to 12 (bzip2)
  truncated.zip          the first 60% of small.zip
  corrupt.csv.gz         ratings.csv.gz with one byte of deflate data changed
  truncated.csv.gz       the first half of ratings.csv.gz
  bad_length.csv.gz      ratings.csv.gz whose trailer has the wrong length
  notgzip.csv.gz         plain text under a .gz name
  notzip.zip             plain text under a .zip name
  playlists.txt          item2vec_lines' input: two '#' header lines, then one
                         playlist of song ids per line (three tastes), with
                         a blank line and trailing spaces
  playlists.txt.gz       the same, gzip
  playlists.zip          members yes/train.txt (the playlists) and
                         yes/song_hash.txt (id, title, artist; tab-separated)
"""
import gzip
import io
import os
import random
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DATE = (2020, 1, 1, 0, 0, 0)


def ratings_csv():
    rnd = random.Random(5)
    lines = ["userId,movieId,rating,timestamp"]
    t = 1000000000
    for user in range(1, 13):
        group = user % 3  # three tastes: movies 1-6, 7-12, 13-18
        for _ in range(8):
            movie = group * 6 + rnd.randint(1, 6)
            t += rnd.randint(1, 5000)
            lines.append(f"{user},{movie},{rnd.choice(['3.5', '4.0', '5.0', '4.5'])},{t}")
    return ("\n".join(lines) + "\n").encode()


MOVIES = (
    'movieId,title,genres\n'
    '1,Toy Box (1995),Animation|Children\n'
    '2,"American Senator, The (1995)",Comedy|Drama\n'
    '3,"The ""Quoted"" Movie (2001)",Comedy\n'
    '4,"Two\nLines (1999)",Drama\n'
    '5,Caf\xe9 (2005),Drama\n'
).encode()

README = b"Synthetic data for item2vec's tests.\n"


def playlists_txt():
    """Songs 1-30 in three tastes (song % 3); each playlist keeps to one."""
    rnd = random.Random(7)
    lines = ["#song ids: 1-30, three tastes", "#one playlist per line"]
    for p in range(60):
        taste = p % 3
        songs = [3 * rnd.randint(0, 9) + taste + 1 for _ in range(rnd.randint(4, 9))]
        lines.append(" ".join(map(str, songs)) + " ")  # a trailing space, as yes.com's files
        if p == 30:
            lines.append("")
    return ("\n".join(lines) + "\n").encode()


def song_hash():
    return "".join("%d\tSong %d\tArtist %s\n" % (i, i, "ABC"[(i - 1) % 3])
                   for i in range(1, 31)).encode()


def gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as f:
        f.write(data)
    return out.getvalue()


def make_zip(members, method):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = method
            info.external_attr = (0o40755 << 16 | 0x10) if name.endswith("/") else 0o644 << 16
            z.writestr(info, data)
    return out.getvalue()


def patch_central(data, member, fn):
    """Apply fn(bytearray, offset of the central directory header) to member's
    central directory entry (and return the new archive)."""
    b = bytearray(data)
    i = b.rfind(b"PK\x05\x06")
    cd_off = struct.unpack_from("<I", b, i + 16)[0]
    p = cd_off
    while b[p:p + 4] == b"PK\x01\x02":
        nlen, xlen, clen = struct.unpack_from("<HHH", b, p + 28)
        name = bytes(b[p + 46:p + 46 + nlen]).decode()
        if name == member:
            fn(b, p)
        p += 46 + nlen + xlen + clen
    return bytes(b)


def main():
    ratings = ratings_csv()
    files = {}
    files["ratings.csv"] = ratings
    files["ratings.csv.gz"] = gz(ratings)
    half = ratings.index(b"\n", len(ratings) // 2) + 1
    files["ratings_2members.csv.gz"] = gz(ratings[:half]) + gz(ratings[half:])
    members = [("small/", b""), ("small/README.txt", README), ("small/ratings.csv", ratings),
               ("small/movies.csv", MOVIES)]
    small = make_zip(members, zipfile.ZIP_DEFLATED)
    files["small.zip"] = small
    files["stored.zip"] = make_zip(members, zipfile.ZIP_STORED)
    files["one.zip"] = make_zip([("ratings.csv", ratings)], zipfile.ZIP_DEFLATED)
    files["bad_crc.zip"] = patch_central(
        small, "small/ratings.csv", lambda b, p: struct.pack_into("<I", b, p + 16, 0x12345678))
    files["encrypted.zip"] = patch_central(
        small, "small/ratings.csv", lambda b, p: struct.pack_into("<H", b, p + 8, 1))
    files["zip64.zip"] = patch_central(
        small, "small/ratings.csv",
        lambda b, p: struct.pack_into("<II", b, p + 20, 0xFFFFFFFF, 0xFFFFFFFF))
    files["bzip2.zip"] = patch_central(
        small, "small/ratings.csv", lambda b, p: struct.pack_into("<H", b, p + 10, 12))
    files["truncated.zip"] = small[: len(small) * 6 // 10]
    g = bytearray(files["ratings.csv.gz"])
    g[len(g) // 2] ^= 0x55
    files["corrupt.csv.gz"] = bytes(g)
    files["truncated.csv.gz"] = files["ratings.csv.gz"][: len(files["ratings.csv.gz"]) // 2]
    g = bytearray(files["ratings.csv.gz"])
    struct.pack_into("<I", g, len(g) - 4, len(ratings) + 1)
    files["bad_length.csv.gz"] = bytes(g)
    files["notgzip.csv.gz"] = b"userId,movieId\n1,2\n"
    files["notzip.zip"] = b"userId,movieId\n1,2\n"
    playlists = playlists_txt()
    files["playlists.txt"] = playlists
    files["playlists.txt.gz"] = gz(playlists)
    files["playlists.zip"] = make_zip([("yes/train.txt", playlists),
                                       ("yes/song_hash.txt", song_hash())], zipfile.ZIP_DEFLATED)
    for name, data in files.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    # Sanity: the damaged files really are damaged the way they say.
    assert zlib.decompress(files["ratings.csv.gz"], 31) == ratings


if __name__ == "__main__":
    main()
