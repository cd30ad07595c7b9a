"""The errors a refused form page shows, read back from its HTML for the tools' reports."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError
from django.http import HttpResponse

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as ClientResponse

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Errors(HTMLParser):
    """Text of every `role="alert"` element, with the name of the field it stands in."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool, bool]] = []  # tag, opens a field, opens an alert
        self.field: list[str | None] = []  # the names of the fields we are inside
        self.alert: list[str] | None = None
        self.found: list[tuple[str | None, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and self.field and self.field[-1] is None:
            self.field[-1] = a.get("name")
        if tag in VOID:
            return
        opens_field = "field" in (a.get("class") or "").split()
        opens_alert = a.get("role") == "alert" and self.alert is None
        if opens_field:
            self.field.append(None)
        if opens_alert:
            self.alert = []
        self.stack.append((tag, opens_field, opens_alert))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, opens_field, opens_alert = self.stack.pop()
            if opens_alert and self.alert is not None:
                text = " ".join("".join(self.alert).split())
                if text:
                    self.found.append((self.field[-1] if self.field else None, text))
                self.alert = None
            if opens_field and self.field:
                self.field.pop()
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        if self.alert is not None:
            self.alert.append(data)


def page_errors(html: str) -> list[tuple[str | None, str]]:
    """(field name or None, message) for each error the page shows, in page order.

    A field's error sits after its input, so its name is known when the alert closes.
    """
    parser = _Errors()
    parser.feed(html)
    parser.close()
    return parser.found


def refused(what: str, response: HttpResponse | ClientResponse, **handles: Any) -> CommandError:
    """The error that stops the run: the status, the errors the page showed, the handles."""
    lines = [f"{what} answered {response.status_code}"]
    errors = page_errors(response.content.decode("utf-8", "replace"))
    lines += [f"  {field or 'form'}: {text}" for field, text in errors] or ["  (no form errors)"]
    lines.append(
        "  with "
        + ", ".join(f"{k}={getattr(v, 'username', v)}" for k, v in handles.items() if v is not None)
    )
    return CommandError("\n".join(lines))
