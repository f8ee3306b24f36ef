#!/usr/bin/python3
"""Fuzz-style robustness of the file readers: item2vec_csv over plain, gzip
and zip files, and item2vec_import over word2vec text, binary and gzip
files, fed truncated, bit-flipped, spliced and random versions of valid
files.  Every case must end in rows or in an error that names the function
(never a crash, a hang, or an anonymous error).

The cases run in a child process, so a crash is caught and the file that
caused it is kept and named.  I2V_FUZZ_CASES (default 150 per seed file)
sets how many mutations each seed file gets; I2V_FUZZ_SEED the random seed.
Run it under the ASan build (make test-asan) to catch memory errors too.
"""
import gzip
import io
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zipfile

LIB = os.environ.get("I2V_LIB", "./item2vec")
NAME = "readers_fuzz"
CASES = int(os.environ.get("I2V_FUZZ_CASES", "150"))
SEED = int(os.environ.get("I2V_FUZZ_SEED", "20261129"))


def seeds():
    """Small valid files of every kind the readers take: name -> bytes."""
    rnd = random.Random(1)
    csv = ["userId,movieId,rating,title\r\n"]
    for i in range(40):
        title = rnd.choice(['"A, B (1999)"', '"say ""hi"""', '"two\nlines"', "plain", ""])
        csv.append(f"{rnd.randint(1, 9)},{rnd.randint(1, 99)},{rnd.choice(['4.5', '3', '1e2'])},{title}\r\n")
    csv = "".join(csv).encode()
    out = {"s.csv": b"\xef\xbb\xbf" + csv, "s.csv.gz": gzip.compress(csv, mtime=0)}
    for name, method in (("s_deflated.zip", zipfile.ZIP_DEFLATED), ("s_stored.zip", zipfile.ZIP_STORED)):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", method) as z:
            z.writestr("d/readme.txt", "hello\n")
            z.writestr("d/s.csv", csv)
        out[name] = b.getvalue()
    dim = 5
    words = [str(i) for i in range(1, 30)] + ["x", "café"]
    text = [f"{len(words)} {dim}\n"]
    binary = [f"{len(words)} {dim}\n".encode()]
    for w in words:
        v = [rnd.gauss(0, 1) for _ in range(dim)]
        text.append(w + " " + " ".join(f"{x:.6g}" for x in v) + "\n")
        binary.append(w.encode() + b" " + struct.pack(f"<{dim}f", *v) + b"\n")
    out["w.txt"] = "".join(text).encode()
    out["w.bin"] = b"".join(binary)
    out["w.txt.gz"] = gzip.compress(out["w.txt"], mtime=0)
    out["w.bin.gz"] = gzip.compress(out["w.bin"], mtime=0)
    return out


def mutate(data, rnd):
    kind = rnd.randrange(7)
    b = bytearray(data)
    if kind == 0 and b:  # truncate
        return bytes(b[:rnd.randrange(len(b))])
    if kind == 1 and b:  # flip bits
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        return bytes(b)
    if kind == 2 and b:  # overwrite with special bytes
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.choice(b'\x00\xff\x7f\x80"\n\r, PK\x1f\x8b')
        return bytes(b)
    if kind == 3 and b:  # delete or duplicate a range
        i = rnd.randrange(len(b))
        j = min(len(b), i + rnd.randint(1, 64))
        return bytes(b[:i] + b[j:]) if rnd.random() < 0.5 else bytes(b[:j] + b[i:])
    if kind == 4:  # keep the first bytes (the magic), then noise
        k = rnd.randint(0, min(len(b), 40))
        return bytes(b[:k]) + rnd.randbytes(rnd.randint(0, 600))
    if kind == 5 and len(b) > 30:  # overwrite a 32-bit field with an extreme value
        i = rnd.randrange(len(b) - 4)
        struct.pack_into("<I", b, i, rnd.choice([0, 1, 0x7fffffff, 0xffffffff, 0xfffffffe, len(b)]))
        return bytes(b)
    return rnd.randbytes(rnd.randint(0, 300))


def child(listing):
    """Run every case in listing (lines 'kind path'); print each before it."""
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(LIB)
    db.text_factory = bytes  # mutated files hold bytes that are not UTF-8
    bad = 0
    for n, line in enumerate(open(listing)):
        kind, path = line.split(" ", 1)
        path = path.strip()
        print(f"case {path}", flush=True)
        try:
            if kind == "csv":
                member = ", member='s.csv'" if path.endswith(".zip") and n % 2 else ""
                db.execute(f"CREATE VIRTUAL TABLE temp.t USING item2vec_csv(path='{path}'{member})")
                try:
                    db.execute("SELECT * FROM temp.t").fetchall()
                    db.execute("SELECT count(*) FROM temp.t").fetchall()  # a second scan
                finally:
                    db.execute("DROP TABLE temp.t")
            else:
                opt = "binary=1" if ".bin" in path else "binary=0"
                db.execute("SELECT item2vec_import(?, 'fuzz', ?)", (path, opt)).fetchone()
        except sqlite3.Error as e:
            msg = str(e)
            want = "item2vec_csv: " if kind == "csv" else "item2vec_import: "
            if not msg.startswith(want) or "out of memory" in msg:
                bad += 1
                print(f"BAD {path}: {msg}", flush=True)
    db.close()
    print("done", flush=True)
    sys.exit(1 if bad else 0)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    rnd = random.Random(SEED)
    tmp = tempfile.mkdtemp(prefix="i2v_fuzz_")
    failed = False
    try:
        listing = os.path.join(tmp, "cases.txt")
        count = 0
        with open(listing, "w") as lst:
            for name, data in seeds().items():
                kind = "w2v" if name.startswith("w.") else "csv"
                for i in range(CASES):
                    path = os.path.join(tmp, f"{i:04d}_{name}")
                    with open(path, "wb") as f:
                        f.write(mutate(data, rnd))
                    lst.write(f"{kind} {path}\n")
                    count += 1
        try:
            proc = subprocess.run([sys.executable, __file__, "--child", listing],
                                  capture_output=True, text=True, timeout=300,
                                  errors="replace")
            out, code = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            code = "timeout"
        lines = out.splitlines()
        bad = [ln for ln in lines if ln.startswith("BAD ")]
        done = "done" in lines
        last = next((ln[5:] for ln in reversed(lines) if ln.startswith("case ")), "?")
        if not done:
            failed = True
            keep = os.path.join(os.getcwd(), "tests", "out", "fuzz_crash_" + os.path.basename(last))
            try:
                shutil.copy(last, keep)
            except OSError:
                keep = last
            print(f"not ok - {NAME}/no crash: the child ended with {code} on {keep}")
            print(proc.stderr[-2000:] if code != "timeout" else "")
        else:
            print(f"ok - {NAME}/no crash or hang in {count} mutated files")
        if bad:
            failed = True
            print(f"not ok - {NAME}/errors name the function: {len(bad)} did not, e.g. {bad[0]}")
        elif done:
            print(f"ok - {NAME}/every error names the function")
    finally:
        if not failed:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
