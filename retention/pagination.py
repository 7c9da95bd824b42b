"""
Pagination that never counts: fetch one row more than a page to know whether there is a next.

A later page of model rows is read in two steps, the page's ids first and then their rows (a
"deferred join"): the rows its OFFSET skips are then read from an index only, never from the
table, so page 200 costs little more than page 1 when an index serves the order (see
docs/PERFORMANCE.md).

The apps' lists use it: one of the shared helpers they may import from ``retention``
(``SHARED_HELPERS`` in retention/tests/test_layering.py), so it imports no app.
"""

from dataclasses import dataclass

from django.db.models.query import ModelIterable

PER_PAGE = 50
MAX_PAGE = 10_000


@dataclass
class Page:
    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def next_page_number(self):
        return self.number + 1

    @property
    def previous_page_number(self):
        return self.number - 1

    @property
    def start_index(self):
        return 0

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def page_number(page_param, max_page=MAX_PAGE):
    """The page asked for: ``page_param`` (a string from the URL, or None) as 1 … ``max_page``."""
    try:
        return max(1, min(int(page_param or 1), max_page))
    except (TypeError, ValueError):
        return 1


def rows_needed(page_param, per_page=PER_PAGE, max_page=MAX_PAGE):
    """How many rows from the start ``paginate`` reads for this page: through the page, plus one."""
    return page_number(page_param, max_page) * per_page + 1


def paginate(queryset, page_param, per_page=PER_PAGE, max_page=MAX_PAGE):
    number = page_number(page_param, max_page)
    offset = (number - 1) * per_page
    window = slice(offset, offset + per_page + 1)
    # The first page skips nothing, so it is read in one go.
    if offset and queryset._iterable_class is ModelIterable and not queryset.query.distinct_fields:
        ids = list(queryset.values_list("pk", flat=True)[window])
        by_pk = queryset.in_bulk(ids) if ids else {}  # keeps select_related, annotations, defer
        rows = [by_pk[pk] for pk in ids]
    else:  # values() rows, or DISTINCT ON: read as they come
        rows = list(queryset[window])
    return Page(object_list=rows[:per_page], number=number, has_next=len(rows) > per_page)
