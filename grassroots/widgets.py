"""Form widgets whose values browsers read the same in every language.

An `<input type="date">` accepts only `YYYY-MM-DD` as its value, and `datetime-local` only
`YYYY-MM-DDTHH:MM`; Django renders a date in the language's first input format, which in
Chinese is `2026/12/02`: the browser rejects it and the field shows empty. These widgets
render the one format the browser reads, whatever the language.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django_filters.widgets import DateRangeWidget, RangeWidget

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class IsoDateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=ISO_DATE)


class IsoDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=ISO_DATETIME_LOCAL)


class IsoDateRangeWidget(DateRangeWidget):
    """django-filter's two-day range (`…_after`, `…_before`) as two date inputs."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # RangeWidget's own __init__ would put two text inputs in.
        super(RangeWidget, self).__init__((IsoDateInput(), IsoDateInput()), attrs)
