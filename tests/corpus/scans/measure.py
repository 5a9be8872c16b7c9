#!/usr/bin/python3
"""Measures the OCR path of `intake parse --channel letter|fax`: character
error rate (CER) against the known text and the share of account numbers
extracted exactly, on renderings of the letters of this folder (clean and
noisy, greyscale 300 dpi and 1-bit fax), and CER on the peer scans of
../shared/corpora/scans with their ground truth. Prints one table.

usage: measure.py INTAKE WORKDIR [--variants N] [--corpora DIR]
(WORKDIR gets a configuration and the renderings; nothing is stored.)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))


def norm(s):
    """NFKC (full-width punctuation and digits to ASCII), no blanks."""
    s = unicodedata.normalize("NFKC", s)
    return re.sub(r"\s+", "", s)


def levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(truth, got):
    t, g = norm(truth), norm(got)
    return levenshtein(t, g) / max(1, len(t))


def parse(intake, conf, channel, path):
    t0 = time.time()
    out = subprocess.run([intake, "-c", conf, "parse", "--json", "--channel", channel, path],
                         capture_output=True, text=True)
    secs = time.time() - t0
    if out.returncode != 0:
        return None, secs, out.stderr.strip()
    return json.loads(out.stdout), secs, ""


def render(kind, src, out, extra):
    subprocess.run([sys.executable, os.path.join(HERE, "make_scans.py"), kind, src, out] + extra,
                   check=True, capture_output=True)


def letters(intake, conf, work, variants):
    rows = []
    cases = [("letter1", "letter"), ("letter2", "letter"), ("fax1", "fax")]
    kinds = [("png", "clean", ["--skew", "0", "--noise", "0"]),
             ("png", "skewed", ["--skew", "0.8"]),
             ("image-pdf", "noisy", ["--noise", "8", "--skew", "1.0"]),
             ("fax-g4", "fax", []),
             ("fax-g3", "fax", [])]
    for name, channel in cases:
        src = os.path.join(HERE, name + ".txt")
        pages = open(src, encoding="utf-8").read().split("\f\n")
        exp = json.load(open(os.path.join(HERE, name + ".expected.json"), encoding="utf-8"))
        for kind, label, extra in kinds:
            for seed in range(variants if label == "noisy" else 1):
                out = os.path.join(work, "%s-%s-%s-%d.%s" % (name, kind, label, seed,
                                   "pdf" if "pdf" in kind else "tif" if "fax" in kind else "png"))
                render(kind, src, out, extra + ["--seed", str(seed + 1)])
                d, secs, err = parse(intake, conf, channel, out)
                if d is None:
                    rows.append((name, kind, label, None, False, secs, 0, err))
                    continue
                accs = [a["value"] for a in d["accounts"]]
                # A PNG is page 1 only; the account is on page 1 of every letter.
                truth = pages[0] if kind == "png" else "".join(pages)
                rows.append((name, kind, label, cer(truth, d["text"]), accs == exp["accounts"],
                             secs, d["ocr"]["pages"], ""))
    return rows


def corpora(intake, conf, base):
    pages = [
        ("tesseract-ocr_test/testing/phototest.tif", "tesseract-ocr_test/testing/phototest.txt"),
        ("tesseract-ocr_test/testing/eurotext.tif", "tesseract-ocr_test/testing/eurotext.txt"),
        ("tesseract-ocr_test/testing/8071_093.3B.tif", "tesseract-ocr_test/testing/8071_093.3B.txt"),
        ("tesseract-ocr_test/testing/8087_054.3B.tif", "tesseract-ocr_test/testing/8087_054.3B.txt"),
        ("ocrmypdf/tests/resources/linn.png", "ocrmypdf/tests/resources/linn.txt"),
        ("ocrmypdf/tests/resources/ccitt.pdf", "ocrmypdf/tests/resources/linn.txt"),
        ("tesseract.js/tests/assets/images/testocr.png", "tesseract.js/tests/assets/images/testocr.expected.txt"),
    ]
    rows = []
    for img, gt in pages:
        ip, gp = os.path.join(base, img), os.path.join(base, gt)
        if not (os.path.exists(ip) and os.path.exists(gp)):
            continue
        d, secs, err = parse(intake, conf, "letter", ip)
        truth = open(gp, encoding="utf-8", errors="replace").read()
        if d is None:
            rows.append((img, None, secs, err))
            continue
        # UNLV truth covers the zoned text only: score recall of its words.
        c = cer(truth, d["text"]) if "3B" not in img else None
        words = [w for w in re.findall(r"\w+", truth.lower()) if len(w) > 2]
        got = set(re.findall(r"\w+", d["text"].lower()))
        recall = sum(w in got for w in words) / max(1, len(words))
        rows.append((img, c, secs, "word recall %.1f%%" % (100 * recall)))
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("intake")
    p.add_argument("work")
    p.add_argument("--variants", type=int, default=3)
    p.add_argument("--corpora", default=os.path.join(HERE, "../../../../shared/corpora/scans"))
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    conf = os.path.join(a.work, "intake.conf")
    top = os.path.abspath(os.path.join(HERE, "../../.."))
    with open(conf, "w") as f:
        f.write("[store]\npath = var/intake.db\nspool = var/spool\n[calendar]\nfile = %s/config/calendar/cn.conf\n" % top)
    rows = letters(a.intake, conf, a.work, a.variants)
    print("%-8s %-9s %-7s %7s %8s %6s %6s" % ("letter", "kind", "variant", "CER", "account", "pages", "s"))
    n_pages = sum(r[6] for r in rows)
    total_s = sum(r[5] for r in rows)
    for r in rows:
        print("%-8s %-9s %-7s %7s %8s %6d %6.2f %s" % (r[0], r[1], r[2], "-" if r[3] is None else "%.2f%%" % (100 * r[3]),
                                                    "exact" if r[4] else "WRONG", r[6], r[5], r[7]))
    for label in ("clean", "skewed", "noisy", "fax"):
        sel = [r for r in rows if r[2] == label]
        if sel:
            ok = sum(1 for r in sel if r[4])
            cers = [r[3] for r in sel if r[3] is not None]
            print("# %-7s accounts exact %d/%d (%.0f%%), mean CER %.2f%%" % (
                label, ok, len(sel), 100.0 * ok / len(sel), 100 * sum(cers) / max(1, len(cers))))
    print("# %d pages in %.1f s: %.1f pages/minute (one process per document, OMP_THREAD_LIMIT=1)"
          % (n_pages, total_s, 60 * n_pages / max(0.001, total_s)))
    if os.path.isdir(a.corpora):
        print("\n%-50s %7s %6s" % ("peer scan", "CER", "s"))
        for img, c, secs, note in corpora(a.intake, conf, a.corpora):
            print("%-50s %7s %6.2f %s" % (img, "-" if c is None else "%.1f%%" % (100 * c), secs, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
