#!/usr/bin/python3
# Generates the labelled complaint e-mail corpus in this folder: NNN-name.eml
# (raw bytes as real mailers write them) and NNN-name.expected.json (what
# `intake parse --json` must find).  Seeded and deterministic; standard
# library only.  Run: /usr/bin/python3 tests/corpus/email/make_corpus.py
#
# Everything here is fictitious: people, firms, account, phone and ID
# numbers (IDs use real area codes such as 110101 with made-up birth dates
# and a correct check character).  Messages are assembled byte by byte, not
# through the email package, so that headers, folding, encodings and
# charsets come out the way Foxmail, QQ Mail, Outlook, Thunderbird, Apple
# Mail, Coremail webmail and MTAs actually write them.

import base64
import datetime
import io
import json
import os
import random
import struct
import sys
import zipfile
import zlib
from urllib.parse import quote

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
SEED = 20261120
CRLF = b"\r\n"
MAILBOX = "ts@hxqh-demo.cn"
OUR_DOMAIN = "hxqh-demo.cn"
FIRM = "华兴启航证券"
FIRM_FUT = "华兴启航期货"
MX = "mx1.hxqh-demo.cn"
TZ8 = datetime.timezone(datetime.timedelta(hours=8))

R = random.Random(SEED)

# Python codec used for each charset label as written in mail.  gb2312 is
# read as GBK/GB18030 on purpose: mailers label GBK text "gb2312".
CODEC = {
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030",
    "utf-8": "utf-8", "big5": "big5", "iso-8859-1": "latin-1",
    "us-ascii": "ascii", "windows-1252": "cp1252",
}


def codec(label):
    return CODEC[label.lower()]


def enc(text, label):
    """Text with LF line ends -> bytes with CRLF in the given charset."""
    return text.replace("\n", "\r\n").encode(codec(label))


# ---------------------------------------------------------------- encodings

def b64_body(data, width=76):
    s = base64.b64encode(data).decode("ascii")
    lines = [s[i:i + width] for i in range(0, len(s), width)] or [""]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def b64_chunked_body(data, chunk=57):
    """Each input chunk encoded and padded separately (legacy webmail)."""
    out = []
    for i in range(0, len(data), chunk):
        out.append(base64.b64encode(data[i:i + chunk]).decode("ascii"))
    return ("\r\n".join(out) + "\r\n").encode("ascii")


def qp_body(data, width=76):
    """Quoted-printable as mailers write it: CRLF lines, soft breaks '='."""
    out = []
    for line in data.split(b"\r\n"):
        toks = []
        for i, b in enumerate(line):
            last = i == len(line) - 1
            if (33 <= b <= 126 and b != 61) or (b in (9, 32) and not last):
                toks.append(chr(b))
            else:
                toks.append("=%02X" % b)
        cur = ""
        for t in toks:
            if len(cur) + len(t) > width - 1:
                out.append(cur + "=")
                cur = ""
            cur += t
        out.append(cur)
    return "\r\n".join(out).encode("ascii")


def bword(label, data):
    return "=?%s?B?%s?=" % (label, base64.b64encode(data).decode("ascii"))


def bwords(text, label, per=None, max_bytes=45):
    """Encoded-words split at character boundaries (Foxmail, Outlook)."""
    words, cur = [], ""
    for ch in text:
        cand = cur + ch
        if cur and ((per and len(cand) > per) or
                    len(cand.encode(codec(label))) > max_bytes):
            words.append(bword(label, cur.encode(codec(label))))
            cand = ch
        cur = cand
    if cur:
        words.append(bword(label, cur.encode(codec(label))))
    return words


def bwords_bytes(text, label, n):
    """Encoded-words split every n bytes, even inside a character."""
    data = text.encode(codec(label))
    return [bword(label, data[i:i + n]) for i in range(0, len(data), n)]


def qword(label, text, max_len=72):
    """One or more Q encoded-words."""
    data = text.encode(codec(label))
    words, cur = [], ""
    head = "=?%s?Q?" % label
    for b in data:
        c = chr(b)
        if c.isalnum() and b < 128:
            t = c
        elif b == 32:
            t = "_"
        else:
            t = "=%02X" % b
        if len(head) + len(cur) + len(t) + 2 > max_len:
            words.append(head + cur + "?=")
            cur = ""
        cur += t
    words.append(head + cur + "?=")
    return words


# ---------------------------------------------------------------- headers

def H(name, value):
    """One header line; value may be str (ASCII or UTF-8) or raw bytes and
    may already contain folds ('\\r\\n\\t')."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return name.encode("ascii") + b": " + value + CRLF


def fold(name, tokens, cont="\r\n\t", width=76):
    """Greedy fold of tokens (already encoded, ASCII) into one header."""
    out = name + ":"
    linelen = len(out)
    for i, t in enumerate(tokens):
        if i > 0 and linelen + 1 + len(t) > width:
            out += cont + t
            linelen = len(cont) - 2 + len(t)
        else:
            out += " " + t
            linelen += 1 + len(t)
    return (out + "\r\n").encode("ascii")


def fold_words(name, words, cont="\r\n\t"):
    """Each encoded-word on its own continuation line (Outlook, Foxmail)."""
    return (name + ": " + cont.join(words) + "\r\n").encode("ascii")


def addr(name, address, quote_name=False):
    """name: display text already encoded (str), or a list of encoded-words."""
    if not name:
        return address
    disp = " ".join(name) if isinstance(name, list) else name
    if quote_name:
        disp = '"%s"' % disp
    return "%s <%s>" % (disp, address)


def rfcdate(dt, suffix=""):
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
              "Sep", "Oct", "Nov", "Dec"]
    off = dt.utcoffset()
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    mins = abs(mins)
    return "%s, %d %s %d %02d:%02d:%02d %s%02d%02d%s" % (
        days[dt.weekday()], dt.day, months[dt.month - 1], dt.year,
        dt.hour, dt.minute, dt.second, sign, mins // 60, mins % 60, suffix)


def when(day, hour=None, minute=None, second=None):
    hour = R.randint(8, 22) if hour is None else hour
    minute = R.randint(0, 59) if minute is None else minute
    second = R.randint(0, 59) if second is None else second
    return datetime.datetime(2026, 11, day, hour, minute, second, tzinfo=TZ8)


def later(dt, seconds):
    return dt + datetime.timedelta(seconds=seconds)


def rand_alnum(n, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"):
    return "".join(R.choice(alphabet) for _ in range(n))


def rand_hex(n, upper=False):
    s = "".join(R.choice("0123456789abcdef") for _ in range(n))
    return s.upper() if upper else s


def rand_ip():
    return R.choice(["203.0.113.", "198.51.100.", "192.0.2."]) + str(R.randint(2, 250))


def postfix_id():
    return rand_alnum(15, "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz")


def trace(env_from, dt, helo, ip=None, rcpt=MAILBOX, tls=True, lmtp=True,
          sender_hop=None):
    """Return-Path, Delivered-To and Received lines added on the way in."""
    ip = ip or rand_ip()
    t_mx = later(dt, R.randint(2, 40))
    t_lmtp = later(t_mx, R.randint(0, 2))
    lines = [H("Return-Path", "<%s>" % env_from), H("Delivered-To", rcpt)]
    if lmtp:
        lines.append(H("Received", "from %s\r\n\tby mail.%s with LMTP\r\n\tid %s\r\n"
                       "\t(envelope-from <%s>)\r\n\tfor <%s>; %s" % (
                           MX, OUR_DOMAIN, rand_alnum(22), env_from, rcpt,
                           rfcdate(t_lmtp))))
    with_ = "ESMTPS id" if tls else "ESMTP id"
    tls_c = ("\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
             "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n"
             "\t(No client certificate requested)") if tls else ""
    lines.append(H("Received", "from %s (%s [%s])%s\r\n\tby %s (Postfix) with %s %s\r\n"
                   "\tfor <%s>; %s" % (helo, helo, ip, tls_c, MX, with_,
                                       postfix_id(), rcpt, rfcdate(t_mx, " (CST)"))))
    if sender_hop:
        lines.append(H("Received", sender_hop(dt)))
    return lines


def join_msg(header_lines, body):
    return b"".join(header_lines) + CRLF + body


# ---------------------------------------------------------------- MIME parts

def leaf(ctype, body, cte=None, extra=()):
    """A MIME part: headers then body (bytes, already encoded)."""
    hs = [H("Content-Type", ctype)]
    if cte:
        hs.append(H("Content-Transfer-Encoding", cte))
    hs.extend(extra)
    if not body.endswith(CRLF):
        body += CRLF
    return b"".join(hs) + CRLF + body


def multipart_body(boundary, parts, preamble=None, epilogue=b""):
    out = b""
    if preamble is not None:
        out += preamble + CRLF + CRLF
    for p in parts:
        out += b"--" + boundary.encode("ascii") + CRLF + p
        if not p.endswith(CRLF):
            out += CRLF
        out += CRLF
    out = out[:-2] if out.endswith(CRLF + CRLF) else out
    out += CRLF + b"--" + boundary.encode("ascii") + b"--" + CRLF + epilogue
    return out


def multipart_leaf(subtype, boundary, parts, preamble=None, fold_param=True,
                   extra_params=""):
    sep = ";\r\n\t" if fold_param else "; "
    ctype = 'multipart/%s%sboundary="%s"%s' % (subtype, sep, boundary, extra_params)
    return H("Content-Type", ctype) + CRLF + multipart_body(boundary, parts, preamble)


# ---------------------------------------------------------------- attachments

def att_headers(filename, ctype, style, disp="attachment", cid=None, size=None):
    """Header lines naming an attachment in the way one mailer family does."""
    lines = []
    if style == "rfc2231":          # Thunderbird
        w = bwords(filename, "UTF-8", max_bytes=60)
        lines.append(H("Content-Type", '%s; name="%s"' % (ctype, " ".join(w))))
        lines.append(H("Content-Disposition", "%s;\r\n filename*=UTF-8''%s" % (
            disp, quote(filename.encode("utf-8"), safe=""))))
    elif style == "rfc2231cont":    # Thunderbird, long names
        q = quote(filename.encode("utf-8"), safe="")
        units, i = [], 0
        while i < len(q):
            n = 3 if q[i] == "%" else 1
            units.append(q[i:i + n])
            i += n
        pieces, cur = [], ""
        for u in units:
            if len(cur) + len(u) > 54:
                pieces.append(cur)
                cur = ""
            cur += u
        pieces.append(cur)
        w = bwords(filename, "UTF-8", max_bytes=45)
        lines.append(H("Content-Type", '%s;\r\n name="%s"' % (ctype, "\r\n ".join(w))))
        params = ";\r\n".join(" filename*%d*=%s%s" % (k, "UTF-8''" if k == 0 else "", p)
                              for k, p in enumerate(pieces))
        lines.append(H("Content-Disposition", "%s;\r\n%s" % (disp, params)))
    elif style == "rfc2231gbk":     # some Chinese webmail: GBK percent-encoded
        lines.append(H("Content-Type", ctype))
        lines.append(H("Content-Disposition", "%s; filename*=gb2312''%s" % (
            disp, quote(filename.encode("gb18030"), safe=""))))
    elif style in ("rfc2047", "rfc2047-gb2312", "rfc2047-gb18030", "rfc2047-utf8"):
        label = {"rfc2047": "GBK", "rfc2047-gb2312": "gb2312",
                 "rfc2047-gb18030": "gb18030", "rfc2047-utf8": "utf-8"}[style]
        w = bwords(filename, label, max_bytes=40)
        v = "\r\n\t".join(w)
        lines.append(H("Content-Type", '%s;\r\n\tname="%s"' % (ctype, v)))
        lines.append(H("Content-Disposition", '%s;\r\n\tfilename="%s"' % (disp, v)))
    elif style == "nameonly":       # name= only, no disposition filename
        w = bwords(filename, "gb2312", max_bytes=40) if not filename.isascii() else [filename]
        lines.append(H("Content-Type", '%s;\r\n\tname="%s"' % (ctype, " ".join(w))))
    elif style == "raw":            # raw 8-bit GBK in the parameter
        lines.append(H("Content-Type", b'%s; name="%s"' % (ctype.encode(), filename.encode("gbk"))))
        lines.append(H("Content-Disposition", b'%s; filename="%s"' % (disp.encode(), filename.encode("gbk"))))
    else:                           # plain ASCII
        lines.append(H("Content-Type", '%s; name="%s"' % (ctype, filename.replace("\\", "\\\\"))))
        lines.append(H("Content-Disposition", '%s; filename="%s"' % (disp, filename.replace("\\", "\\\\"))))
    if cid:
        lines.append(H("Content-ID", "<%s>" % cid))
    return lines


def attachment(filename, data, ctype, style="rfc2231", disp="attachment",
               cid=None, cte="base64", extra=()):
    hs = att_headers(filename, ctype, style, disp, cid)
    hs.append(H("Content-Transfer-Encoding", cte))
    hs.extend(extra)
    body = b64_body(data) if cte == "base64" else data
    if not body.endswith(CRLF):
        body += CRLF
    return b"".join(hs) + CRLF + body


# ---------------------------------------------------------------- file makers

def pdf_bytes(lines):
    """A small valid PDF with one page of ASCII text (Helvetica)."""
    content = "BT /F1 12 Tf 72 760 Td 14 TL\n"
    for ln in lines:
        ln = ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        content += "(%s) Tj T*\n" % ln
    content += "ET\n"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content.encode("ascii") + b"endstream",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def png_bytes(w, h, rgb_fn):
    """A valid truecolour PNG; rgb_fn(x, y) -> (r, g, b)."""
    raw = b""
    for y in range(h):
        raw += b"\x00" + b"".join(bytes(rgb_fn(x, y)) for x in range(w))

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


_DC_LUM = ([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], list(range(12)))
_AC_LUM_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d]
_AC_LUM_VALS = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282"
    "090a161718191a25262728292a3435363738393a434445464748494a535455565758595a63"
    "6465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6"
    "a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6"
    "e7e8e9eaf1f2f3f4f5f6f7f8f9fa")


def jpeg_bytes(bw, bh, level_fn, comment=b""):
    """A valid baseline greyscale JPEG made of flat 8x8 blocks (DC only).
    level_fn(bx, by) -> 0..255 grey of block (bx, by)."""
    # DC Huffman codes for categories 0..11 (standard luminance table)
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(_DC_LUM[0][length - 1]):
            codes[_DC_LUM[1][k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    bits = []

    def put(v, n):
        for i in range(n - 1, -1, -1):
            bits.append((v >> i) & 1)
    prev = 0
    for by in range(bh):
        for bx in range(bw):
            dc = (level_fn(bx, by) - 128) * 8 // 16   # quant 16, DC scale 8
            diff = dc - prev
            prev = dc
            cat = abs(diff).bit_length()
            c, n = codes[cat]
            put(c, n)
            if cat:
                put(diff if diff > 0 else diff + (1 << cat) - 1, cat)
            put(0b1010, 4)                              # EOB
    while len(bits) % 8:
        bits.append(1)
    scan = bytearray()
    for i in range(0, len(bits), 8):
        b = int("".join(map(str, bits[i:i + 8])), 2)
        scan.append(b)
        if b == 0xFF:
            scan.append(0)
    out = b"\xff\xd8"
    out += b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
    if comment:
        out += b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    out += b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([16] * 64)
    out += b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, bh * 8, bw * 8, 1) + b"\x01\x11\x00"
    dc_tab = bytes(_DC_LUM[0]) + bytes(_DC_LUM[1])
    ac_tab = bytes(_AC_LUM_BITS) + _AC_LUM_VALS
    out += b"\xff\xc4" + struct.pack(">H", 2 + 1 + len(dc_tab)) + b"\x00" + dc_tab
    out += b"\xff\xc4" + struct.pack(">H", 2 + 1 + len(ac_tab)) + b"\x10" + ac_tab
    out += b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    out += bytes(scan) + b"\xff\xd9"
    return out


ZIP_TIME = (2026, 11, 18, 10, 30, 0)


def zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 0
            z.writestr(zi, data)
    return buf.getvalue()


def _xml_esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def docx_bytes(paragraphs, macro=False):
    """A minimal Word document (a real OOXML zip); macro=True makes a .docm
    with a vbaProject.bin part."""
    main = ("application/vnd.ms-word.document.macroEnabled.main+xml" if macro
            else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          + ('<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' if macro else "")
          + '<Override PartName="/word/document.xml" ContentType="%s"/></Types>' % main)
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            '</Relationships>')
    body = "".join('<w:p><w:r><w:t>%s</w:t></w:r></w:p>' % _xml_esc(p) for p in paragraphs)
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           '<w:body>%s</w:body></w:document>' % body)
    members = [("[Content_Types].xml", ct.encode()), ("_rels/.rels", rels.encode()),
               ("word/document.xml", doc.encode())]
    if macro:
        drels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                 '</Relationships>')
        vba = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(24) +
               b"Attribute VB_Name = \"ThisDocument\"\r\nSub AutoOpen()\r\n"
               b"  Shell \"cmd /c echo corpus-test\"\r\nEnd Sub\r\n")
        members += [("word/_rels/document.xml.rels", drels.encode()), ("word/vbaProject.bin", vba)]
    return zip_bytes(members)


def xlsx_bytes(rows):
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>')
    wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
          '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wbrels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
              '</Relationships>')
    cells = ""
    for i, row in enumerate(rows, 1):
        cs = "".join('<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (chr(65 + j), i, _xml_esc(v))
                     for j, v in enumerate(row))
        cells += '<row r="%d">%s</row>' % (i, cs)
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData>%s</sheetData></worksheet>' % cells)
    return zip_bytes([("[Content_Types].xml", ct.encode()), ("_rels/.rels", rels.encode()),
                      ("xl/workbook.xml", wb.encode()), ("xl/_rels/workbook.xml.rels", wbrels.encode()),
                      ("xl/worksheets/sheet1.xml", sheet.encode())])


def exe_bytes(tag):
    """A tiny DOS/PE-looking executable (MZ header, PE signature); inert."""
    stub = bytearray(b"MZ" + b"\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
                     + b"\xb8" + bytes(7) + b"\x40" + bytes(35))
    stub += struct.pack("<I", 0x80)
    stub += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    stub += b"This program cannot be run in DOS mode.\r\r\n$"
    stub += bytes(0x80 - len(stub))
    stub += b"PE\x00\x00" + b"\x4c\x01\x01\x00" + bytes(16)
    stub += b"corpus-test-" + tag.encode("ascii") + bytes(32)
    return bytes(stub)


# ---------------------------------------------------------------- people

def id_number(area, birth, seq):
    """An 18-character resident ID with a correct ISO 7064 MOD 11-2 check."""
    body = "%s%s%s" % (area, birth, seq)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body, weights))
    return body + "10X98765432"[total % 11]


def bad_check(idn):
    """The same ID with a wrong check character (a decoy)."""
    return idn[:17] + ("0" if idn[17] != "0" else "1")


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in s)


def mobile():
    return R.choice(["135", "136", "137", "138", "139", "150", "158", "186", "188"]) + \
        "".join(R.choice("0123456789") for _ in range(8))


def msgid(domain):
    return "<%s.%s@%s>" % (rand_hex(12), rand_alnum(6), domain)


# ---------------------------------------------------------------- messages

MAILS = []


def expect(frm, subject, **kw):
    """The expected record fields; frm is (name, address)."""
    e = {
        "channel": "email",
        "from": {"address": frm[1], "name": frm[0]},
        "subject": subject,
        "complainant": {"name": frm[0], "email": frm[1], "phone": ""},
        "forwarded_by": None,
        "major": False,
        "auto_submitted": None,
        "reference": None,
        "attachments": [],
        "accounts": [],
        "id_numbers": [],
        "phones": [],
        "emails": [],
    }
    e.update(kw)
    return e


def add(name, desc, data, exp):
    exp = dict(exp)
    exp["description"] = desc
    MAILS.append((name, data, exp))


def std_headers(frm, subject, dt, mid, mailer=None, to=MAILBOX, extra=(),
                mime=True, env_from=None, helo="smtp.qq.com"):
    """Trace, From, To, Subject, Date, Message-ID, mailer and MIME headers.
    frm and subject are header values (str or bytes) or full header lines
    (bytes ending in CRLF, for folded subjects)."""
    frm_addr = env_from
    if frm_addr is None:
        s = frm if isinstance(frm, str) else frm.decode("latin-1")
        frm_addr = s[s.rfind("<") + 1:].rstrip(">") if "<" in s else s
    lines = trace(frm_addr, dt, helo)
    lines.append(H("From", frm))
    lines.append(H("To", to))
    if isinstance(subject, bytes) and subject.startswith(b"Subject:"):
        lines.append(subject)
    else:
        lines.append(H("Subject", subject))
    lines.append(H("Date", rfcdate(dt)))
    lines.append(H("Message-ID", mid))
    if mailer:
        lines.append(H(mailer[0], mailer[1]))
    lines.extend(extra)
    if mime:
        lines.append(H("MIME-Version", "1.0"))
    return lines


def text_part(text, label, cte="base64", subtype="plain", extra=(), quote_cs=True):
    data = enc(text, label)
    if cte == "base64":
        body = b64_body(data)
    elif cte == "quoted-printable":
        body = qp_body(data)
    else:
        body = data
    cs = '"%s"' % label if quote_cs else label
    return leaf("text/%s; charset=%s" % (subtype, cs), body, cte, extra)


def single(headers, part):
    return b"".join(headers) + part


def multi(headers, subtype, parts, boundary=None, preamble=None):
    boundary = boundary or "----=_Part_%s" % rand_hex(16)
    return b"".join(headers) + multipart_leaf(subtype, boundary, parts, preamble)


def rfc822_part(inner, filename=None):
    extra = []
    if filename:
        extra.append(H("Content-Disposition", 'attachment; filename="%s"' % filename))
    return leaf("message/rfc822" + ('; name="%s"' % filename if filename else ""),
                inner, "7bit" if inner.isascii() else "8bit", extra)


def att_expect(filename, data, detected, risky=False):
    import hashlib
    return {"filename": filename, "detected_type": detected, "risky": risky,
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


FOXMAIL = ("X-Mailer", "Foxmail 7.2.25.228[cn]")
OUTLOOK = ("X-Mailer", "Microsoft Outlook 16.0")
APPLE = ("X-Mailer", "Apple Mail (2.3774.200.91.1.1)")
TBIRD = ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.16.0")
COREMAIL = ("X-Mailer", "Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)")
QQMAIL = ("X-QQ-Mailer", "QQMail 2.x")

