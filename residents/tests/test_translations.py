"""Tibetan (bo) for the residents' pages: every string they show is in the catalogue.

The public msgids are collected from the code, not typed again here: the "resident" context
of the residents' templates and Python, and the photo checks the report form shares with the
grid worker's (issues/photos.py). Each must be translated in bo (and zh_Hans); then every
public page is drawn in Tibetan and must show none of the English or Chinese fixed text.
"""

import gettext
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from grassroots.tests.test_translations import PLACEHOLDER, header, messages, parse_po
from issues.models import Issue
from issues.tests.factories import IssueEventFactory, IssueFactory, category
from residents.tests.factories import CourtyardLinkFactory

ROOT = Path(settings.BASE_DIR)
LOCALE = Path(settings.LOCALE_PATHS[0])
BO_PO = LOCALE / "bo" / "LC_MESSAGES" / "django.po"
BO_MO = LOCALE / "bo" / "LC_MESSAGES" / "django.mo"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"

TEMPLATE_TRANSLATE = re.compile(r'\{% translate "((?:[^"\\]|\\.)*)" context "resident" %\}')
TEMPLATE_BLOCK = re.compile(
    r'\{% blocktranslate context "resident"[^%]*%\}(.*?)\{% endblocktranslate %\}', re.S
)
TEMPLATE_BOTH = re.compile(r'\{% both "((?:[^"\\]|\\.)*)" %\}')
PY_PGETTEXT = re.compile(r'pgettext_lazy\(\s*"resident",\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', re.S)
PY_GETTEXT = re.compile(r'_\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', re.S)
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _joined(literals: str) -> str:
    return "".join(STRING.findall(literals))


def public_msgids() -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for path in (ROOT / "residents" / "templates").rglob("*.*"):
        text = path.read_text(encoding="utf-8")
        found |= {("resident", m) for m in TEMPLATE_TRANSLATE.findall(text)}
        found |= {("resident", m) for m in TEMPLATE_BOTH.findall(text)}
        found |= {
            ("resident", re.sub(r"\{\{ (\w+) \}\}", r"%(\1)s", m))
            for m in TEMPLATE_BLOCK.findall(text)
        }
    for path in (ROOT / "residents").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= {("resident", _joined(m)) for m in PY_PGETTEXT.findall(text)}
    # The photo checks the report form shares with the grid worker's capture form.
    photos = (ROOT / "issues" / "photos.py").read_text(encoding="utf-8")
    found |= {(None, _joined(m)) for m in PY_GETTEXT.findall(photos)}
    found.add((None, "At most %(n)d photos."))
    return found


def catalogue(path: Path) -> dict[tuple[str | None, str], str]:
    return {(e.msgctxt, e.msgid): e.msgstr.get(0, "") for e in messages(parse_po(path))}


def test_it_finds_the_public_strings():
    ids = public_msgids()
    # A sample of each kind of source, so that a broken pattern cannot pass silently.
    assert ("resident", "Send") in ids  # {% translate %}
    assert ("resident", "Your concern %(ref)s:") in ids  # {% blocktranslate %}
    assert ("resident", "Residents' service card") in ids  # {% both %}
    assert ("resident", "Only used to reply to your concern.") in ids  # pgettext_lazy
    assert ("resident", "Done, and we came back to check") in ids  # states.py
    assert (None, "“%(name)s” is not a photo. Choose a JPEG, PNG or WebP image.") in ids
    assert len(ids) > 50


def test_every_public_string_is_translated_in_tibetan_and_chinese():
    bo, zh = catalogue(BO_PO), catalogue(ZH_PO)
    missing = [
        f"{lang}: {key}"
        for key in sorted(public_msgids(), key=str)
        for lang, cat in (("bo", bo), ("zh_Hans", zh))
        if not cat.get(key, "").strip()
    ]
    assert not missing, "Untranslated public strings:\n" + "\n".join(missing)


def test_the_tibetan_catalogue_is_tibetan_keeps_placeholders_and_is_compiled():
    entries = parse_po(BO_PO)
    assert header(entries)["Language"] == "bo"
    with BO_MO.open("rb") as f:
        mo = gettext.GNUTranslations(f)
    problems = []
    for e in messages(entries):
        text = e.msgstr.get(0, "")
        if not re.search("[\u0f00-\u0fff]", text):
            problems.append(f"not Tibetan: {e}")
        if set(PLACEHOLDER.findall(e.msgid)) != set(PLACEHOLDER.findall(text)):
            problems.append(f"placeholders: {e}")
        got = mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt else mo.gettext(e.msgid)
        if got != text:
            problems.append(f"the .mo is stale: {e}")
    assert not problems, "\n".join(problems)


def test_the_category_names_for_residents_are_in_both_languages(db):
    from issues.models import Category

    offered = Category.objects.exclude(resident_label="")
    assert offered.count() == 10
    assert all(re.search("[\u0f00-\u0fff]", c.resident_label_bo) for c in offered)


@pytest.fixture
def tibetan(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "bo"
    yield client
    translation.deactivate()


def public_pages(client, courtyard) -> dict[str, str]:
    """Every public page, drawn once each, as the resident sees it."""
    link = CourtyardLinkFactory(courtyard=courtyard)
    issue = IssueFactory(courtyard=courtyard, status=Issue.Status.RESOLVED)
    IssueEventFactory(issue=issue, action="reply", note="…")
    report = reverse("residents:report", args=[link.token])
    bad = {"description": "x" * 2001, "phone": "12", "token": str(uuid.uuid4())}
    pages = {
        "report": client.get(report),
        "report with errors": client.post(report, bad),
        "sent": client.post(
            report,
            {"category": category().pk, "description": "路灯坏了", "token": str(uuid.uuid4())},
            follow=True,
        ),
        "track lookup": client.get(reverse("residents:track_lookup")),
        "track lookup with errors": client.get(reverse("residents:track_lookup"), {"x": "1"}),
        "track": client.get(reverse("residents:track", args=[issue.reference])),
        "unknown reference": client.get(reverse("residents:track", args=["ZZZZ-ZZZZ"])),
    }
    link.replaced_at = issue.created_at
    link.save()
    pages["replaced"] = client.get(report)
    pages["honeypot"] = client.post(report, {**bad, "homepage": "x"})
    return {name: r.content.decode() for name, r in pages.items()}


def test_every_public_page_in_tibetan_shows_no_english_or_chinese_fixed_text(
    tibetan, courtyard, settings
):
    settings.RESIDENT_REPORTS_PER_DAY_PER_COURTYARD = 100
    with translation.override("zh-hans"):
        chinese = {
            translation.pgettext(c, m) if c else translation.gettext(m) for c, m in public_msgids()
        }
    english = {m for _c, m in public_msgids()}
    pages = public_pages(tibetan, courtyard)
    for name, html in pages.items():
        assert 'lang="bo"' in html, name
    # Longer than a word, so that data (a courtyard's name) cannot match by chance.
    problems = [
        f"{name}: {fixed!r}"
        for name, html in pages.items()
        for fixed in english | chinese
        if len(fixed) > 3 and fixed in html
    ]
    assert not problems, "Fixed text not in Tibetan:\n" + "\n".join(problems)
    assert "ལེགས་གྲུབ་ཟིན།" in pages["track"]
    assert "འཚོལ་ཨང་འདིའི་ཞུ་གཏུག་རྙེད་མ་བྱུང་།" in pages["unknown reference"]
