#!/usr/bin/env python3
"""Generate crates/xiezhi-standard/data/charges.tsv, the criminal charge (罪名) code table.

Reads the 罪名规定 texts under $XIEZHI_SHARED/reference/laws/罪名规定/ (default: ../shared
relative to the repo root): the 1997 SPP opinion (the base list) and the SPC/SPP supplements
补充规定 (2002) and (二) to (八), and applies every change in date order. Cross-checks each
current charge's articles against $XIEZHI_SHARED/reference/laws/刑法.md.

Usage (from the repo root):  python3 tools/gen_charges.py
Standard library only.
"""

import os
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("XIEZHI_SHARED", REPO.parent / "shared")).resolve()
LAWS = SHARED / "reference" / "laws"
SRC_DIR = LAWS / "罪名规定"
OUT = REPO / "crates" / "xiezhi-standard" / "data" / "charges.tsv"

EXPECTED_CURRENT = 483  # the commonly cited total after 补充规定（八）

# Codes fixed before this table was complete; other code is written against them.
PINNED = {
    "C264.1": "盗窃罪",
    "C133-1.1": "危险驾驶罪",
    "C287-2.1": "帮助信息网络犯罪活动罪",
    "C266.1": "诈骗罪",
}

# Glitches in the 1997 list text, corrected here (each must occur in the source).
BASE_CORRECTIONS = [
    # name: the enumeration comma is missing (SPC list, 2002+ texts: 伪造、变造国家有价证券罪)
    ("伪造变造国家有价证券罪", "伪造、变造国家有价证券罪"),
    # name: 剌 (là) for 刺 (cì); the law (刑法第431条第2款) and item 11 read 刺探
    ("为境外窃取、剌探、收买、非法提供军事秘密罪", "为境外窃取、刺探、收买、非法提供军事秘密罪"),
]
BASIS_CORRECTIONS = [
    ("第371条第2条", "第371条第2款"),
]

# Supplement rows that add a charge replacing an old one at the same provision without a
# （取消…罪名） note: the old name is superseded by the new one (a renaming).
IMPLICIT_RENAMES = {
    "盗窃、抢夺枪支、弹药、爆炸物、危险物质罪": "盗窃、抢夺枪支、弹药、爆炸物罪",
    "抢劫枪支、弹药、爆炸物、危险物质罪": "抢劫枪支、弹药、爆炸物罪",
    "伪造、变造、转让金融机构经营许可证、批准文件罪": "伪造、变造、转让金融机构经营许可证罪",
    "编造并传播证券、期货交易虚假信息罪": "编造并传播证券交易虚假信息罪",
    "诱骗投资者买卖证券、期货合约罪": "诱骗投资者买卖证券罪",
    "操纵证券、期货交易价格罪": "操纵证券交易价格罪",
}

# Supplement rows whose 取消 note cannot be attached by position. Keyed by the row's name
# cell with whitespace removed; value: list of (new name or None, [abolished names]).
# An entry with name None retires its names with no single successor.
ROW_OVERRIDES = {
    # 2002, 第168条: one charge split into two; no single successor.
    "国有公司、企业、事业单位人员失职罪国有公司、企业、事业单位人员滥用职权罪"
    "（取消徇私舞弊造成破产、亏损罪罪名）": [
        ("国有公司、企业、事业单位人员失职罪", []),
        ("国有公司、企业、事业单位人员滥用职权罪", []),
        (None, ["徇私舞弊造成破产、亏损罪"]),
    ],
    # 2002, 第397条: the SPP-only 国家机关工作人员徇私舞弊罪 folds into both charges.
    "滥用职权罪、玩忽职守罪（取消国家机关工作人员徇私舞弊罪罪名）": [
        ("滥用职权罪", []),
        ("玩忽职守罪", []),
        (None, ["国家机关工作人员徇私舞弊罪"]),
    ],
    # 2003, 第344条: the 取消 note belongs to the first name (the renamed 珍贵树木 charge).
    "非法采伐、毁坏国家重点保护植物罪；非法收购、运输、加工、出售国家重点保护植物、"
    "国家重点保护植物制品罪（取消非法采伐、毁坏珍贵树木罪罪名）": [
        ("非法采伐、毁坏国家重点保护植物罪", ["非法采伐、毁坏珍贵树木罪"]),
        ("非法收购、运输、加工、出售国家重点保护植物、国家重点保护植物制品罪", []),
    ],
}

# Names the 2002 supplement abolishes that only the SPC 1997 list used (the SPP list, our
# base, already had the unified name), so they are not rows here.
SPC_ONLY_NAMES = {"枉法裁判罪", "国家机关工作人员签订、履行合同失职罪"}

# The 1998 NPCSC decision on foreign exchange crimes, basis of 骗购外汇罪.
DECISION_BASIS = "全国人大常委会关于惩治骗购外汇、逃汇和非法买卖外汇犯罪的决定"
DECISION_CODE_PREFIX = "CD"  # C + D(决定) + article of the decision

CN_DIGITS = {"零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def cn2int(s):
    """Chinese numeral (up to 9999) or ASCII digits to int."""
    if s.isdigit():
        return int(s)
    total, num = 0, 0
    for ch in s:
        if ch in CN_DIGITS:
            num = CN_DIGITS[ch]
        elif ch in "十百千":
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (num or 1) * unit
            num = 0
        else:
            raise ValueError(f"not a numeral: {s!r}")
    return total + num


NUM = r"[0-9一二三四五六七八九十百千零]+"
ARTICLE_RE = re.compile(rf"第({NUM})条(?:之({NUM}))?")


def normalize_basis(text, prev_article=None):
    """`第二百三十七条第一款、第二款` -> (`第237条第1款、第2款`, (237, 0)).

    Parts without 条 (e.g. `第3款`) belong to the previous article (prev_article if first).
    Returns the normalized text and the first (article, 之N) of the text.
    """
    text = text.translate(FULLWIDTH).strip()
    out = []
    first = None
    pos = 0
    token_re = re.compile(rf"第({NUM})(条|款|项)(?:之({NUM}))?|、|和")
    while pos < len(text):
        m = token_re.match(text, pos)
        if not m:
            raise ValueError(f"cannot parse article reference {text!r} at {pos}")
        if m.group(0) in ("、", "和"):
            out.append("、")
        else:
            n = cn2int(m.group(1))
            kind = m.group(2)
            if kind == "条":
                sub = cn2int(m.group(3)) if m.group(3) else 0
                out.append(f"第{n}条" + (f"之{'一二三四五六七八九'[sub - 1]}" if sub else ""))
                if first is None:
                    first = (n, sub)
            else:
                if first is None:
                    first = prev_article
                out.append(f"第{n}{kind}")
        pos = m.end()
    return "".join(out), first


def article_key_str(art):
    n, sub = art
    return f"{n}" + (f"-{sub}" if sub else "")


def basis_with_article(norm, art):
    """Prefix `第N条` when a part such as `第3款` lacks its article."""
    if norm.startswith(f"第{art[0]}条"):
        return norm
    head = f"第{art[0]}条" + (f"之{'一二三四五六七八九'[art[1] - 1]}" if art[1] else "")
    return head + norm


def read(path):
    return path.read_text(encoding="utf-8")


def in_force_date(text, fallback_from_name):
    """(YYYY-MM-DD, how) from 自…起施行 / `… 施行`; else the publication date."""
    t = text.translate(FULLWIDTH)
    for pat in (r"自(\d{4})年(\d{1,2})月(\d{1,2})日起施行", r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*施行"):
        m = re.search(pat, t)
        if m:
            y, mo, d = map(int, m.groups())
            return f"{y:04d}-{mo:02d}-{d:02d}", "in force"
    m = re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*最高人民法院、最高人民检察院公告公布", t)
    if m:
        y, mo, d = map(int, m.groups())
        return f"{y:04d}-{mo:02d}-{d:02d}", "published (no in-force date given)"
    return fallback_from_name, "file-name date (no in-force or publication date given)"


# ---------------------------------------------------------------------------------------------
# The table being built


class Table:
    def __init__(self):
        self.rows = []  # dicts in creation order
        self.by_code = {}
        self.ordinals = defaultdict(int)  # article key -> last ordinal used
        self.notes = []

    def current(self, name):
        hits = [r for r in self.rows if r["name"] == name and not r["valid_until"]]
        if len(hits) > 1:
            raise SystemExit(f"two current rows named {name}")
        return hits[0] if hits else None

    def add(self, name, basis, art, valid_from, code_prefix="C"):
        if self.current(name):
            raise SystemExit(f"charge {name} added twice")
        key = (code_prefix, art)
        self.ordinals[key] += 1
        code = f"{code_prefix}{article_key_str(art)}.{self.ordinals[key]}"
        row = {
            "code": code,
            "name": name,
            "basis": basis,
            "valid_from": valid_from,
            "valid_until": "",
            "replaced_by": "",
        }
        assert code not in self.by_code
        self.rows.append(row)
        self.by_code[code] = row
        return row

    def retire(self, name, date, successor):
        row = self.current(name)
        if row is None:
            if name in SPC_ONLY_NAMES:
                self.notes.append(name)
                return None
            raise SystemExit(f"cannot retire {name}: no current row with that name")
        row["valid_until"] = date
        row["replaced_by"] = successor["code"] if successor else ""
        return row


# ---------------------------------------------------------------------------------------------
# 1997 base list


def parse_base(table, path):
    text = read(path).translate(FULLWIDTH)
    body = text.split("<!-- INFO END -->", 1)[1]
    for wrong, right in BASE_CORRECTIONS + BASIS_CORRECTIONS:
        if wrong not in body:
            raise SystemExit(f"correction no longer applies: {wrong}")
        body = body.replace(wrong, right)
    items = []
    # Sections between headings; paragraphs joined so that an item split across paragraphs
    # is read whole. A name is non-digit text (with （边）/（境）) ending in 罪, followed by
    # its articles in （第…）.
    item_re = re.compile(r"(?:(\d+)[．.])?\s*((?:[^（）\d\s]|（[边境]）)+?罪)\s*（(第[^）]*)）")
    for section in re.split(r"^#+ .*$", body, flags=re.M):
        joined = re.sub(r"\s*\n\s*", "", section.strip())
        if "（第" not in joined:
            continue
        pos = 0
        for m in item_re.finditer(joined):
            gap = joined[pos:m.start()].strip()
            if gap:
                raise SystemExit(f"unparsed text in 1997 list: {gap!r}")
            pos = m.end()
            items.append((int(m.group(1)) if m.group(1) else None, m.group(2), m.group(3)))
        rest = joined[pos:].strip()
        if rest and not rest.startswith("为保证"):
            raise SystemExit(f"unparsed text in 1997 list: {rest[:60]!r}")
    # Numbering check: numbers run 1..N; an unnumbered item fills a gap.
    unnumbered = []
    for i, (num, name, _) in enumerate(items, start=1):
        if num is None:
            unnumbered.append((i, name))
        elif num != i:
            raise SystemExit(f"1997 list item {name}: number {num}, position {i}")
    for name, basis_text in ((n, b) for _, n, b in items):
        basis, art = normalize_basis(basis_text)
        table.add(name, "刑法" + basis, art, "")
    return len(items), unnumbered


# ---------------------------------------------------------------------------------------------
# Supplements


def table_rows(text):
    """(article cell, name cell) of every data row of the markdown tables."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or re.fullmatch(r"\|[-|\s]*\|", line):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 2:
            raise SystemExit(f"unexpected table row: {line}")
        if cells == ["刑法条文", "罪名"]:
            continue
        rows.append(tuple(cells))
    return rows


def split_abolished(text):
    """`出售、非法提供公民个人信息罪和非法获取公民个人信息罪罪名` -> [names]."""
    text = text.strip()
    if text.endswith("罪罪名"):
        text = text[: -len("罪名")]
    text = re.sub(rf"^刑法原第{NUM}条第{NUM}项", "", text)
    parts = text.split("罪和")
    names = [p + "罪" for p in parts[:-1]] + [parts[-1]]
    for n in names:
        if not n.endswith("罪"):
            raise SystemExit(f"cannot read abolished name in {text!r}")
    return names


def parse_name_cell(cell):
    """Name cell -> [(new name or None, [abolished names])]."""
    # Whitespace inside a name is a glitch (非法提供 商业秘密罪), as is whitespace before a
    # （取消…） note; other whitespace after 罪 or ） separates two entries.
    cell = re.sub(r"(?<![罪）])\s+|\s+(?=（)", "", cell.strip())
    compact = re.sub(r"\s+", "", cell)
    if compact in ROW_OVERRIDES:
        entries = ROW_OVERRIDES[compact]
        for name, olds in entries:
            for n in ([name] if name else []) + olds:
                if n not in compact:
                    raise SystemExit(f"override name {n} not in row {compact}")
        return entries
    entries = []
    for part in re.split(r"\s+|；", cell):
        if not part:
            continue
        if "取消" in part:
            i = part.index("取消")
            name = part[:i].rstrip("（").strip() or None
            olds = split_abolished(part[i + 2 :].rstrip("）"))
        else:
            name, olds = part, []
        if name is not None and (not name.endswith("罪") or "罪、" in name and "犯罪、" not in name):
            raise SystemExit(f"cannot read charge name {name!r}; add a ROW_OVERRIDES entry")
        entries.append((name, olds))
    return entries


def apply_supplement(table, path, date, log):
    text = read(path)
    body = text.split("<!-- INFO END -->", 1)[1]
    rows = table_rows(body)
    changes = []  # (name or None, [old], basis, art, implicit)
    prev_cell = None
    for art_cell, name_cell in rows:
        entries = parse_name_cell(name_cell)
        art_cell = re.sub(r"（《.*$", "", art_cell).strip() or prev_cell
        if art_cell is None:
            raise SystemExit(f"row without article: {name_cell}")
        prev_cell = art_cell
        named = [e for e in entries if e[0] is not None]
        parts = art_cell.split()
        if len(parts) == 1:
            parts = parts * max(len(named), 1)
        elif len(parts) != len(named):
            raise SystemExit(f"{path.name}: {len(parts)} article parts for {len(named)} names")
        prev_art = None
        bases = []
        for p in parts:
            if p.startswith("《决定》"):
                m = re.fullmatch(rf"《决定》第({NUM})条", p)
                bases.append((f"{DECISION_BASIS}第{cn2int(m.group(1))}条", (cn2int(m.group(1)), 0), "D"))
                continue
            norm, art = normalize_basis(p, prev_art)
            prev_art = art
            bases.append(("刑法" + basis_with_article(norm, art), art, ""))
        k = 0
        for name, olds in entries:
            if name is None:
                changes.append((None, olds, None, None, ""))
            else:
                changes.append((name, olds, *bases[k]))
                k += 1
    # The 2024 supplement is prose: 将…第一百六十九条（…）的罪名由“X”修改为“Y”。
    for m in re.finditer(r"将《中华人民共和国刑法》(第[^（]+?条(?:之[一二三四五六七八九])?)（.*?）的罪名由“([^”]+)”修改为“([^”]+)”", body):
        norm, art = normalize_basis(m.group(1))
        changes.append((m.group(3), [m.group(2)], "刑法" + norm, art, ""))
    if not changes:
        raise SystemExit(f"no changes read from {path.name}")

    added = renamed = retired = 0
    for name, olds, basis, art, kind in changes:
        target = None
        if name is not None:
            target = table.current(name)
            if target is not None:
                # Restated with (possibly broader) articles, e.g. 强奸罪 第236条 after 奸淫幼女罪
                # was folded in: keep the code, take the supplement's basis.
                if target["basis"] != basis:
                    log.append(f"{date} basis {target['code']} {name}: {target['basis']} -> {basis}")
                    target["basis"] = basis
            else:
                prefix = "C" + kind if kind else "C"
                target = table.add(name, basis, art, date, prefix)
                implicit = IMPLICIT_RENAMES.get(name)
                if implicit:
                    if implicit not in read(SRC_DIR / BASE_FILE):
                        raise SystemExit(f"implicit rename source {implicit} not in 1997 list")
                    olds = olds + [implicit]
                if olds:
                    renamed += 1
                else:
                    added += 1
        for old in olds:
            if table.retire(old, date, target) is not None:
                retired += 1
    return added, renamed, retired


# ---------------------------------------------------------------------------------------------
# Cross-check against the Criminal Law text


def law_articles():
    """{(article, 之N): number of paragraphs} from 刑法.md."""
    text = read(LAWS / "刑法.md").split("## 第二编 分则", 1)[1]
    arts = {}
    cur = None
    head_re = re.compile(rf"^第({NUM})条(?:之({NUM}))?\s")
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            cur = None
            continue
        m = head_re.match(line)
        if m:
            cur = (cn2int(m.group(1)), cn2int(m.group(2)) if m.group(2) else 0)
            arts[cur] = 1
        elif cur is not None and not line.startswith("（"):
            arts[cur] += 1
    return arts


def check_against_law(table):
    arts = law_articles()
    problems = []
    for r in table.rows:
        if r["valid_until"] or not r["basis"].startswith("刑法"):
            continue
        art = None
        for m in re.finditer(rf"第(\d+)(条|款|项)(?:之([一二三四五六七八九]))?", r["basis"]):
            if m.group(2) == "条":
                art = (int(m.group(1)), "一二三四五六七八九".index(m.group(3)) + 1 if m.group(3) else 0)
                if art not in arts:
                    problems.append(f"{r['code']} {r['name']}: 刑法 has no article {art}")
            elif m.group(2) == "款" and art in arts and int(m.group(1)) > arts[art]:
                problems.append(f"{r['code']} {r['name']}: article {art} has {arts[art]} paragraph(s), basis cites {m.group(0)}")
    return problems


# ---------------------------------------------------------------------------------------------

BASE_FILE = "最高人民检察院关于适用刑法分则规定的犯罪的罪名的意见(1997-12-25).md"


def main():
    files = sorted(p.name for p in SRC_DIR.glob("*.md"))
    if BASE_FILE not in files:
        raise SystemExit(f"missing {BASE_FILE} in {SRC_DIR}")
    supplements = []
    for f in files:
        if f == BASE_FILE:
            continue
        m = re.search(r"\((\d{4}-\d{2}-\d{2})\)\.md$", f)
        if not m or "补充规定" not in f:
            raise SystemExit(f"unexpected file {f}")
        date, how = in_force_date(read(SRC_DIR / f), m.group(1))
        supplements.append((date, f, how))
    supplements.sort()

    table = Table()
    log = []
    n_base, unnumbered = parse_base(table, SRC_DIR / BASE_FILE)
    print(f"1997 list: {n_base} charges; unnumbered items: {unnumbered}")
    date_notes = []
    for date, f, how in supplements:
        added, renamed, retired = apply_supplement(table, SRC_DIR / f, date, log)
        cur = sum(1 for r in table.rows if not r["valid_until"])
        print(f"{f}: {how} {date}: +{added} new, {renamed} renamed/merged into new names, "
              f"{retired} names retired -> {cur} current")
        if how != "in force":
            date_notes.append(f"{f}: {how}, used {date}")
    for line in log:
        print(line)

    # Checks
    for code, name in PINNED.items():
        row = table.by_code.get(code)
        if not row or row["name"] != name:
            raise SystemExit(f"pinned code {code} is {row and row['name']}, expected {name}")
    current = [r for r in table.rows if not r["valid_until"]]
    retired = [r for r in table.rows if r["valid_until"]]
    names = [r["name"] for r in current]
    assert len(names) == len(set(names)), "duplicate current names"
    for r in table.rows:
        assert r["name"].endswith("罪"), r
        if r["replaced_by"]:
            assert r["replaced_by"] in table.by_code, r
    problems = check_against_law(table)
    for p in problems:
        print("LAW CHECK:", p)
    no_successor = [r for r in retired if not r["replaced_by"]]
    print(f"current charges: {len(current)}; retired rows: {len(retired)} "
          f"({len(no_successor)} without replaced_by); total rows: {len(table.rows)}")
    if len(current) != EXPECTED_CURRENT:
        print(f"WARNING: {len(current)} current charges, commonly cited total is {EXPECTED_CURRENT}")

    # Output: rows sorted by code (article, 之N, ordinal); the 决定 charge last.
    def sort_key(r):
        m = re.fullmatch(r"C(D?)(\d+)(?:-(\d+))?\.(\d+)", r["code"])
        return (m.group(1), int(m.group(2)), int(m.group(3) or 0), int(m.group(4)))

    table.rows.sort(key=sort_key)
    decision_rows = [r for r in table.rows if r["code"].startswith(DECISION_CODE_PREFIX)]
    header = [
        "# Criminal charges (罪名) with their Criminal Law articles: every charge of the 1997 list and",
        "# of the supplements, current and retired. Generated by tools/gen_charges.py; do not edit by hand.",
        "# source: shared/reference/laws/罪名规定/ ("
        + "; ".join([BASE_FILE] + [f for _, f, _ in supplements])
        + "); cross-checked against shared/reference/laws/刑法.md",
        "# columns: code, name, basis, valid_from, valid_until, replaced_by",
        "# code scheme: C + main article number (first article of the basis, no zero padding) + -N for 之N"
        " + . + ordinal of the charge within that article in the order the 罪名规定 list it (1997 list order,"
        " then each supplement in date order), e.g. 盗窃罪 C264.1, 危险驾驶罪 (第133条之一) C133-1.1."
        " A code never changes meaning: a renamed charge gets the next free ordinal of its article and the old"
        " row gets valid_until (the renaming supplement's in-force date) and replaced_by (the new code).",
        "# valid_from: empty = in the 1997 list (SPP opinion adopted 1997-12-17); otherwise the in-force date"
        " (本规定自…起施行 / …施行) of the supplement that created the name. valid_until: first day not in force.",
    ]
    if decision_rows:
        header.append(
            "# code scheme exception: 骗购外汇罪 rests on 第1条 of the 1998 NPCSC decision on foreign-exchange"
            " crimes, not on a 刑法 article; its code is CD1.1 (C + D for 决定 + its article) and its basis names the decision."
        )
    header += [
        "# retired without replaced_by: 徇私舞弊造成破产、亏损罪 (2002, split into 国有公司、企业、事业单位人员失职罪 C168.2"
        " and …滥用职权罪 C168.3), 国家机关工作人员徇私舞弊罪 (2002, SPP-only name folded into 滥用职权罪 C397.1 and"
        " 玩忽职守罪 C397.2), 嫖宿幼女罪 (2015, abolished; the supplement names no successor).",
        "# 2002 unification: the supplement also abolishes 枉法裁判罪 and 国家机关工作人员签订、履行合同失职罪, SPC-only"
        " names; this table follows the SPP list, which already used the kept names, so they have no rows.",
        "# implicit renamings (2002 rows with a new name for an existing provision but no 取消 note): "
        + "; ".join(f"{o} -> {n}" for n, o in IMPLICIT_RENAMES.items()) + ".",
        "# source corrections (1997 list): 伪造变造国家有价证券罪 -> 伪造、变造国家有价证券罪; 剌探 -> 刺探 in"
        " 为境外窃取、刺探、收买、非法提供军事秘密罪; basis 第371条第2条 -> 第371条第2款; item 13 (放火罪) is unnumbered"
        " in the source. A supplement restating a kept name with new articles (强奸罪 第236条, 违法发放贷款罪 第186条,"
        " 滥用职权罪/玩忽职守罪 第397条) updates that row's basis.",
        f"# counts: {len(current)} current charges (commonly cited total after 补充规定（八）: {EXPECTED_CURRENT}),"
        f" {len(retired)} retired rows.",
    ]
    for note in date_notes:
        header.append(f"# date note: {note}")
    with open(OUT, "w", encoding="utf-8", newline="\n") as fh:
        for line in header:
            fh.write(line + "\n")
        for r in table.rows:
            fh.write("\t".join([r["code"], r["name"], r["basis"], r["valid_from"], r["valid_until"], r["replaced_by"]]) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
