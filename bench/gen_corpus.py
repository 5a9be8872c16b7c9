#!/usr/bin/python3
"""Writes a seeded corpus of real-looking complaint mails for the benchmarks.

Usage: gen_corpus.py OUT_DIR [COUNT] [SEED]

The mix follows a complaint mailbox: plain UTF-8, GBK labelled gb2312 with
base64 subjects, GB18030, Big5, HTML-only, multipart/alternative, and one in
five with an attachment (PDF-like or JPEG-like bytes of 5-80 KB). The same
seed gives the same files, byte for byte."""
import base64
import os
import random
import sys

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
TOPICS = [
    ("资金账号无法登录", "从{d}起无法登录交易系统，委托无法撤单，造成损失约{amt}元。"),
    ("重复扣款", "上周申购基金被重复扣款两次，共计{amt}元，至今未退回，请核实并退款。"),
    ("营业部代客操作", "营业部工作人员在未经本人同意的情况下代客操作，导致亏损{amt}元。"),
    ("佣金收费不合理", "我的账户佣金费率与开户时约定不符，多收取手续费{amt}元。"),
    ("期货强行平仓", "在保证金充足的情况下被强行平仓，订单号{order}，损失{amt}元。"),
    ("客服电话无人接听", "多次拨打客服热线均无人接听，业务无法办理。"),
]


def name(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def account(rng):
    return str(rng.randint(10**9, 10**12 - 1))


def body_text(rng, who, acct):
    topic, fact = rng.choice(TOPICS)
    fact = fact.format(d="11月%d日" % rng.randint(1, 28), amt=rng.randint(100, 500000),
                       order="2026%08d" % rng.randint(0, 10**8 - 1))
    lines = ["您好：", "", "本人是贵公司客户，资金账号：%s。%s" % (acct, fact),
             "联系电话：1%d%08d。" % (rng.choice([38, 39, 50, 86, 77]), rng.randint(0, 10**8 - 1))]
    lines += ["具体情况如下：" + fact * rng.randint(1, 6) for _ in range(rng.randint(1, 8))]
    lines += ["", "请尽快处理并答复。", "", "投诉人：" + who, "2026年11月%d日" % rng.randint(1, 28)]
    return topic, "\n".join(lines) + "\n"


def b64(data):
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


def ew(text, charset):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def headers(rng, i, who, subj, charset, addr):
    return ("From: %s <%s>\r\nTo: ts@broker.example.cn\r\nSubject: %s\r\n"
            "Date: Mon, %d Nov 2026 %02d:%02d:00 +0800\r\nMessage-ID: <bench-%06d@%s>\r\n"
            "MIME-Version: 1.0\r\n" % (ew(who, charset), addr, ew(("投訴：" if charset == "big5" else "投诉：") + subj, charset),
                                        rng.randint(1, 28), rng.randint(0, 23),
                                        rng.randint(0, 59), i, addr.split("@")[1]))


def attachment(rng):
    if rng.random() < 0.5:
        data = b"%PDF-1.4\n" + rng.randbytes(rng.randint(5000, 80000))
        return "application/pdf", "凭证.pdf", data
    data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(rng.randint(5000, 80000))
    return "image/jpeg", "截图.jpg", data


def one_mail(rng, i):
    who = name(rng)
    acct = account(rng)
    addr = "user%d@example%d.cn" % (i, rng.randint(1, 50))
    topic, text = body_text(rng, who, acct)
    kind = rng.choices(["utf8", "gbk", "gb18030", "big5", "html", "alt"],
                       [30, 30, 10, 5, 10, 15])[0]
    charset = {"utf8": "utf-8", "gbk": "gb2312", "gb18030": "gb18030", "big5": "big5"}.get(kind, "utf-8")
    if kind == "big5":  # a customer in Hong Kong or Taiwan writes traditional characters
        who, topic = rng.choice(["陳大文", "黃志明", "林美玲"]), "交易系統無法登入"
        text = ("您好：\n\n本人是貴公司客戶，資金帳號：%s。自十一月起交易系統無法登入，"
                "委託無法撤單，造成損失。\n\n請盡快處理。\n\n投訴人：%s\n" % (acct, who)) * rng.randint(1, 4)
    hcs = "gbk" if charset == "gb2312" else charset
    head = headers(rng, i, who, topic, hcs, addr)
    html = "<html><body>" + "".join("<p>%s</p>" % l for l in text.split("\n")) + "</body></html>"
    if kind == "html":
        part = ("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + b64(html.encode()))
    elif kind == "alt":
        part = ("Content-Type: multipart/alternative; boundary=\"alt%d\"\r\n\r\n--alt%d\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s"
                "--alt%d\r\nContent-Type: text/html; charset=utf-8\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n%s--alt%d--\r\n"
                % (i, i, b64(text.encode()), i, b64(html.encode()), i))
    else:
        part = ("Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s"
                % (charset, b64(text.encode(hcs, "replace"))))
    if rng.random() < 0.2:
        ctype, fname, data = attachment(rng)
        part = ("Content-Type: multipart/mixed; boundary=\"mix%d\"\r\n\r\n--mix%d\r\n%s\r\n--mix%d\r\n"
                "Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n%s--mix%d--\r\n"
                % (i, i, part, i, ctype, ew(fname, "utf-8"), ew(fname, "utf-8"), b64(data), i))
    return (head + part).encode()


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261202
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    for i in range(count):
        with open(os.path.join(out, "%06d.eml" % i), "wb") as f:
            f.write(one_mail(rng, i))


if __name__ == "__main__":
    main()
