"""The Simplified Chinese catalogue: complete, compiled, and what the app actually speaks.

zh-hans is the app's default language, so an untranslated string shows up in English on a
grid worker's phone. The .po is parsed here with a few lines of our own (no polib), and the
committed .mo is read back with the standard library's `gettext` to prove it was compiled
from the .po as it stands now.
"""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO = CATALOGUE / "django.po"
MO = CATALOGUE / "django.mo"

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")
# %(name)s, %(n)d, %(limit)d ...: Python named placeholders, as Django writes {{ n }} too.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        ctxt = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {ctxt}{self.msgid!r}"


def unquote(literal: str, where: str) -> str:
    body = literal.strip()[1:-1]
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            escape = body[i + 1 : i + 2]
            assert escape in ESCAPES, f"{where}: unknown escape \\{escape}"
            out.append(ESCAPES[escape])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def parse_po(path: Path) -> list[Entry]:
    """Every live entry of a .po, the header (msgid "") included; obsolete `#~` ones skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None  # which string a continuation line extends
    flags: set[str] = set()

    def finish() -> None:
        nonlocal entry, target
        if entry is not None:
            entries.append(entry)
        entry, target = None, None

    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            flags = set()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            finish()
            flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
        elif line.startswith("#"):
            finish()
        elif line.startswith('"'):
            assert entry is not None, f"{path}:{no}: a string outside an entry"
            assert target is not None, f"{path}:{no}: a string outside an entry"
            key, index = target
            text = unquote(line, f"{path}:{no}")
            if key == "msgstr":
                entry.msgstr[index] += text
            else:
                setattr(entry, key, (getattr(entry, key) or "") + text)
        else:
            m = KEYWORD.match(line)
            assert m, f"{path}:{no}: cannot read {raw!r}"
            key, index, literal = m.group(1), m.group(2), m.group(3)
            if key in ("msgctxt", "msgid") and entry is not None and entry.msgstr:
                finish()
            if entry is None:
                entry, flags = Entry(line=no, flags=flags), set()
            text = unquote(literal, f"{path}:{no}")
            if key.startswith("msgstr"):
                i = int(index) if index is not None else 0
                entry.msgstr[i] = text
                target = ("msgstr", i)
            else:
                setattr(entry, key, text)
                target = (key, 0)
    finish()
    return entries


def header(entries: list[Entry]) -> dict[str, str]:
    (head,) = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    lines = [ln for ln in head.msgstr[0].split("\n") if ln]
    return dict(ln.split(": ", 1) for ln in lines)


def messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if not (e.msgid == "" and e.msgctxt is None)]


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO.is_file(), f"{PO} is missing: run makemessages -l zh_Hans"
    return parse_po(PO)


def test_header_says_simplified_chinese_with_one_plural_form(entries):
    h = header(entries)
    assert h["Language"] == "zh_Hans"
    assert h["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert "charset=UTF-8" in h["Content-Type"]


def test_every_message_is_translated_and_none_is_fuzzy(entries):
    msgs = messages(entries)
    assert msgs, "the catalogue has no messages"
    problems = []
    for e in msgs:
        if "fuzzy" in e.flags:
            problems.append(f"fuzzy  {e}")
        if not e.msgstr or not all(s.strip() for s in e.msgstr.values()):
            problems.append(f"empty  {e}")
        if e.msgid_plural is not None and set(e.msgstr) != {0}:
            problems.append(f"zh has one plural form, msgstr[0] only: {e}")
    head = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    if "fuzzy" in head.flags:
        problems.append("the header is fuzzy (msgfmt would skip it)")
    assert not problems, "Untranslated or unchecked strings:\n" + "\n".join(problems)


def test_translations_keep_every_placeholder(entries):
    problems = []
    for e in messages(entries):
        source = set(PLACEHOLDER.findall(e.msgid))
        allowed = source | set(PLACEHOLDER.findall(e.msgid_plural or ""))
        for s in e.msgstr.values():
            found = set(PLACEHOLDER.findall(s))
            if not source <= found or not found <= allowed:
                problems.append(f"{e}: {sorted(found)} against {sorted(allowed)}")
    assert not problems, "Placeholders changed:\n" + "\n".join(problems)


def test_committed_mo_is_compiled_from_this_po(entries):
    """Every translation of the .po is in the .mo with the same text: compilemessages was run."""
    assert MO.is_file(), f"{MO} is missing: run compilemessages"
    with MO.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    assert mo.info().get("language") == "zh_Hans"
    stale = []
    for e in messages(entries):
        want = e.msgstr.get(0, "")
        if not want:
            continue  # reported by the completeness test
        if e.msgid_plural is not None:
            got = (
                mo.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 1)
                if e.msgctxt is not None
                else mo.ngettext(e.msgid, e.msgid_plural, 1)
            )
        else:
            got = mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt is not None else mo.gettext(e.msgid)
        if got != want:
            stale.append(f"{e}: .mo has {got!r}, .po has {want!r}")
    assert not stale, "The .mo is older than the .po; run compilemessages:\n" + "\n".join(stale)


@pytest.fixture
def fresh_language():
    """LocaleMiddleware leaves the request's language active on the thread; later tests
    must see the default again, not the English of the last request."""
    translation.deactivate()
    yield
    translation.deactivate()


def test_the_login_page_speaks_chinese_by_default(client, fresh_language):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-Hans"' in html
    for text in ("登录基层治理平台", "用户名", "密码", "登录"):
        assert text in html
    assert "Log in to Grassroots" not in html
    assert "Password" not in html


def test_english_is_still_available(client, fresh_language):
    response = client.get("/accounts/login/", headers={"accept-language": "en"})
    assert response.status_code == 200
    assert "Log in to Grassroots" in response.content.decode()
