from functools import cached_property

from django.core.paginator import Paginator


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows, so that a page of a million-row set never counts it all.

    `is_capped` tells the template to show "10,000+" instead of an exact total.
    """

    cap = 10_000

    @cached_property
    def _raw_count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._raw_count, self.cap)

    @property
    def is_capped(self) -> bool:
        return self._raw_count > self.cap


class KnownCountPaginator(Paginator):
    """A paginator told its total, for lists that already counted it with their tab counts."""

    def __init__(self, object_list: object, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count
