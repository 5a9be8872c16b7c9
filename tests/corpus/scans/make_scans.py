#!/usr/bin/python3
"""Renders the test scans of tests/corpus/scans/ from their known text.

Every fixture is made at test time from a NAME.txt (pages split by a form
feed line), with Python's standard library and the Debian tools the product
already needs (poppler-utils, libtiff-tools) plus a CJK font for poppler to
render with (fonts-wqy-microhei):

  text-pdf   a PDF with a text layer in a standard Chinese font that is not
             embedded (STSong-Light, UniGB-UCS2-H): pdftotext needs poppler-data
  image-pdf  the same pages rendered at 300 dpi greyscale, slightly skewed,
             with speckle noise, embedded as images: no text layer
  png, jpeg  page 1 rendered at 300 dpi greyscale
  fax-g4, fax-g3  1-bit 204x196 dpi multi-page TIFF, CCITT G4 / G3 (2-D)
  docx       a minimal Word document, one w:p per line

usage: make_scans.py KIND SRC.txt OUT [--skew DEG] [--noise PERMILLE] [--seed N]
"""
import argparse
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib


def pages_of(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [p.strip("\n").split("\n") for p in text.split("\f\n")]


def pdf_objects(objs):
    """Serialises numbered objects (1-based list of bytes) into a PDF file."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def stream(dict_entries, data):
    return b"<< %s /Length %d >>\nstream\n" % (dict_entries, len(data)) + data + b"\nendstream"


def ucs2_hex(line):
    return "".join("%04X" % ord(c) for c in line if ord(c) < 0x10000).encode()


def pdf_literal(s):
    return s.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def show_line(line):
    """Text operators for one line: ASCII runs in Helvetica (F2), the rest in
    the Chinese font (F1), so that Latin letters get their real widths."""
    ops = []
    for run in re.findall(r"[\x20-\x7e]+|[^\x20-\x7e]+", line):
        if run[0] <= "~":
            ops.append(b"/F2 15 Tf (%s) Tj" % pdf_literal(run))
        else:
            ops.append(b"/F1 15 Tf <%s> Tj" % ucs2_hex(run))
    return b" ".join(ops)


def text_content(lines, skew_deg):
    import math
    a = math.radians(skew_deg)
    c, s = math.cos(a), math.sin(a)
    # Rotate the page content about its centre.
    cx, cy = 297.5, 421.0
    tx = cx - c * cx + s * cy
    ty = cy - s * cx - c * cy
    ops = [b"q %.5f %.5f %.5f %.5f %.3f %.3f cm" % (c, s, -s, c, tx, ty), b"BT /F1 15 Tf 24 TL 72 770 Td"]
    for line in lines:
        ops.append(show_line(line) + b" T*")
    ops.append(b"ET Q")
    return b"\n".join(ops)


def text_pdf(pages, skew_deg=0.0):
    n = len(pages)
    # 1 catalog, 2 pages, 3 font, 4 cid font, 5 descriptor, then page + content pairs.
    kids = b" ".join(b"%d 0 R" % (6 + 2 * i) for i in range(n))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
        b" /DescendantFonts [4 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >>"
        b" /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6"
        b" /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120"
        b" /CapHeight 880 /StemV 93 >>",
    ]
    for i, lines in enumerate(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
                    b" /Resources << /Font << /F1 3 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
                    % (6 + 2 * n, 7 + 2 * i))
        objs.append(stream(b"", text_content(lines, skew_deg)))
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    return pdf_objects(objs)


def read_pnm(path):
    """Reads a binary PGM (P5) or PBM (P4); returns (kind, w, h, data)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    need = 3 if data[:2] == b"P4" else 4
    while len(fields) < need:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    return fields[0], int(fields[1]), int(fields[2]), bytearray(data[pos:])


def add_noise(pix, permille, seed):
    rnd = random.Random(seed)
    n = len(pix) * permille // 1000
    for _ in range(n):
        i = rnd.randrange(len(pix))
        pix[i] = 0 if rnd.random() < 0.5 else 255
    # A light uneven background, as paper gives.
    for i in range(0, len(pix), 7):
        if pix[i] > 200:
            pix[i] = 230 + rnd.randrange(26)


def render(pdf_path, prefix, args):
    subprocess.run(["pdftoppm"] + args + [pdf_path, prefix], check=True)
    d = os.path.dirname(prefix)
    base = os.path.basename(prefix)
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith(base + "-"))


def image_pdf(pages, tmp, skew, noise, seed):
    src = os.path.join(tmp, "src.pdf")
    with open(src, "wb") as f:
        f.write(text_pdf(pages, skew))
    imgs = render(src, os.path.join(tmp, "p"), ["-r", "300", "-gray"])
    n = len(imgs)
    kids = b" ".join(b"%d 0 R" % (3 + 3 * i) for i in range(n))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)]
    for i, path in enumerate(imgs):
        _, w, h, pix = read_pnm(path)
        add_noise(pix, noise, seed + i)
        base = 3 + 3 * i
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
                    b" /Resources << /XObject << /Im1 %d 0 R >> >> /Contents %d 0 R >>"
                    % (base + 1, base + 2))
        objs.append(stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d"
                           b" /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
                           % (w, h), zlib.compress(bytes(pix), 6)))
        objs.append(stream(b"", b"q 595 0 0 842 0 0 cm /Im1 Do Q"))
    return pdf_objects(objs)


def fax_tiff(pages, tmp, out, compression):
    src = os.path.join(tmp, "src.pdf")
    with open(src, "wb") as f:
        f.write(text_pdf(pages, 0.3))
    pbms = render(src, os.path.join(tmp, "f"), ["-rx", "204", "-ry", "196", "-mono"])
    tifs = []
    for i, pbm in enumerate(pbms):
        t = os.path.join(tmp, "f%03d.tif" % i)
        subprocess.run(["ppm2tiff", "-R", "204x196", "-c", "none", pbm, t], check=True)
        tifs.append(t)
    subprocess.run(["tiffcp", "-c", compression] + tifs + [out], check=True)


def docx(pages, out):
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    def esc(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    paras = []
    for lines in pages:
        for line in lines:
            # Split each line into two runs so that run joining is exercised.
            h = len(line) // 2
            paras.append('<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r>'
                         '<w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>' % (esc(line[:h]), esc(line[h:])))
    body = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="%s"><w:body>%s<w:sectPr/></w:body></w:document>' % (ns, "".join(paras)))
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/word/document.xml" ContentType="application/'
          'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["text-pdf", "image-pdf", "png", "jpeg", "fax-g4", "fax-g3", "docx"])
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("--skew", type=float, default=0.6)
    p.add_argument("--noise", type=int, default=3, help="speckled pixels per thousand")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    pages = pages_of(a.src)
    tmp = tempfile.mkdtemp(prefix="make_scans.")
    try:
        if a.kind == "text-pdf":
            with open(a.out, "wb") as f:
                f.write(text_pdf(pages, 0.0))
        elif a.kind == "image-pdf":
            with open(a.out, "wb") as f:
                f.write(image_pdf(pages, tmp, a.skew, a.noise, a.seed))
        elif a.kind in ("png", "jpeg"):
            src = os.path.join(tmp, "src.pdf")
            with open(src, "wb") as f:
                f.write(text_pdf(pages[:1], a.skew))
            imgs = render(src, os.path.join(tmp, "i"), ["-r", "300", "-gray", "-" + a.kind])
            shutil.copyfile(imgs[0], a.out)
        elif a.kind in ("fax-g4", "fax-g3"):
            fax_tiff(pages, tmp, a.out, "g4" if a.kind == "fax-g4" else "g3:2d")
        else:
            docx(pages, a.out)
    finally:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
