from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet


class CappedPaginator(Paginator):
    """Counts at most `cap` rows, so that a page of a million-row set never counts it all
    (the admin's changelists: past the cap, the pages stop there)."""

    cap = 10_000
    object_list: QuerySet[Any]

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap].count()


class KnownCountPaginator(Paginator):
    """A paginator told its total, for lists that already counted it with their tab counts."""

    def __init__(
        self, object_list: QuerySet[Any] | Sequence[Any], per_page: int, *, count: int
    ) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count
