"""The Chinese catalogue holds to docs/glossary.md: its terms and full-width punctuation.

Each failure names the entry (its line in django.po and its msgid), so that whoever added it
can find it in a merged file.
"""

import re
from pathlib import Path
from typing import NamedTuple

import pytest
from django.conf import settings

CATALOGUE = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
GLOSSARY = settings.BASE_DIR / "docs" / "glossary.md"

CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
HALF_WIDTH = r"[:,;?!()]"
# Half-width punctuation touching a Chinese character, on either side.
MIXED = re.compile(f"{CJK}{HALF_WIDTH}|{HALF_WIDTH}{CJK}")
# Placeholders are code, not text: %(name)s, %s, %d, {name}.
PLACEHOLDER = re.compile(r"%\([^)]*\)[a-z]|%[a-z]|\{[^}]*\}")


class Entry(NamedTuple):
    line: int
    msgid: str
    msgstrs: list[str]


class Term(NamedTuple):
    chinese: str
    forbidden: list[str]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text[1:-1])


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file, with the line each starts on; obsolete (#~) ones left out."""
    entries: list[Entry] = []
    current: dict[str, list[str]] = {}
    key, start = "", 0

    def flush() -> None:
        if "msgid" in current:
            msgstrs = ["".join(v) for k, v in current.items() if k.startswith("msgstr")]
            entries.append(Entry(start, "".join(current["msgid"]), msgstrs))
        current.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line and current:
                flush()
            continue
        match = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
        if match:
            key = match[1]
            if key in ("msgctxt", "msgid") and any(k.startswith("msgstr") for k in current):
                flush()
            if not current:
                start = number
            current[key] = [_unquote(match[2])]
        elif line.startswith('"'):
            current[key].append(_unquote(line))
    flush()
    return [e for e in entries if e.msgid]  # the header has an empty msgid


def parse_glossary(text: str) -> list[Term]:
    """The table's rows: the Chinese term (column 2) and its forbidden variants (column 5)."""
    terms = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("term", "") or set(cells[0]) <= {"-"}:
            continue
        forbidden = [v.strip() for v in cells[4].split("/") if v.strip()]
        terms.append(Term(cells[1], forbidden))
    return terms


def where(entry: Entry) -> str:
    return f"django.po line {entry.line}, msgid {entry.msgid!r}"


def glossary_problems(entries: list[Entry], terms: list[Term]) -> list[str]:
    return [
        f"{where(entry)}: {msgstr!r} uses “{variant}”; the glossary says “{term.chinese}”"
        for entry in entries
        for msgstr in entry.msgstrs
        for term in terms
        for variant in term.forbidden
        if variant in msgstr
    ]


def punctuation_problems(entries: list[Entry]) -> list[str]:
    problems = []
    for entry in entries:
        for msgstr in entry.msgstrs:
            found = MIXED.search(PLACEHOLDER.sub("", msgstr))
            if found:
                problems.append(
                    f"{where(entry)}: {msgstr!r} has half-width “{found[0]}” next to Chinese; "
                    "use ：，；？！（）"
                )
    return problems


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(CATALOGUE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def terms() -> list[Term]:
    return parse_glossary(GLOSSARY.read_text(encoding="utf-8"))


def test_it_keeps_a_glossary_of_the_projects_terms(terms: list[Term]) -> None:
    chinese = {t.chinese for t in terms}
    for term in [
        "网格员",
        "社区工作人员",
        "大院组长",
        "问题清单",
        "履职清单",
        "回访",
        "调解",
        "办结",
    ]:
        assert term in chinese, term
    for term in terms:
        assert term.forbidden, f"{term.chinese} names no forbidden variant"
        # A variant inside the right term would fail every correct string.
        assert not [v for v in term.forbidden if v in term.chinese], term


def test_it_reads_every_entry_of_the_catalogue(entries: list[Entry]) -> None:
    assert len(entries) > 500
    by_id = {e.msgid: e for e in entries}
    assert by_id["grid worker"].msgstrs == ["网格员"]
    long = by_id["Ensure this value has at most %(limit_value)d character (it has %(show_value)d)."]
    assert long.msgstrs == ["最多 %(limit_value)d 个字，现有 %(show_value)d 个字，请删减。"]
    assert all(e.msgstrs for e in entries)


def test_it_uses_only_the_glossarys_terms(entries: list[Entry], terms: list[Term]) -> None:
    problems = glossary_problems(entries, terms)
    assert not problems, "\n".join(problems)


def test_it_uses_full_width_punctuation_in_chinese(entries: list[Entry]) -> None:
    problems = punctuation_problems(entries)
    assert not problems, "\n".join(problems)


def test_it_names_the_entry_that_breaks_a_rule(tmp_path: Path) -> None:
    """The checks find what they are for, and say where: a planted bad catalogue."""
    bad = parse_po(
        '# header\nmsgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#: issues/x.py:1\nmsgid "Resolved it"\nmsgstr "已结案"\n\n'
        'msgid "Outcome"\nmsgstr ""\n"达成协议: "\n"%(agreement)s"\n\n'
        'msgid "Fine"\nmsgstr "第%(no)d次回访（电话）：满意。IP 地址"\n'
    )
    terms = parse_glossary(GLOSSARY.read_text(encoding="utf-8"))

    assert [e.msgid for e in bad] == ["Resolved it", "Outcome", "Fine"]
    assert glossary_problems(bad, terms) == [
        "django.po line 7, msgid 'Resolved it': '已结案' uses “结案”; the glossary says “办结”"
    ]
    assert punctuation_problems(bad) == [
        "django.po line 10, msgid 'Outcome': '达成协议: %(agreement)s' has half-width “议:” "
        "next to Chinese; use ：，；？！（）"
    ]
