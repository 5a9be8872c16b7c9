#!/usr/bin/python3
"""Inputs and scoring for bench/bench_ocr.sh.

  ocr_pages.py gen OUT_DIR PAGES SEED
      writes OUT_DIR/truth.json (the known text of every page, its account
      numbers) and OUT_DIR/scan.pdf: PAGES pages, one complaint letter each,
      rendered by tests/corpus/scans/make_scans.py's code at 300 dpi greyscale
      with a skew of 0.3-1.0 degrees either way and speckle noise (3 per
      mille), embedded as images only (no text layer). Same seed, same bytes.

  ocr_pages.py score TRUTH.json LABEL=KIND:FILE...
      KIND is "intake" (the JSON of `intake parse --json`) or "text" (plain
      text, e.g. an ocrmypdf sidecar). Prints one line per file:
      LABEL<TAB>cer<TAB>accounts_in_text<TAB>accounts_total<TAB>accounts_extracted
      cer is the character error rate of the whole document against the known
      text (NFKC, blanks removed, as tests/corpus/scans/measure.py scores);
      accounts_in_text counts the known account numbers found as a whole digit
      run of the text; accounts_extracted is intake's "accounts" field
      compared with the known ones (-1 for plain text).
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import unicodedata

sys.dont_write_bytecode = True  # do not leave __pycache__ in tests/corpus/scans
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "corpus", "scans"))
import make_scans  # noqa: E402
from measure import norm  # noqa: E402

FIRMS = ["华信证券", "中泰期货", "国联证券", "东方财富证券", "南华期货", "银河证券"]
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑谢宋唐许韩冯邓曹彭曾萧田董"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文斌玉兰志红"
CITIES = [("上海市", "浦东新区", "张杨路"), ("北京市", "朝阳区", "建国路"), ("深圳市", "福田区", "深南大道"),
          ("广州市", "天河区", "天河路"), ("杭州市", "西湖区", "文三路"), ("成都市", "武侯区", "人民南路")]
FACTS = [
    "于{d}通过贵公司手机交易软件委托买入股票，系统显示成交后资金被冻结三天无法使用。",
    "从{d}起无法登录网上交易系统，委托无法撤单，造成损失约{amt}元。",
    "上周申购基金被重复扣款两次，共计{amt}元，至今未退回。",
    "营业部工作人员在未经本人同意的情况下代客操作，导致亏损{amt}元。",
    "我的账户佣金费率与开户时约定不符，多收取手续费{amt}元。",
    "在保证金充足的情况下被强行平仓，订单号{order}，损失{amt}元。",
    "多次拨打客服热线均无人接听，转账业务一直无法办理。",
    "客户经理推荐的理财产品风险等级与我的风险承受能力不匹配，亏损{amt}元。",
    "销户申请提交已超过十个工作日，资金仍未转回银行账户。",
]
REQUESTS = ["请贵公司核实原因并退还相关费用。", "请尽快处理并给予书面答复。",
            "要求赔偿由此造成的全部损失。", "请核查相关人员的违规行为并给予处理。"]
WIDTH = 24  # ideographs per line: fits the 595 pt page at 15 pt from x=72


def wrap(text, width=WIDTH):
    """Cuts text into lines of at most `width` ideographs (an ASCII
    character counts as half), never inside a run of digits or letters;
    punctuation stays at the end of its line."""
    lines, cur, w = [], "", 0.0
    for tok in re.findall(r"[0-9A-Za-z@._-]+|.", text):
        tw = sum(0.5 if ord(c) < 128 else 1.0 for c in tok)
        if cur and w + tw > width and tok not in "，。、：；）":
            lines.append(cur.rstrip())
            cur, w = "", 0.0
        cur += tok
        w += tw
    if cur:
        lines.append(cur.rstrip())
    return lines


def person(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def account(rng):
    return "31" + "".join(str(rng.randrange(10)) for _ in range(10))


def letter(rng):
    """One page: (lines, [accounts])."""
    who, firm = person(rng), rng.choice(FIRMS)
    accs = [account(rng)]
    if rng.random() < 0.4:
        accs.append(account(rng))
    d = "2026年%d月%d日" % (rng.randint(9, 11), rng.randint(1, 28))
    facts = rng.sample(FACTS, rng.randint(2, 3))
    facts = [f.format(d=d, amt=rng.randint(100, 500000), order="2026%08d" % rng.randrange(10**8))
             for f in facts]
    acct = "资金账号 %s" % accs[0]
    if len(accs) > 1:
        acct += "、%s" % accs[1]
    city, district, road = rng.choice(CITIES)
    lines = [rng.choice(["投诉信", "客户投诉", "关于账户问题的投诉"]), "",
             "尊敬的%s客户服务中心：" % firm, ""]
    lines += wrap("本人%s，%s，%s" % (who, acct, facts[0]))
    for f in facts[1:]:
        lines += wrap(f)
    lines += wrap(rng.choice(REQUESTS)) + [""]
    if rng.random() < 0.5:
        lines.append("电子邮箱：%s%d@example.com" % (rng.choice(["zhang", "li", "wang", "chen", "liu"]),
                                                 rng.randint(1, 999)))
    else:
        lines += wrap("通信地址：%s%s%s%d号%d室" % (city, district, road, rng.randint(1, 999),
                                               rng.randint(101, 2505)))
    lines += ["联系电话：1%d%08d" % (rng.choice([38, 39, 50, 86, 77]), rng.randrange(10**8)), "",
              "投诉人：%s" % who, "2026年11月%d日" % rng.randint(1, 28)]
    return lines, accs


def scan_pdf(pages, tmp, seed):
    """make_scans.image_pdf with a skew of its own for every page."""
    rng = random.Random(seed)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for i, lines in enumerate(pages):
        skew = rng.choice([-1, 1]) * rng.uniform(0.3, 1.0)
        src = os.path.join(tmp, "src%03d.pdf" % i)
        with open(src, "wb") as f:
            f.write(make_scans.text_pdf([lines], skew))
        img, = make_scans.render(src, os.path.join(tmp, "p%03d" % i), ["-r", "300", "-gray"])
        _, w, h, pix = make_scans.read_pnm(img)
        os.unlink(img)
        make_scans.add_noise(pix, 3, seed * 1000 + i)
        base = len(objs) + 1
        kids.append(b"%d 0 R" % base)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
                    b" /Resources << /XObject << /Im1 %d 0 R >> >> /Contents %d 0 R >>"
                    % (base + 1, base + 2))
        objs.append(make_scans.stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d"
                                      b" /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode"
                                      % (w, h), make_scans.zlib.compress(bytes(pix), 6)))
        objs.append(make_scans.stream(b"", b"q 595 0 0 842 0 0 cm /Im1 Do Q"))
    objs[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    return make_scans.pdf_objects(objs)


def gen(out, n, seed):
    rng = random.Random(seed)
    pages, accounts = [], []
    for _ in range(n):
        lines, accs = letter(rng)
        pages.append(lines)
        accounts.append(accs)
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="ocr_pages.", dir=out)
    try:
        data = scan_pdf(pages, tmp, seed)
    finally:
        subprocess.run(["rm", "-rf", tmp], check=True)
    with open(os.path.join(out, "scan.pdf.tmp"), "wb") as f:
        f.write(data)
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump({"seed": seed, "pages": ["\n".join(p) for p in pages], "accounts": accounts},
                  f, ensure_ascii=False, indent=1)
    os.rename(os.path.join(out, "scan.pdf.tmp"), os.path.join(out, "scan.pdf"))


def levenshtein(a, b):
    """Edit distance, bit-parallel (Myers 1999, Hyyro 2003): a few big-integer
    operations per character of b, so whole documents score in milliseconds
    (measure.py's quadratic version takes minutes on 20 pages)."""
    if not a:
        return len(b)
    m = len(a)
    full, top = (1 << m) - 1, 1 << (m - 1)
    peq = {}
    for i, c in enumerate(a):
        peq[c] = peq.get(c, 0) | (1 << i)
    pv, mv, score = full, 0, m
    for c in b:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & full) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & full
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv
    return score


def score(truth_path, specs):
    truth = json.load(open(truth_path, encoding="utf-8"))
    t = norm("".join(truth["pages"]))
    known = [a for accs in truth["accounts"] for a in accs]
    for spec in specs:
        label, rest = spec.split("=", 1)
        kind, path = rest.split(":", 1)
        extracted = -1
        if kind == "intake":
            d = json.load(open(path, encoding="utf-8"))
            text = d["text"]
            got = [a["value"] for a in d["accounts"]]
            extracted = sum(1 for a in known if a in got)
        else:
            text = open(path, encoding="utf-8", errors="replace").read()
        g = norm(text)
        runs = set(re.findall(r"[0-9]+", unicodedata.normalize("NFKC", text)))
        in_text = sum(1 for a in known if a in runs)
        print("%s\t%.5f\t%d\t%d\t%d" % (label, levenshtein(t, g) / max(1, len(t)), in_text,
                                        len(known), extracted))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 2 and sys.argv[1] == "selftest":
        from measure import levenshtein as slow
        rng = random.Random(7)
        for _ in range(300):
            a = "".join(rng.choice("ab张李1 ") for _ in range(rng.randint(0, 70)))
            b = "".join(rng.choice("ab张李1 ") for _ in range(rng.randint(0, 70)))
            assert levenshtein(a, b) == slow(a, b), (a, b)
        print("ok")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
