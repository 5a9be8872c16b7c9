#!/usr/bin/python3
# Generates the labelled complaint e-mail corpus in this folder: NNN-name.eml
# (raw bytes as real mailers write them) and NNN-name.expected.json (what
# `intake parse --json` must find).  Seeded and deterministic; standard
# library only.  Run: /usr/bin/python3 tests/corpus/email/make_corpus.py
#
# Each NAME.expected.json holds the fields tests/corpus/email/check_corpus.py
# compares with the record (field by field, per-field accuracy printed):
#   channel, from {address,name}, subject, complainant {name,email,phone},
#   forwarded_by ({address,name} or null), major, reference, auto_submitted,
#   in_reply_to, reply_to, body_charset, body_charset_detected: equal;
#   accounts (their values), id_numbers, phones, emails: equal as sets;
#   attachments: the list of {filename, detected_type, risky, size, sha256};
#   attachments_count: the number of attachments;
#   text_contains / text_excludes: substrings the text must / must not hold;
#   notes_contains: substrings that some note must hold;
#   description: what the mail tests (not compared).
# Every record is also checked for mojibake (U+FFFD, Latin-1 letters) in its
# subject, names, text and filenames.  The corpus is read with
# tests/corpus/email/intake.conf, whose [smtp] from is our own address.
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
# read as GBK/GB18030 on purpose: mailers label GBK text "gb2312"; big5
# likewise as Big5-HKSCS (Hong Kong mailers label HKSCS text "big5").
CODEC = {
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030",
    "utf-8": "utf-8", "big5": "big5hkscs", "iso-8859-1": "latin-1",
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
SKIP = object()      # an expect() field given as SKIP is not checked


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
    return {k: v for k, v in e.items() if v is not SKIP}


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


# ---------------------------------------------------------------- charsets and text

def m_utf8_plain():
    name, a = "张伟", "zhangwei1986@qq.com"
    idn = id_number("440305", "19860715", "231")
    tel = mobile()
    subj = "投诉：营业部客户经理诱导频繁交易"
    text = ("您好：\n\n"
            "我是贵公司深圳南山营业部的客户张伟，资金账号：310088123456。\n"
            "2026年10月至11月期间，客户经理多次打电话劝我频繁买卖股票，佣金共计3,286.50元，"
            "账户亏损约56,800元。委托编号20261105093015等多笔交易并非本人意愿。\n\n"
            "请贵公司核实并退还多收的佣金，并对该客户经理作出处理。\n\n"
            "联系电话：%s\n身份证号：%s\n邮箱：%s\n\n张伟\n2026年11月20日\n") % (tel, idn, a)
    dt = when(20)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), fold_words("Subject", bwords(subj, "UTF-8")),
                     dt, msgid("qq.com"), APPLE)
    add("utf8-plain-qp", "UTF-8 plain text, quoted-printable, Apple Mail; account with decoy amounts, "
        "an order number, a date, a phone and an ID number",
        single(hs, text_part(text, "utf-8", "quoted-printable")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["资金账号：310088123456", "佣金共计3,286.50元", "委托编号20261105093015"],
               accounts=["310088123456"], id_numbers=[idn], phones=[tel], emails=[a],
               body_charset="utf-8", body_charset_detected=False))


def m_gbk_labelled_gb2312():
    name, a = "王喆", "wangzhe_2008@163.com"
    tel = mobile()
    subj = "关于资金账户转账受限的投诉"
    text = ("华兴启航证券客服中心：\n\n"
            "本人王喆，资产账号：1088 6612 3390。2026年11月16日我通过手机APP办理银证转账，"
            "转出200000元时系统提示“账户受限”，营业部电话一直无人接听。\n"
            "本人姓名中的“喆”字在贵公司系统里经常显示不出来，不知道是否与此有关。\n"
            "银行卡尾号6612，请尽快解除限制并说明原因。\n\n"
            "手机：%s-%s-%s\n") % (tel[:3], tel[3:7], tel[7:])
    dt = when(16)
    hs = std_headers(addr(bwords(name, "gb2312"), a), fold_words("Subject", bwords(subj, "gb2312")),
                     dt, msgid("163.com"), COREMAIL, helo="m15-112.126.com")
    add("gbk-labelled-gb2312", "GBK text (喆 is not in GB2312) labelled gb2312, base64; "
        "account written with spaces; subject and display name in gb2312 words",
        single(hs, text_part(text, "gb2312", "base64")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["本人王喆", "“喆”字", "资产账号：1088 6612 3390", "转出200000元"],
               accounts=["108866123390"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_gb18030_4byte():
    name, a = "黄𡈽", "huang.tu@sina.com"
    tel = mobile()
    subj = "姓名生僻字“𡈽”显示为问号，无法办理业务"
    text = ("贵公司：\n\n"
            "我叫黄𡈽，“𡈽”是扩展B区的字（和“𠀀”一样需要四个字节）。在贵公司开户后，"
            "系统里我的名字一直显示为“黄?”，导致我无法在线办理适当性评估和新三板权限。\n"
            "营业部说要我去派出所改名，这不合理。我的身份证上盖的是“㊣”字样的复印章也不被认可。\n\n"
            "客户号：80012345\n联系电话：%s\n") % tel
    dt = when(17)
    hs = std_headers(addr(bwords(name, "gb18030"), a), fold_words("Subject", bwords(subj, "gb18030")),
                     dt, msgid("sina.com"), TBIRD, helo="smtp.sina.com")
    add("gb18030-4byte", "GB18030 text with four-byte characters outside GBK (𡈽, 𠀀) and ㊣, 8bit; "
        "name with a rare character in a gb18030 display name",
        single(hs, text_part(text, "gb18030", "8bit")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["我叫黄𡈽", "“𠀀”", "“㊣”", "客户号：80012345"],
               accounts=["80012345"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_big5_hk():
    name, a = "陳大文", "chan.taiman@netvigator.com"
    tel = mobile()
    subj = "投訴：港股通賣出款項延誤到賬"
    text = ("華興啟航證券客戶服務部：\n\n"
            "本人陳大文，香港居民，於貴公司開立證券賬戶 (Account No.: 880123456789)。\n"
            "本人於2026年11月10日經港股通賣出騰訊控股500股，款項至今仍未到賬，"
            "今次嘅延誤已超過五個交易日，客戶經理亦未有回覆。\n\n"
            "請盡快處理並書面回覆。內地手機：%s\n\n陳大文 謹啟\n") % tel
    dt = when(18)
    hs = std_headers(addr(bwords(name, "big5"), a), fold_words("Subject", bwords(subj, "big5")),
                     dt, msgid("netvigator.com"), OUTLOOK, helo="smtp.netvigator.com")
    add("big5-hk", "Big5 traditional Chinese from a Hong Kong customer, quoted-printable, with an "
        "HKSCS character (嘅); English 'Account No.' label",
        single(hs, text_part(text, "big5", "quoted-printable")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["本人陳大文", "Account No.: 880123456789", "今次嘅延誤", "騰訊控股500股"],
               accounts=["880123456789"], phones=[tel],
               body_charset="big5", body_charset_detected=False))


def m_html_only_utf8():
    a = "liuyang_sz@163.com"
    tel = "18607551234"
    subj = "新股申购提示资金不足"
    html = ('<html><head><meta charset="utf-8"><title>投诉邮件</title>'
            '<style>td{border:1px solid #ccc;padding:4px}</style>'
            '<script type="text/javascript">var t="tracking-7781";</script></head>\n'
            '<body><div>尊敬的华兴启航证券：<br>我于2026年11月3日通过贵司APP申购新股，'
            '系统提示&ldquo;资金不足&rdquo;，但账户内资金充足。<br></div>\n'
            '<table><tr><th>项目</th><th>内容</th></tr>'
            '<tr><td>客户姓名</td><td>刘洋</td></tr>'
            '<tr><td>&#36164;&#x91D1;账号</td><td>310099887766</td></tr>'
            '<tr><td>联系电话</td><td>186&nbsp;0755&nbsp;1234</td></tr></table>\n'
            '<p>要求：赔偿打新损失 &lt;约 12,000 元&gt; &amp; 书面答复。</p>'
            '<!-- signature 13800000000 --></body></html>\n')
    dt = when(4)
    hs = std_headers(a, fold_words("Subject", bwords(subj, "UTF-8")), dt, msgid("163.com"),
                     COREMAIL, helo="m16-45.163.com")
    add("html-only-utf8", "HTML-only mail: entities (named, decimal, hex), script/style/title/comment "
        "dropped, <br>, a table whose cells must stay apart",
        single(hs, text_part(html, "utf-8", "base64", subtype="html")),
        expect(("", a), subj, complainant={"name": "刘洋", "email": a, "phone": tel},
               text_contains=["尊敬的华兴启航证券：\n我于2026年11月3日", "“资金不足”", "客户姓名 刘洋",
                              "资金账号 310099887766", "<约 12,000 元> & 书面答复"],
               text_excludes=["tracking-7781", "border:1px", "投诉邮件", "&nbsp;", "&amp;",
                              "13800000000", "310099887766联系电话"],
               accounts=["310099887766"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


def m_html_only_gbk_meta():
    name, a = "孙立群", "sunliqun@126.com"
    tel = mobile()
    subj = "融资融券强制平仓未提前通知"
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            '<style>body{font-size:10.5pt}</style></head><body>'
            '<div>投诉中心：</div><div>我的信用账户于2026年11月12日被强制平仓，平仓前没有收到任何短信或电话通知，'
            '损失约85,000元。</div><div><br></div>'
            '<div>资金账号：310066554433</div><div>联系电话：%s</div>'
            '<div><br></div><div>孙立群</div></body></html>') % tel
    dt = when(13)
    hs = std_headers(addr(bwords(name, "gb2312"), a), bword("gb2312", subj.encode("gbk")), dt,
                     msgid("126.com"), FOXMAIL, helo="m13-77.126.com")
    add("html-only-gbk-meta", "HTML-only GBK mail from Foxmail with a <meta> charset, "
        "quoted-printable (soft breaks may split a character's bytes)",
        single(hs, text_part(html, "gb2312", "quoted-printable", subtype="html")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["投诉中心：\n我的信用账户于2026年11月12日被强制平仓", "损失约85,000元",
                              "资金账号：310066554433"],
               text_excludes=["font-size"],
               accounts=["310066554433"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_alternative_related():
    name, a = "何雨晴", "heyuqing@foxmail.com"
    tel = mobile()
    subj = "理财产品到期未兑付"
    plain = ("您好，我在贵公司购买的“启航稳盈2号”收益凭证于2026年11月10日到期，至今未兑付本金300000元。\n"
             "资金账号：310011223344\n联系电话：%s\n何雨晴\n") % tel
    html = ('<div>您好，我在贵公司购买的“启航稳盈2号”收益凭证于2026年11月10日到期，至今未兑付本金300000元。</div>'
            '<div>资金账号：310011223344</div><div>联系电话：%s</div><div>何雨晴</div>'
            '<div><img src="cid:sig01"></div><div>来自HTML版本的签名</div>') % tel
    img = png_bytes(8, 8, lambda x, y: (200, 30 + x * 20, 30 + y * 20))
    related = multipart_leaf("related", "----=_rel_%s" % rand_hex(10), [
        text_part(html, "gb18030", "base64", subtype="html"),
        attachment("sig01.png", img, "image/png", style="plain", disp="inline", cid="sig01"),
    ])
    alt = multipart_leaf("alternative", "----=_alt_%s" % rand_hex(10), [
        text_part(plain, "gb18030", "base64"), related])
    dt = when(11)
    hs = std_headers(addr(bwords(name, "gb18030"), a), bword("gb18030", subj.encode("gb18030")), dt,
                     msgid("qq.com"), QQMAIL)
    add("alternative-related", "multipart/alternative (QQ Mail): plain and an HTML version inside "
        "multipart/related with an inline image; the plain text is the body, the image is listed",
        b"".join(hs) + alt,
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["“启航稳盈2号”", "本金300000元", "资金账号：310011223344"],
               text_excludes=["来自HTML版本的签名"],
               attachments=[att_expect("sig01.png", img, "image/png")],
               accounts=["310011223344"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_alternative_empty_plain():
    name, a = "邹凯", "zoukai_work@outlook.com"
    tel = mobile()
    subj = "交易软件闪退导致无法止损"
    html = ('<p>11月19日上午10:05左右贵司交易软件反复闪退，无法卖出持仓的300750，造成损失。</p>'
            '<p>资金账号：310077665544<br>手机：%s</p><p>邹凯</p>') % tel
    alt = multipart_leaf("alternative", "_000_%s_" % rand_hex(20, True), [
        text_part(" \n", "utf-8", "7bit"), text_part(html, "utf-8", "quoted-printable", subtype="html")])
    dt = when(19)
    hs = std_headers(addr(bwords(name, "utf-8"), a), bword("utf-8", subj.encode("utf-8")), dt,
                     msgid("outlook.com"), OUTLOOK,
                     helo="mail-sg2apc01on2099.outbound.protection.outlook.com")
    add("alternative-empty-plain", "multipart/alternative whose text/plain part is blank: "
        "the HTML version becomes the text",
        b"".join(hs) + alt,
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["贵司交易软件反复闪退", "资金账号：310077665544\n手机："],
               accounts=["310077665544"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


def m_base64_padded_chunks():
    name, a = "蒋文涛", "jiangwentao@139.com"
    tel = mobile()
    subj = "开户资料泄露，接到诈骗电话"
    text = ("投诉内容：\n我在贵公司开户后不到一周就接到自称“华兴启航证券客服”的诈骗电话，"
            "对方准确说出了我的姓名、身份证号和资金账号，怀疑开户资料泄露。\n"
            "资金账号：310055443322\n联系电话：%s\n投诉人：蒋文涛\n") % tel
    data = enc(text, "gbk")
    dt = when(9)
    hs = std_headers(addr(bwords(name, "GBK"), a), bword("GBK", subj.encode("gbk")), dt,
                     msgid("139.com"), ("X-Mailer", "Richmail 3.0"), helo="n1-100.139.com")
    part = leaf('text/plain; charset="GBK"', b64_chunked_body(data, 40), "base64")
    add("base64-padded-chunks", "base64 body made of separately padded chunks (gmime#150: GMime "
        "3.2.13 mis-decodes it); every chunk must be decoded",
        single(hs, part),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["“华兴启航证券客服”的诈骗电话", "怀疑开户资料泄露", "资金账号：310055443322",
                              "投诉人：蒋文涛"],
               accounts=["310055443322"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_wrong_charset():
    name, a = "钱佳", "qianjia77@yahoo.com.cn"
    tel = mobile()
    subj = "基金定投扣款两次"
    text = ("客服您好：\n我设置的基金定投本月扣款了两次，每次5000元，2026年11月15日和11月16日各一笔。\n"
            "客户号：80234567\n请退还多扣的款项。\n联系电话：%s\n钱佳\n") % tel
    dt = when(17)
    hs = std_headers(addr(bword("iso-8859-1", name.encode("gbk")), a),
                     bword("iso-8859-1", subj.encode("gbk")), dt, msgid("yahoo.com.cn"),
                     ("X-Mailer", "YahooMailWebService/0.8.203"), helo="smtp.mail.yahoo.com")
    part = leaf("text/plain; charset=iso-8859-1", enc(text, "gbk") + CRLF, "8bit")
    add("wrong-charset", "GBK text declared iso-8859-1 in the body and in the subject and display "
        "name words: the label is wrong and must not produce mojibake",
        single(hs, part),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["基金定投本月扣款了两次", "每次5000元", "客户号：80234567"],
               accounts=["80234567"], phones=[tel],
               body_charset="gb18030", body_charset_detected=True))


def m_no_charset_8bit():
    name, a = "杜鹏飞", "dupengfei@21cn.com"
    tel = mobile()
    subj = "营业部搬迁未通知，无法办理销户"
    text = ("投诉中心：\n我原来在东莞南城营业部开户，营业部搬迁后没有任何通知，现在想销户却找不到人办理。\n"
            "资金帐号：310044332211\n联系电话：%s\n杜鹏飞\n") % tel
    dt = when(12)
    hs = std_headers(name.encode("gbk") + b" <" + a.encode() + b">", subj.encode("gbk"), dt,
                     msgid("21cn.com"), ("X-Mailer", "Microsoft Outlook Express 6.00.2900.5512"),
                     env_from=a, helo="smtp.21cn.com")
    part = leaf("text/plain", enc(text, "gbk") + CRLF, "8bit")
    add("no-charset-8bit-gbk", "text/plain without a charset, 8-bit GBK body, raw GBK subject and "
        "display name (no encoded-words): detected as GB18030 and the choice recorded",
        single(hs, part),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["营业部搬迁后没有任何通知", "资金帐号：310044332211"],
               accounts=["310044332211"], phones=[tel],
               body_charset="gb18030", body_charset_detected=True))


def m_undeclared_utf8():
    a = "kefu-user2026@aliyun.com"
    tel = mobile()
    subj = "手机APP登录后显示别人的持仓"
    text = ("你好，今天上午我登录贵公司APP，持仓页面显示的是另一个人的股票和金额，"
            "这是严重的信息安全问题！\n我的资金账号 310033221100，请立即调查。\n"
            "姓名：范文斌\n电话：%s\n") % tel
    dt = when(21)
    hs = std_headers(a, subj.encode("utf-8"), dt, msgid("aliyun.com"), mime=False,
                     helo="out30-1.mail.aliyun.com")
    add("undeclared-8bit-utf8", "no MIME headers at all, raw UTF-8 subject and body: detected as UTF-8",
        single(hs, CRLF + enc(text, "utf-8")),
        expect(("", a), subj, complainant={"name": "范文斌", "email": a, "phone": tel},
               text_contains=["持仓页面显示的是另一个人的股票和金额", "资金账号 310033221100"],
               accounts=["310033221100"], phones=[tel],
               body_charset="utf-8", body_charset_detected=True))


# ---------------------------------------------------------------- RFC 2047 headers

def m_subject_gbk_padded():
    name, a = "赵磊", "zhaolei_0755@qq.com"
    tel = mobile()
    subj = "关于账户的投诉"
    text = "我的资金账号：310022110099 被无故冻结，请说明原因。\n联系电话：%s\n赵磊\n" % tel
    dt = when(10)
    # The words of shared/PITFALLS.md: the first ends in '=' padding.
    hs = std_headers(addr(["=?GBK?B?1dQ=?=", "=?GBK?B?wNo=?="], a),
                     "=?GBK?B?udjT2tXLu6e1xA==?= =?GBK?B?zbbL3w==?=", dt, msgid("qq.com"), FOXMAIL)
    add("subject-gbk-padded-words", "GBK subject in two adjacent base64 words, the first ending in "
        "'=' (GMime 3.2.13 drops the second, gmime#133); display name split the same way",
        single(hs, text_part(text, "GBK", "base64")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["资金账号：310022110099"], accounts=["310022110099"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_subject_split_char():
    name, a = "郑浩然", "zhenghaoran@gmail.com"
    tel = mobile()
    subj = "关于两融业务强制平仓及追加保证金通知不及时的投诉"
    text = ("投诉中心：\n11月12日我的信用账户维持担保比例跌破130%，贵公司没有按合同约定提前通知追加保证金，"
            "直接强制平仓。\n资金账号：310012121212\n联系电话：" + tel + "\n郑浩然\n")
    dt = when(13)
    words = bwords_bytes(subj, "UTF-8", 4)      # splits inside characters
    hs = std_headers(addr(bwords_bytes(name, "UTF-8", 5), a), fold_words("Subject", words), dt,
                     msgid("mail.gmail.com"), helo="mail-pl1-f170.google.com")
    add("subject-split-multibyte", "UTF-8 subject and display name cut every few bytes, so characters "
        "are split across encoded-words (=?UTF-8?B?5YU=?= =?UTF-8?B?s+S6jg==?= style)",
        single(hs, text_part(text, "UTF-8", "base64", quote_cs=False)),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["维持担保比例跌破130%", "资金账号：310012121212"],
               accounts=["310012121212"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


def m_subject_q_gb2312():
    name, a = "唐敏", "tangmin_cd@sohu.com"
    tel = mobile()
    subj = "投诉 客户经理 私下 代客理财"
    text = ("投诉对象：成都武侯营业部客户经理\n事实：该经理私下替我操作账户，亏损后拒绝承担责任。\n"
            "资金账号：310098989898\n投诉人：唐敏\n联系电话：" + tel + "\n")
    dt = when(14)
    hs = std_headers(addr('"%s"' % qword("gb2312", name)[0], a),
                     fold_words("Subject", qword("gb2312", subj, max_len=40)), dt, msgid("sohu.com"),
                     ("X-Mailer", "SOHU Mail 3.0"), helo="smtpcloud.sohu.com")
    add("subject-q-gb2312", "Q-encoded gb2312 subject over several words with '_' for spaces; "
        "quoted display name containing an encoded-word",
        single(hs, text_part(text, "gb2312", "quoted-printable")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["私下替我操作账户", "资金账号：310098989898"],
               accounts=["310098989898"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


# ---------------------------------------------------------------- attachments

def m_attach_pdf_jpeg():
    name, a = "胡雪梅", "huxuemei@163.com"
    tel = mobile()
    subj = "交易记录与对账单不一致"
    text = ("您好：\n附件是我的交易记录和手机截图，11月份对账单上的成交金额与实际不符，差额1,280元。\n"
            "资金账号：310045454545\n联系电话：%s\n胡雪梅\n") % tel
    pdf = pdf_bytes(["Statement 2026-11", "Account 3100****4545", "Trades: 12"])
    jpg = jpeg_bytes(8, 6, lambda x, y: (x * 30 + y * 10) % 256, b"screenshot")
    dt = when(15)
    hs = std_headers(addr(bwords(name, "gb2312"), a), bword("gb2312", subj.encode("gbk")), dt,
                     msgid("163.com"), OUTLOOK, helo="m16-10.163.com")
    parts = [text_part(text, "gb2312", "base64"),
             attachment("11月交易记录.pdf", pdf, "application/pdf", style="rfc2047-gb2312"),
             attachment("截图1.jpg", jpg, "image/jpeg", style="rfc2047-gb2312")]
    add("attach-pdf-jpeg", "Outlook-style attachments: a PDF and a JPEG named with gb2312 encoded-words",
        multi(hs, "mixed", parts),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["差额1,280元", "资金账号：310045454545"],
               attachments=[att_expect("11月交易记录.pdf", pdf, "application/pdf"),
                            att_expect("截图1.jpg", jpg, "image/jpeg")],
               accounts=["310045454545"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_attach_risky():
    name, a = "田野", "tianye_1992@qq.com"
    tel = mobile()
    subj = "请查看附件中的证据"
    text = ("投诉中心：\n附件里是我整理的投诉材料和对账单查看工具，请务必打开查看。\n"
            "资金账号：310036363636\n手机：%s\n田野\n") % tel
    exe = exe_bytes("viewer")
    fake = exe_bytes("fake-pdf")
    docm = docx_bytes(["投诉材料", "资金账号 310036363636"], macro=True)
    passwd = b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    macro_docx = docx_bytes(["合同条款"], macro=True)
    zipped = zip_bytes([("readme.txt", b"see setup"), ("setup.exe", exe_bytes("zipped"))])
    dt = when(16)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), bword("UTF-8", subj.encode()), dt, msgid("qq.com"),
                     FOXMAIL)
    parts = [text_part(text, "GBK", "base64"),
             attachment("对账单查看器.exe", exe, "application/octet-stream", style="rfc2047"),
             attachment("投诉材料.docm", docm, "application/vnd.ms-word.document.macroEnabled.12",
                        style="rfc2231"),
             attachment("对账单.pdf", fake, "application/pdf", style="rfc2231"),
             attachment("../../etc/passwd", passwd, "application/octet-stream", style="plain"),
             attachment("合同.docx", macro_docx,
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        style="rfc2047"),
             attachment("资料.zip", zipped, "application/zip", style="rfc2047")]
    add("attach-risky", "an executable, a macro document (.docm with vbaProject.bin), an executable "
        "named .pdf (detected from its bytes), a file named ../../etc/passwd, a macro document "
        "renamed .docx, and a .zip holding an .exe",
        multi(hs, "mixed", parts),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["资金账号：310036363636"],
               attachments=[
                   att_expect("对账单查看器.exe", exe, "application/vnd.microsoft.portable-executable", True),
                   att_expect("投诉材料.docm", docm,
                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
                   att_expect("对账单.pdf", fake, "application/vnd.microsoft.portable-executable", True),
                   att_expect("passwd", passwd, "text/plain", False),
                   att_expect("合同.docx", macro_docx,
                              "application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
                   att_expect("资料.zip", zipped, "application/zip", True)],
               accounts=["310036363636"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_attach_rfc2231():
    name, a = "许嘉琪", "xujiaqi.tw@gmail.com"
    tel = mobile()
    subj = "附件：投诉书及身份证明"
    text = ("您好，投诉书与身份证明见附件。\n资金账号：310078787878\n联系电话：%s\n许嘉琪\n") % tel
    long_name = "关于华兴启航证券深圳南山营业部客户经理违规代客操作并造成重大损失的投诉书（第二版）.pdf"
    pdf1 = pdf_bytes(["Complaint letter", "version 2"])
    jpg = jpeg_bytes(6, 4, lambda x, y: 60 + x * 20, b"id card")
    pdf2 = pdf_bytes(["Bank statement"])
    dt = when(18)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), fold_words("Subject", bwords(subj, "UTF-8")), dt,
                     msgid("mail.gmail.com"), TBIRD, helo="mail-wr1-f41.google.com")
    parts = [text_part(text, "UTF-8", "8bit", quote_cs=False),
             attachment(long_name, pdf1, "application/pdf", style="rfc2231cont"),
             attachment("王喆身份证.jpg", jpg, "image/jpeg", style="rfc2231gbk"),
             attachment("银行流水.pdf", pdf2, "application/pdf", style="rfc2231")]
    add("attach-rfc2231", "RFC 2231 filenames: UTF-8 percent-encoded, a long one in continuations "
        "(filename*0*, filename*1*...), and a gb2312-labelled one holding a GBK-only character (喆)",
        multi(hs, "mixed", parts),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["资金账号：310078787878"],
               attachments=[att_expect(long_name, pdf1, "application/pdf"),
                            att_expect("王喆身份证.jpg", jpg, "image/jpeg"),
                            att_expect("银行流水.pdf", pdf2, "application/pdf")],
               accounts=["310078787878"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


def m_attach_odd_names():
    name, a = "袁野", "yuanye@tom.com"
    tel = mobile()
    subj = "补充材料"
    text = "补充材料见附件。资金账号：310051515151，联系电话：%s。袁野\n" % tel
    jpg = jpeg_bytes(4, 4, lambda x, y: 128, b"raw-gbk-name")
    pdf = pdf_bytes(["Supplement"])
    exe = exe_bytes("rlo")
    split_name = "投诉材料说明（补充）.pdf"
    sb = split_name.encode("gb18030")
    words = [bword("gb18030", sb[:7]), bword("gb18030", sb[7:])]   # splits a character
    dt = when(19)
    hs = std_headers(addr(bwords(name, "gb2312"), a), bword("gb2312", subj.encode("gbk")), dt,
                     msgid("tom.com"), ("X-Mailer", "TOM Webmail"), helo="smtp.tom.com")
    parts = [text_part(text, "gb2312", "base64"),
             attachment("交易截图.jpg", jpg, "image/jpeg", style="raw", cte="base64"),
             (H("Content-Type", 'application/pdf;\r\n\tname="%s"' % " ".join(words)) +
              H("Content-Disposition", 'attachment;\r\n\tfilename="%s"' % "\r\n\t".join(words)) +
              H("Content-Transfer-Encoding", "base64") + CRLF + b64_body(pdf)),
             attachment("账单\u202Efdp.exe", exe, "application/octet-stream", style="rfc2231")]
    add("attach-odd-names", "filenames as raw 8-bit GBK, as gb18030 encoded-words that split a "
        "character (GMime loses text), and with a right-to-left override hiding .exe",
        multi(hs, "mixed", parts),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["资金账号：310051515151"],
               attachments=[att_expect("交易截图.jpg", jpg, "image/jpeg"),
                            att_expect(split_name, pdf, "application/pdf"),
                            att_expect("账单fdp.exe", exe, "application/vnd.microsoft.portable-executable",
                                       True)],
               accounts=["310051515151"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


def m_text_attachment():
    name, a = "冯雷", "fenglei_sh@263.net"
    tel = mobile()
    idn = id_number("310104", "19780302", "457")
    subj = "投诉书（详见附件）"
    body = "您好，投诉书见附件，请查收。\n"
    letter = ("投诉书\n\n投诉人：冯雷\n身份证号码：%s\n资金账号：310062626262\n联系电话：%s\n\n"
              "投诉事项：贵公司上海徐汇营业部未经本人同意为我开通创业板权限。\n") % (idn, tel)
    data = enc(letter, "gb2312")
    dt = when(20)
    hs = std_headers(addr(bwords(name, "gb2312"), a), bword("gb2312", subj.encode("gbk")), dt,
                     msgid("263.net"), FOXMAIL, helo="smtp.263.net")
    parts = [text_part(body, "gb2312", "base64"),
             b"".join(att_headers("投诉书.txt", 'text/plain; charset="gb2312"', "rfc2047-gb2312")) +
             H("Content-Transfer-Encoding", "base64") + CRLF + b64_body(data)]
    add("text-attachment", "the complaint is in a GBK .txt attachment: its text feeds the extraction "
        "(account, ID number, phone, name), the body is only a covering note",
        multi(hs, "mixed", parts),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["投诉书见附件"], text_excludes=["310062626262"],
               attachments=[att_expect("投诉书.txt", data, "text/plain")],
               accounts=["310062626262"], id_numbers=[idn], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


# ---------------------------------------------------------------- forwarded complaints

def inner_mail(frm, subject, dt, mid, text, label="gb2312", mailer=None, to=MAILBOX):
    hs = [H("From", frm), H("To", to), H("Subject", subject), H("Date", rfcdate(dt)),
          H("Message-ID", mid)]
    if mailer:
        hs.append(H(mailer[0], mailer[1]))
    hs.append(H("MIME-Version", "1.0"))
    return b"".join(hs) + text_part(text, label, "base64")


def m_forward_rfc822():
    emp, ea = "李静怡", "lijingyi@sz.hxqh-demo.cn"
    cust, ca = "孙丽", "sunli_0311@163.com"
    ctel = mobile()
    subj = "FW: 客户投诉：理财产品赎回资金迟迟不到账"
    note = ("投诉中心同事：\n客户孙丽来营业部反映以下问题，原邮件作为附件转给你们处理。\n\n"
            "李静怡\n深圳南山营业部 客户经理\n电话：0755-86001234\n")
    inner_subj = "投诉：理财产品赎回资金迟迟不到账"
    inner_text = ("营业部您好：\n我11月9日赎回的“启航现金宝”份额，资金至今没有回到资金账户。\n"
                  "资金账号：310087878787\n联系电话：%s\n孙丽\n") % ctel
    idt = when(17, 9, 12, 40)
    inner = inner_mail(addr(bwords(cust, "gb2312"), ca), bword("gb2312", inner_subj.encode("gbk")), idt,
                       msgid("163.com"), inner_text, to=ea)
    dt = when(17, 14, 30, 5)
    hs = std_headers(addr(bwords(emp, "gb2312"), ea), bword("gb2312", subj.encode("gbk")), dt,
                     msgid("sz.hxqh-demo.cn"), OUTLOOK, helo="mail.sz.hxqh-demo.cn")
    parts = [text_part(note, "gb2312", "base64"), rfc822_part(inner, "complaint.eml")]
    add("forward-rfc822-branch", "a branch employee forwards the customer's mail as a message/rfc822 "
        "attachment (listed, it has a filename): the complainant is the original sender, the "
        "employee is forwarded_by",
        multi(hs, "mixed", parts),
        expect((emp, ea), subj, complainant={"name": cust, "email": ca, "phone": ctel},
               forwarded_by={"address": ea, "name": emp},
               attachments=[att_expect("complaint.eml", inner, "message/rfc822")],
               text_contains=["原邮件作为附件转给你们处理", "“启航现金宝”份额", "资金账号：310087878787"],
               accounts=["310087878787"], phones=["075586001234", ctel],
               body_charset="gb18030", body_charset_detected=False))


def m_forward_inline_outlook():
    emp, ea = "周敏", "zhoumin@gz.hxqh-demo.cn"
    cust, ca = "赵海涛", "zhaohaitao88@126.com"
    ctel = mobile()
    subj = "FW: 投诉：账户被盗买垃圾股"
    text = ("请投诉中心跟进，谢谢。\n\n周敏\n广州天河营业部\n\n"
            "-----Original Message-----\n"
            "From: %s [mailto:%s]\n"
            "Sent: Thursday, November 19, 2026 9:12 AM\n"
            "To: 周敏 <%s>\n"
            "Subject: 投诉：账户被盗买垃圾股\n\n"
            "周经理：\n我的账户昨天被人登录，买入了多只ST股票，亏损约42,000元，我本人从未操作。\n"
            "资金账号：310024242424\n手机：%s\n赵海涛\n") % (cust, ca, ea, ctel)
    dt = when(19, 10, 2, 11)
    hs = std_headers(addr(bwords(emp, "gb2312"), ea), subj, dt, msgid("gz.hxqh-demo.cn"), OUTLOOK,
                     helo="mail.gz.hxqh-demo.cn")
    add("forward-inline-outlook", "Outlook inline forward (FW:, -----Original Message-----, "
        "From: name [mailto:address]): the complainant is the quoted sender",
        single(hs, text_part(text, "gb2312", "base64")),
        expect((emp, ea), subj, complainant={"name": cust, "email": ca, "phone": ctel},
               forwarded_by={"address": ea, "name": emp},
               text_contains=["-----Original Message-----", "买入了多只ST股票", "资金账号：310024242424"],
               accounts=["310024242424"], phones=[ctel], emails=[ca, ea],
               body_charset="gb18030", body_charset_detected=False))


def m_forward_inline_qq():
    emp, ea = "郑强", "zhengqiang@bj.hxqh-demo.cn"
    cust, ca = "吴芳", "wufang1990@foxmail.com"
    ctel = mobile()
    subj = "转发：关于佣金费率与开户时承诺不符"
    text = ("转发客户邮件，请处理。\n\n"
            "------------------ 原始邮件 ------------------\n"
            "发件人: \"%s\"<%s>;\n"
            "发送时间: 2026年11月18日(星期三) 晚上8:15\n"
            "收件人: \"郑强\"<%s>;\n"
            "主题: 关于佣金费率与开户时承诺不符\n\n"
            "郑经理您好：\n开户时您承诺佣金万分之一点五，但对账单显示按万分之三收取。\n"
            "客户号：80345678\n联系方式：%s\n吴芳\n") % (cust, ca, ea, ctel)
    dt = when(19, 8, 45, 0)
    hs = std_headers(addr(bwords(emp, "UTF-8"), ea), bword("UTF-8", subj.encode()), dt,
                     msgid("bj.hxqh-demo.cn"), FOXMAIL, helo="mail.bj.hxqh-demo.cn")
    add("forward-inline-qq", "QQ Mail / Foxmail inline forward in Chinese (转发：, 原始邮件, 发件人: "
        "\"name\"<address>;)",
        single(hs, text_part(text, "utf-8", "base64")),
        expect((emp, ea), subj, complainant={"name": cust, "email": ca, "phone": ctel},
               forwarded_by={"address": ea, "name": emp},
               text_contains=["------------------ 原始邮件 ------------------", "佣金万分之一点五",
                              "客户号：80345678"],
               accounts=["80345678"], phones=[ctel], emails=[ca, ea],
               body_charset="utf-8", body_charset_detected=False))


def m_forward_inline_gmail():
    emp, ea = "彭磊", "penglei@wh.hxqh-demo.cn"
    cust, ca = "曹阳", "caoyang.whu@gmail.com"
    ctel = mobile()
    subj = "Fwd: 咨询转投诉：可转债申购被自动放弃"
    text = ("---------- Forwarded message ---------\n"
            "From: %s <%s>\n"
            "Date: Wed, Nov 18, 2026 at 4:40 PM\n"
            "Subject: 咨询转投诉：可转债申购被自动放弃\n"
            "To: <%s>\n\n"
            "我中签的可转债因为系统问题被自动放弃缴款，我账户里明明有足够资金。\n"
            "资金账号：310039393939\n电话：%s\n曹阳\n") % (cust, ca, ea, ctel)
    dt = when(18, 17, 3, 20)
    hs = std_headers(addr(emp, ea).encode("utf-8"), subj.encode("utf-8"), dt, msgid("wh.hxqh-demo.cn"),
                     ("User-Agent", "Roundcube Webmail/1.6.5"), env_from=ea, helo="mail.wh.hxqh-demo.cn")
    hs = [h if not h.startswith(b"From:") else H("From", addr(bwords(emp, "UTF-8"), ea)) for h in hs]
    hs = [h if not h.startswith(b"Subject:") else fold_words("Subject", ["Fwd:"] + bwords(subj[5:], "UTF-8"))
          for h in hs]
    add("forward-inline-gmail", "Gmail-style inline forward (Fwd:, ---------- Forwarded message "
        "---------) without a note from the forwarder",
        single(hs, text_part(text, "UTF-8", "quoted-printable")),
        expect((emp, ea), subj, complainant={"name": cust, "email": ca, "phone": ctel},
               forwarded_by={"address": ea, "name": emp},
               text_contains=["---------- Forwarded message ---------", "被自动放弃缴款",
                              "资金账号：310039393939"],
               accounts=["310039393939"], phones=[ctel], emails=[ca, ea],
               body_charset="utf-8", body_charset_detected=False))


def m_reply_quoting_notice():
    name, a = "韩冰", "hanbing2000@sina.com"
    tel = mobile()
    ref = "TS20261123-0007"
    subj = "Re: [%s] 您的投诉已受理" % ref
    notice_id = "<notice.%s.1@hxqh-demo.cn>" % ref
    text = ("你好，补充一下：被冻结的资金账号是310027272727，冻结金额15000元。\n"
            "请尽快处理，联系电话：%s\n韩冰\n\n"
            "-----原始邮件-----\n"
            "发件人: 华兴启航证券客户投诉中心 <ts@hxqh-demo.cn>\n"
            "发送时间: 2026-11-23 10:15:02\n"
            "收件人: %s\n"
            "主题: [%s] 您的投诉已受理\n\n"
            "尊敬的客户：您的投诉已于2026年11月23日登记，编号%s，我们将在3个工作日内决定是否受理。\n") % (
                tel, a, ref, ref)
    dt = datetime.datetime(2026, 11, 24, 9, 30, 11, tzinfo=TZ8)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), fold_words("Subject", ["Re:", "[%s]" % ref] +
                                                                 bwords("您的投诉已受理", "UTF-8")),
                     dt, msgid("sina.com"), ("X-Mailer", "SinaMail 3.0"),
                     extra=[H("In-Reply-To", notice_id), H("References", notice_id)], helo="smtp.sina.com")
    add("followup-reply", "a follow-up: [TS...] in the subject, In-Reply-To our notice, and our notice "
        "quoted under -----原始邮件-----; a reply, not a forward",
        single(hs, text_part(text, "UTF-8", "base64")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               reference=ref, in_reply_to=notice_id[1:-1],
               text_contains=["被冻结的资金账号是310027272727", "-----原始邮件-----"],
               accounts=["310027272727"], phones=[tel], emails=["ts@hxqh-demo.cn", a],
               body_charset="utf-8", body_charset_detected=False))


def m_evidence_rfc822():
    name, a = "石磊", "shilei_nj@qq.com"
    tel = mobile()
    subj = "投诉客户经理承诺保本"
    text = ("投诉中心：\n附件是客户经理钱坤当时发给我的邮件，他书面承诺“保本保收益”，现在亏损了却不认账。\n"
            "资金账号：310013131313\n联系电话：%s\n石磊\n") % tel
    inner_text = "石先生：\n这只产品保本保收益，年化8%，放心买。\n钱坤\n"
    inner = inner_mail(addr(bwords("钱坤", "gb2312"), "qiankun@nj.hxqh-demo.cn"),
                       bword("gb2312", "产品介绍".encode("gbk")), when(2, 16, 0, 0),
                       msgid("nj.hxqh-demo.cn"), inner_text, to=a)
    dt = when(22)
    hs = std_headers(addr(bwords(name, "GBK"), a), bword("GBK", subj.encode("gbk")), dt, msgid("qq.com"),
                     FOXMAIL)
    parts = [text_part(text, "GBK", "base64"), rfc822_part(inner)]
    add("evidence-rfc822-from-staff", "the customer attaches a mail from our own staff as evidence "
        "(message/rfc822 from our domain): not a forward, the complainant stays the sender",
        multi(hs, "mixed", parts),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["“保本保收益”", "年化8%，放心买"],
               accounts=["310013131313"], phones=[tel],
               body_charset="gb18030", body_charset_detected=False))


# ---------------------------------------------------------------- regulators (major)

def m_regulator_csrc():
    reg, ra = "中国证监会12386热线", "rx12386@csrc.gov.cn"
    cust, ca = "何静", "hejing_hz@163.com"
    ctel = mobile()
    idn = id_number("330106", "19900418", "064")
    subj = "12386热线投诉转办单（编号：ZB2026111900321）"
    text = ("华兴启航证券有限责任公司：\n\n"
            "现将12386热线接收的投资者投诉转你公司处理，请于收到之日起按规定处理并反馈。\n\n"
            "转办单编号：ZB2026111900321\n"
            "投诉人：何静\n"
            "证件号码：%s\n"
            "联系电话：%s\n"
            "电子邮箱：%s\n"
            "资金账号：310091919191\n"
            "投诉内容：投资者反映杭州西湖营业部员工向其推荐未经备案的私募产品，投资200万元后无法赎回。\n"
            "诉求：退还本金并追究相关人员责任。\n\n"
            "中国证监会12386服务热线\n2026年11月19日\n") % (idn, ctel, ca)
    dt = when(19, 15, 20, 0)
    hs = std_headers(addr(bwords(reg, "gb2312"), ra), fold_words("Subject", bwords(subj, "gb2312")), dt,
                     msgid("csrc.gov.cn"), helo="mail.csrc.gov.cn")
    add("regulator-csrc-transfer", "a 12386 transfer sheet from csrc.gov.cn: major; the complainant is "
        "the investor named in it, the regulator is forwarded_by",
        single(hs, text_part(text, "gb2312", "base64")),
        expect((reg, ra), subj, complainant={"name": cust, "email": ca, "phone": ctel},
               forwarded_by={"address": ra, "name": reg}, major=True,
               text_contains=["转办单编号：ZB2026111900321", "投诉人：何静"],
               accounts=["310091919191"], id_numbers=[idn], phones=[ctel], emails=[ca],
               body_charset="gb18030", body_charset_detected=False))


def m_regulator_sac_rfc822():
    reg, ra = "中国证券业协会投诉处理中心", "tousu@sac.net.cn"
    cust, ca = "马超", "machao_1985@sohu.com"
    ctel = mobile()
    subj = "转：投资者投诉（请核实处理）"
    note = "华兴启航证券：\n现将投资者来信转你公司，请核实处理并于15个工作日内反馈。\n\n中国证券业协会\n"
    inner_text = ("证券业协会：\n我是华兴启航证券的客户，该公司在我不知情的情况下把我的风险等级从C2调到C5，"
                  "并向我销售高风险产品。\n资金账号：310015151515\n联系电话：%s\n马超\n") % ctel
    inner = inner_mail(addr(bwords(cust, "gb2312"), ca), bword("gb2312", "投诉华兴启航证券".encode("gbk")),
                       when(15, 21, 5, 0), msgid("sohu.com"), inner_text, to=ra)
    dt = when(18, 10, 0, 0)
    hs = std_headers(addr(bwords(reg, "gb2312"), ra), bword("gb2312", subj.encode("gbk")), dt,
                     msgid("sac.net.cn"), helo="mail.sac.net.cn")
    parts = [text_part(note, "gb2312", "base64"), rfc822_part(inner)]
    add("regulator-sac-rfc822", "the Securities Association forwards an investor's mail as "
        "message/rfc822: major, the complainant is the investor",
        multi(hs, "mixed", parts),
        expect((reg, ra), subj, complainant={"name": cust, "email": ca, "phone": ctel},
               forwarded_by={"address": ra, "name": reg}, major=True,
               text_contains=["现将投资者来信转你公司", "从C2调到C5"],
               accounts=["310015151515"], phones=[ctel],
               body_charset="gb18030", body_charset_detected=False))


def m_employee_forward_12386():
    emp, ea = "宋涛", "songtao@hz.hxqh-demo.cn"
    cust, ca = "贾敏", "jiamin_0571@163.com"
    ctel = mobile()
    subj = "转发：12386热线转来投诉-客户贾敏"
    text = ("投诉中心：此件为12386热线转来的投诉，客户已同时发邮件给营业部，请按重大投诉流程处理。\n宋涛\n\n"
            "-----原始邮件-----\n"
            "发件人: %s <%s>\n"
            "发送时间: 2026-11-20 19:02:45\n"
            "收件人: %s\n"
            "主题: 投诉\n\n"
            "我已经打了12386。营业部擅自把我的两融合约展期，产生了额外利息2,360元。\n"
            "资金账号：310017171717\n联系电话：%s\n贾敏\n") % (cust, ca, ea, ctel)
    dt = when(21, 9, 5, 0)
    hs = std_headers(addr(bwords(emp, "gb2312"), ea), bword("gb2312", subj.encode("gbk")), dt,
                     msgid("hz.hxqh-demo.cn"), FOXMAIL, helo="mail.hz.hxqh-demo.cn")
    add("forward-12386-subject", "an employee forwards a complaint that came through 12386 (named in "
        "the subject): major; complainant from the quoted 发件人 block",
        single(hs, text_part(text, "gb2312", "base64")),
        expect((emp, ea), subj, complainant={"name": cust, "email": ca, "phone": ctel},
               forwarded_by={"address": ea, "name": emp}, major=True,
               text_contains=["此件为12386热线转来的投诉", "额外利息2,360元"],
               accounts=["310017171717"], phones=[ctel], emails=[ca, ea],
               body_charset="gb18030", body_charset_detected=False))


def m_customer_threatens_12386():
    name, a = "林志强", "linzhiqiang@163.com"
    tel = mobile()
    subj = "再不处理我就打12386投诉你们"
    text = ("第三次来信了！国债逆回购到期资金迟迟不到账，客服一直推诿。\n"
            "如果三个工作日内不处理，我将向12386热线和证监会派出机构投诉。\n"
            "资金账号：310019191919\n联系电话：%s\n林志强\n") % tel
    dt = when(23)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), fold_words("Subject", bwords(subj, "UTF-8")), dt,
                     msgid("163.com"), COREMAIL, helo="m16-8.163.com")
    add("customer-mentions-12386", "a customer threatens to call 12386: not forwarded by a regulator, "
        "so not major",
        single(hs, text_part(text, "UTF-8", "base64")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["向12386热线和证监会派出机构投诉"],
               accounts=["310019191919"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


# ---------------------------------------------------------------- machine mail

def m_bounce():
    a = "MAILER-DAEMON@mx3.qq.com"
    ref = "TS20261120-0003"
    subj = "Undelivered Mail Returned to Sender"
    dt = when(20, 11, 2, 9)
    orig = (H("From", "=?UTF-8?B?%s?= <ts@hxqh-demo.cn>" % base64.b64encode(
        "华兴启航证券客户投诉中心".encode()).decode()) +
        H("To", "nobody-here-2026@qq.com") + H("Subject", "[%s] =?UTF-8?B?%s?=" % (
            ref, base64.b64encode("您的投诉已收到".encode()).decode())) +
        H("Date", rfcdate(later(dt, -30))) + H("Message-ID", "<notice.%s.1@hxqh-demo.cn>" % ref) +
        H("Auto-Submitted", "auto-generated") + H("MIME-Version", "1.0") +
        H("Content-Type", "text/plain; charset=utf-8") + H("Content-Transfer-Encoding", "8bit") + CRLF +
        ("尊敬的客户：您的投诉已收到，编号%s。\r\n" % ref).encode("utf-8"))
    human = ("This is the mail system at host mx3.qq.com.\n\nI'm sorry to have to inform you that your "
             "message could not\nbe delivered to one or more recipients.\n\n"
             "<nobody-here-2026@qq.com>: host mx3.qq.com said: 550 Mailbox not found.\n")
    dsn = ("Reporting-MTA: dns; mx3.qq.com\nArrival-Date: %s\n\nFinal-Recipient: rfc822; "
           "nobody-here-2026@qq.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 Mailbox "
           "not found.\n") % rfcdate(dt)
    parts = [leaf("text/plain; charset=us-ascii", enc(human, "us-ascii"), "7bit",
                  [H("Content-Description", "Notification")]),
             leaf("message/delivery-status", enc(dsn, "us-ascii"), "7bit",
                  [H("Content-Description", "Delivery report")]),
             leaf("message/rfc822", orig, "8bit", [H("Content-Description", "Undelivered Message")])]
    hs = trace("", dt, "mx3.qq.com")
    hs[0] = H("Return-Path", "<>")
    hs += [H("From", "MAILER-DAEMON@mx3.qq.com (Mail Delivery System)"), H("To", MAILBOX),
           H("Subject", subj), H("Date", rfcdate(dt)), H("Message-ID", msgid("mx3.qq.com")),
           H("Auto-Submitted", "auto-replied"), H("MIME-Version", "1.0"),
           H("Content-Type", 'multipart/report; report-type=delivery-status;\r\n\tboundary="B0UNCE.%s"'
             % rand_hex(8, True))]
    boundary = hs[-1].decode().split('boundary="')[1].split('"')[0]
    data = b"".join(hs) + CRLF + multipart_body(boundary, parts, preamble=b"This is a MIME-encapsulated message.")
    add("bounce-dsn", "a delivery status notification (multipart/report, Return-Path <>, "
        "MAILER-DAEMON) for one of our notices: a bounce, and its returned message is not a forward",
        data,
        expect(("Mail Delivery System", a), subj, auto_submitted="bounce", reference=ref,
               complainant={"name": "Mail Delivery System", "email": a, "phone": ""},
               text_contains=["550 Mailbox not found"], emails=["nobody-here-2026@qq.com"],
               body_charset="us-ascii", body_charset_detected=False))


def m_auto_reply_header():
    name, a = "程浩", "chenghao@xmu-demo.edu.cn"
    ref = "TS20261121-0012"
    subj = "自动回复: [%s] 您的投诉已收到" % ref
    text = "您好，我正在休假，11月30日返回，期间邮件可能无法及时回复。\n程浩\n"
    dt = when(21, 16, 40, 1)
    hs = std_headers(addr(bwords(name, "UTF-8"), a),
                     fold_words("Subject", bwords("自动回复:", "UTF-8") + ["[%s]" % ref] +
                                bwords("您的投诉已收到", "UTF-8")), dt, msgid("xmu-demo.edu.cn"),
                     extra=[H("Auto-Submitted", "auto-replied"), H("X-Auto-Response-Suppress", "All"),
                            H("In-Reply-To", "<notice.%s.1@hxqh-demo.cn>" % ref)],
                     helo="mail.xmu-demo.edu.cn")
    add("auto-reply-header", "an out-of-office reply with Auto-Submitted: auto-replied to one of our "
        "notices",
        single(hs, text_part(text, "UTF-8", "base64")),
        expect((name, a), subj, auto_submitted="auto_reply", reference=ref,
               complainant={"name": name, "email": a, "phone": ""},
               in_reply_to="notice.%s.1@hxqh-demo.cn" % ref, text_contains=["我正在休假"],
               body_charset="utf-8", body_charset_detected=False))


def m_auto_reply_subject():
    a = "yangguang_88@163.com"
    subj = "自动回复：您好，您的邮件我已收到，我会尽快回复。"
    text = "这是来自网易邮箱的自动回复邮件。\n\n您好，您的邮件我已收到，我会尽快回复。\n"
    dt = when(22)
    hs = std_headers(a, bword("GBK", subj.encode("gbk")), dt, msgid("163.com"), COREMAIL,
                     helo="m16-3.163.com")
    add("auto-reply-subject-only", "an automatic reply recognised by its 自动回复 subject alone "
        "(no Auto-Submitted header)",
        single(hs, text_part(text, "GBK", "base64")),
        expect(("", a), subj, auto_submitted="auto_reply", text_contains=["自动回复邮件"],
               body_charset="gb18030", body_charset_detected=False))


def m_list_mail():
    name, a = "证券时报网", "newsletter@stcn-demo.com"
    subj = "【早间快讯】两融余额连续三日回升"
    html = ("<html><body><h1>早间快讯</h1><p>截至11月20日，沪深两市两融余额为18,520亿元。</p>"
            '<p><a href="https://stcn-demo.com/unsub?u=8812">退订</a></p></body></html>')
    dt = when(21, 7, 0, 0)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), fold_words("Subject", bwords(subj, "UTF-8")), dt,
                     msgid("stcn-demo.com"),
                     extra=[H("List-Id", "STCN morning news <morning.stcn-demo.com>"),
                            H("List-Unsubscribe", "<https://stcn-demo.com/unsub?u=8812>"),
                            H("Precedence", "bulk")], helo="mta-7.stcn-demo.com")
    add("list-newsletter", "a newsletter with List-Id, List-Unsubscribe and Precedence: bulk",
        single(hs, text_part(html, "UTF-8", "base64", subtype="html")),
        expect((name, a), subj, auto_submitted="list", text_contains=["两融余额为18,520亿元"],
               body_charset="utf-8", body_charset_detected=False))


def m_own_notice():
    name, a = "华兴启航证券客户投诉中心", "ts@hxqh-demo.cn"
    ref = "TS20261123-0007"
    subj = "[%s] 您的投诉已受理" % ref
    text = ("尊敬的客户：\n您于2026年11月23日提交的投诉（编号%s）已受理，我们将在20个工作日内答复。\n"
            "如有疑问请致电客服热线。\n华兴启航证券客户投诉中心\n") % ref
    dt = datetime.datetime(2026, 11, 24, 16, 0, 0, tzinfo=TZ8)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), fold_words("Subject", ["[%s]" % ref] +
                                                                 bwords("您的投诉已受理", "UTF-8")),
                     dt, "<notice.%s.2@hxqh-demo.cn>" % ref, extra=[H("Auto-Submitted", "auto-generated")],
                     helo="mail.hxqh-demo.cn")
    add("own-notice-looped", "one of our own notices delivered back to the complaint mailbox",
        single(hs, text_part(text, "UTF-8", "base64")),
        expect((name, a), subj, auto_submitted="own_notice", reference=ref,
               text_contains=["已受理"], body_charset="utf-8", body_charset_detected=False))


def m_decoy_auto_in_subject():
    name, a = "白雪", "baixue_bj@qq.com"
    tel = mobile()
    subj = "投诉：你们的自动回复说三个工作日内答复，已经过了一周"
    text = ("上周我发邮件投诉开户被拒，收到自动回复说三个工作日内答复，到现在一周了没有任何消息。\n"
            "客户号：80456789\n联系电话：%s\n白雪\n") % tel
    dt = when(24)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), fold_words("Subject", bwords(subj, "UTF-8")), dt,
                     msgid("qq.com"), QQMAIL, extra=[H("Auto-Submitted", "no")])
    add("decoy-auto-words", "a real complaint whose subject mentions 自动回复 (not at the start) and "
        "which says Auto-Submitted: no",
        single(hs, text_part(text, "UTF-8", "base64")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["收到自动回复说三个工作日内答复"], accounts=["80456789"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


# ---------------------------------------------------------------- claimed values

def m_accounts_decoys():
    name, a = "谭静", "tanjing_cs@126.com"
    tel = mobile()
    other = mobile()
    idn = id_number("430104", "19821109", "028")
    subj = "多个账户的问题一并投诉"
    text = ("投诉中心您好：\n\n"
            "我名下有三个账户：资金账号：%s（普通账户），期货客户号：80-0123-45，"
            "信用账户的资产账号 6688 1234 5678。\n\n"
            "问题一：11月18日委托编号 2026111800012345 的买单被无故撤销，当日成交金额 128,000.00 元。\n"
            "问题二：合同编号 HT20261101008 的理财产品说明书与实际不符，本金 500000 元，"
            "订单号 9902118866554433。\n"
            "问题三：2026年11月20日（20261120）客户经理用 %s 给我打电话推销，我没有同意。\n\n"
            "资金账号尾号5544的账户还被限制了转账。\n"
            "身份证号：%s（之前填成了 %s，少了一位数：43010419821109）\n"
            "本人手机：%s\n\n谭静\n") % (fullwidth("310088665544"), other, idn, bad_check(idn), tel)
    dt = when(24)
    hs = std_headers(addr(bwords(name, "GBK"), a), bword("GBK", subj.encode("gbk")), dt, msgid("126.com"),
                     FOXMAIL, helo="m13-5.126.com")
    add("accounts-with-decoys", "three claimed accounts (资金账号 in full-width digits, 客户号 with "
        "hyphens, 资产账号 with spaces) among decoys: order and contract numbers, amounts, dates, a "
        "phone, an ID number with a wrong check digit and a truncated one, a 4-digit account tail",
        single(hs, text_part(text, "GBK", "base64")),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["资金账号：" + fullwidth("310088665544"), "期货客户号：80-0123-45"],
               accounts=["310088665544", "80012345", "668812345678"], id_numbers=[idn],
               phones=[other, tel],
               body_charset="gb18030", body_charset_detected=False))


def m_nickname():
    a = "tiger_wang88@gmail.com"
    tel = mobile()
    subj = "Complaint: 分红到账金额不对"
    text = ("客户姓名：王建国\n资金账号：310028282828\n联系电话：%s\n\n"
            "贵公司代发的现金分红比公告少了约420元，请核实。\n") % tel
    dt = when(22)
    hs = std_headers(addr("Tiger", a), fold_words("Subject", ["Complaint:"] + bwords("分红到账金额不对", "UTF-8")),
                     dt, msgid("mail.gmail.com"), extra=[H("Reply-To", "wjg.family@163.com")],
                     helo="mail-ej1-f54.google.com")
    add("nickname-and-reply-to", "display name is a nickname; the labelled 客户姓名 is the "
        "complainant's name; Reply-To is recorded but the complainant address stays From",
        single(hs, text_part(text, "UTF-8", "base64")),
        expect(("Tiger", a), subj, complainant={"name": "王建国", "email": a, "phone": tel},
               reply_to="wjg.family@163.com", text_contains=["客户姓名：王建国"],
               accounts=["310028282828"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


def m_signature_name():
    a = "13512345678@139.com"
    subj = "营业部柜台服务态度恶劣"
    text = ("11月20日下午我到贵公司长沙芙蓉路营业部办理密码重置，柜台工作人员态度恶劣，"
            "让我等了两个小时。\n请对该员工进行处理并向我道歉。\n\n"
            "资金账号：310029292929\n联系电话：13512345678\n\n此致\n敬礼\n\n郭婷\n2026年11月21日\n")
    dt = when(21)
    hs = std_headers(a, bword("UTF-8", subj.encode()), dt, msgid("139.com"), ("X-Mailer", "Richmail 3.0"),
                     helo="n3-21.139.com")
    add("signature-name", "no display name, an address that is a phone number, and the name only "
        "in the signature line",
        single(hs, text_part(text, "UTF-8", "8bit")),
        expect(("", a), subj, complainant={"name": "郭婷", "email": a, "phone": "13512345678"},
               text_contains=["此致\n敬礼\n\n郭婷"], accounts=["310029292929"], phones=["13512345678"],
               body_charset="utf-8", body_charset_detected=False))


# ---------------------------------------------------------------- limits

def m_deep_nesting():
    name, a = "金鑫", "jinxin_2026@qq.com"
    tel = mobile()
    subj = "层层嵌套的邮件"
    text = "资金账号：310031313131，联系电话：%s。我的投诉内容在下面。\n金鑫\n" % tel
    inner = leaf('text/plain; charset="utf-8"', enc("深层内容：这一段在第二十五层。\n", "utf-8"), "8bit")
    for level in range(24, 0, -1):
        b = "nest-%02d-%s" % (level, rand_hex(6))
        inner = multipart_leaf("mixed", b, [inner])
    dt = when(25)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), bword("UTF-8", subj.encode()), dt, msgid("qq.com"))
    parts = [text_part(text, "utf-8", "8bit"), inner]
    add("limit-deep-nesting", "MIME nesting deeper than the limit of 20: the message is still "
        "recorded, with a note, from the parts within the limit",
        multi(hs, "mixed", parts),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["资金账号：310031313131"], text_excludes=["深层内容"],
               notes_contains=["MIME nesting deeper than 20 levels"],
               accounts=["310031313131"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


def m_many_parts():
    name, a = "陆阳", "luyang@163.com"
    tel = mobile()
    subj = "附件很多"
    text = "资金账号：310032323232，联系电话：%s。\n陆阳\n" % tel
    parts = [text_part(text, "utf-8", "8bit")]
    for i in range(520):
        parts.append(leaf("application/octet-stream", b"x%03d" % i, "7bit",
                          [H("Content-Disposition", 'attachment; filename="p%03d.bin"' % i)]))
    dt = when(25)
    hs = std_headers(addr(bwords(name, "UTF-8"), a), bword("UTF-8", subj.encode()), dt, msgid("163.com"))
    add("limit-many-parts", "more MIME parts than the limit of 500: recorded with a note, the parts "
        "within the limit kept",
        multi(hs, "mixed", parts),
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=["资金账号：310032323232"],
               notes_contains=["more than 500 MIME parts"], attachments=SKIP,
               attachments_count=498,      # 500 parts: the multipart, the text, 498 files
               accounts=["310032323232"], phones=[tel],
               body_charset="utf-8", body_charset_detected=False))


# ---------------------------------------------------------------- the matrix

# Everyday complaints crossed over the ways they reach us: each charset as
# mailers label it, each body structure, each way of writing a claimed
# account, with decoys (amounts, order numbers, dates, a second phone
# written as 电话) around it. 112 mails, every one labelled.
MX_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
MX_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
            "娟", "涛", "明", "超", "秀英", "桂兰", "建华", "志强", "海燕", "晓东", "文博"]
MX_TRAD_NAMES = ["陳大文", "黃志明", "林美玲", "張家豪", "李婉婷", "王俊傑", "劉雅雯"]
MX_TOPICS = [
    ("资金账户无法登录", "自%s起无法登录交易系统，委托无法撤单，造成损失约%s元。"),
    ("基金申购被重复扣款", "申购基金时被重复扣款两次，共计%s元，订单号%s至今未退回。"),
    ("营业部人员代客操作", "营业部工作人员未经本人同意代客操作，%s的交易导致亏损%s元。"),
    ("佣金费率与约定不符", "开户时约定的佣金费率与实际不符，%s以来多收手续费%s元。"),
    ("期货账户被强行平仓", "保证金充足的情况下于%s被强行平仓，成交编号%s，损失惨重。"),
    ("融资融券利息计算错误", "融资利息自%s起计算有误，多扣利息%s元。"),
]
MX_TRAD_TOPIC = ("交易系統無法登入", "自%s起無法登入交易系統，委託無法撤單，造成損失約%s元。")
MX_LABELS = [   # (label, how the number is written)
    ("资金账号：", "plain"), ("资金账号：", "fullwidth"), ("客户号：", "hyphens"),
    ("资产账号 ", "spaces"), ("帐号为", "plain"), ("证券账户：", "plain"),
    ("期货账户：", "spaces"),
]
MX_TRAD_LABELS = [("資金帳號：", "plain"), ("資金帳號：", "fullwidth"), ("帳號為", "plain"),
                  ("客戶號：", "hyphens")]
MX_CHARSETS = ["utf-8", "gb2312", "gbk", "gb18030", "big5"]
MX_SHAPES = ["plain-b64", "plain-qp", "plain-8bit", "html-only", "alternative", "mixed-pdf",
             "mixed-docx"]


def mx_written(acct, style):
    if style == "fullwidth":
        return fullwidth(acct)
    if style == "hyphens":
        return "-".join(acct[i:i + 4] for i in range(0, len(acct), 4))
    if style == "spaces":
        return " ".join(acct[i:i + 4] for i in range(0, len(acct), 4))
    return acct


def mx_html(text):
    paras = "".join("<p>%s</p>\n" % (ln.replace("&", "&amp;").replace("<", "&lt;") or "&nbsp;")
                    for ln in text.split("\n"))
    return ("<html><head><meta charset=\"utf-8\"><style>p{margin:0}</style></head>"
            "<body>\n%s</body></html>" % paras)


def mx_one(i):
    cs = MX_CHARSETS[i % len(MX_CHARSETS)]
    shape = MX_SHAPES[(i // len(MX_CHARSETS)) % len(MX_SHAPES)]
    trad = cs == "big5"
    if trad:
        name = MX_TRAD_NAMES[i % len(MX_TRAD_NAMES)]
        topic, fact = MX_TRAD_TOPIC
        label, style = MX_TRAD_LABELS[i % len(MX_TRAD_LABELS)]
    else:
        name = MX_SURNAMES[R.randrange(len(MX_SURNAMES))] + MX_GIVEN[R.randrange(len(MX_GIVEN))]
        topic, fact = MX_TOPICS[i % len(MX_TOPICS)]
        label, style = MX_LABELS[i % len(MX_LABELS)]
    acct = str(R.randint(10 ** 9, 10 ** 12 - 1))
    tel = mobile()
    other_tel = mobile()
    amount = "%d" % R.randint(1000, 900000)
    order = "2026%02d%02d%06d" % (R.randint(1, 11), R.randint(1, 28), R.randint(0, 999999))
    day = "2026年%d月%d日" % (R.randint(1, 11), R.randint(1, 28))
    a = "user%03d@%s" % (i, R.choice(["qq.com", "163.com", "126.com", "sina.com", "foxmail.com"]))
    if "订单号" in fact or "成交编号" in fact:
        body_fact = fact % (day, order) if "成交编号" in fact else fact % (amount, order)
    else:
        body_fact = fact % (day, amount)
    if trad:
        text = ("您好：\n\n本人%s，%s%s。%s\n營業部電話%s無人接聽。\n\n"
                "聯繫電話：%s\n\n%s\n") % (name, label, mx_written(acct, style), body_fact,
                                             other_tel, tel, name)
        contains = ["本人%s" % name, label + mx_written(acct, style)]
        subj = "投訴：" + topic
    else:
        text = ("您好：\n\n本人%s，%s%s。%s\n营业部电话%s一直无人接听。\n请尽快处理。\n\n"
                "联系电话：%s\n\n%s\n%s\n") % (name, label, mx_written(acct, style), body_fact,
                                                  other_tel, tel, name, day)
        contains = ["本人%s" % name, label + mx_written(acct, style)]
        subj = "投诉：" + topic
    hcs = "gb18030" if cs in ("gb2312", "gbk") and not trad else cs
    charset_used = "gb18030" if cs in ("gb2312", "gbk", "gb18030") else ("big5" if trad else "utf-8")
    dt = when(1 + i % 28)
    hs = std_headers(addr(bwords(name, cs), a), fold_words("Subject", bwords(subj, cs)), dt,
                     msgid(a.split("@")[1]), R.choice([FOXMAIL, OUTLOOK, TBIRD, COREMAIL, QQMAIL]))
    atts = []
    if shape.startswith("plain"):
        cte = {"plain-b64": "base64", "plain-qp": "quoted-printable", "plain-8bit": "8bit"}[shape]
        data = single(hs, text_part(text, cs, cte))
    elif shape == "html-only":
        data = single(hs, text_part(mx_html(text), cs, "base64", subtype="html"))
        charset_used = SKIP
    elif shape == "alternative":
        data = multi(hs, "alternative", [text_part(text, cs, "base64"),
                                         text_part(mx_html(text), cs, "base64", subtype="html")])
    else:
        if shape == "mixed-pdf":
            blob, fname, ctype = pdf_bytes(["Transfer slip", "Amount %s" % amount]), "凭证.pdf", "application/pdf"
            det = "application/pdf"
        else:
            blob = docx_bytes(["交易记录说明", "金额 %s 元" % amount])
            fname = "说明.docx"
            ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            det = SKIP
        data = multi(hs, "mixed", [text_part(text, cs, "base64"), attachment(fname, blob, ctype)])
        e = {"filename": fname, "risky": False, "size": len(blob)}
        if det is not SKIP:
            e["detected_type"] = det
        atts = SKIP if det is SKIP else [att_expect(fname, blob, det)]
    del hcs
    add("matrix-%s-%s" % (cs, shape),
        "matrix: %s, %s, account after %s written %s, decoys: amount, %s, a second phone" %
        (cs, shape, label.strip("：为為 "), style, "order number" if order in body_fact else "date"),
        data,
        expect((name, a), subj, complainant={"name": name, "email": a, "phone": tel},
               text_contains=contains, accounts=[acct], phones=SKIP, attachments=atts,
               body_charset=charset_used))


def m_matrix():
    for i in range(112):
        mx_one(i)


# ---------------------------------------------------------------- output

BUILDERS = [
    m_utf8_plain, m_gbk_labelled_gb2312, m_gb18030_4byte, m_big5_hk, m_html_only_utf8,
    m_html_only_gbk_meta, m_alternative_related, m_alternative_empty_plain, m_base64_padded_chunks,
    m_wrong_charset, m_no_charset_8bit, m_undeclared_utf8,
    m_subject_gbk_padded, m_subject_split_char, m_subject_q_gb2312,
    m_attach_pdf_jpeg, m_attach_risky, m_attach_rfc2231, m_attach_odd_names, m_text_attachment,
    m_forward_rfc822, m_forward_inline_outlook, m_forward_inline_qq, m_forward_inline_gmail,
    m_reply_quoting_notice, m_evidence_rfc822,
    m_regulator_csrc, m_regulator_sac_rfc822, m_employee_forward_12386, m_customer_threatens_12386,
    m_bounce, m_auto_reply_header, m_auto_reply_subject, m_list_mail, m_own_notice,
    m_decoy_auto_in_subject,
    m_accounts_decoys, m_nickname, m_signature_name,
    m_deep_nesting, m_many_parts,
    m_matrix,
]


def main():
    for f in os.listdir(OUT_DIR):
        if f.endswith(".eml") or f.endswith(".expected.json"):
            os.remove(os.path.join(OUT_DIR, f))
    for b in BUILDERS:
        b()
    for i, (name, data, exp) in enumerate(MAILS, 1):
        base = os.path.join(OUT_DIR, "%03d-%s" % (i, name))
        with open(base + ".eml", "wb") as f:
            f.write(data)
        with open(base + ".expected.json", "w", encoding="utf-8") as f:
            json.dump(exp, f, ensure_ascii=False, indent=2, sort_keys=True)
            f.write("\n")
    print("%d mails written to %s" % (len(MAILS), OUT_DIR))


if __name__ == "__main__":
    main()
