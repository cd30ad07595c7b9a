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
