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

from django.db import connections
from django.db.models.query import ModelIterable

PER_PAGE = 50
MAX_PAGE = 10_000


@dataclass
class Page:
    object_list: list
    number: int
    has_next: bool
    per_page: int = PER_PAGE
    total: int | None = None  # set by ``count_about``
    total_is_exact: bool = False

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

    @property
    def first_position(self):
        """The first row's place in the whole list, from 1 ("51" of "51–100 of about 12,400")."""
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def last_position(self):
        return (self.number - 1) * self.per_page + len(self.object_list)

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
    return Page(object_list=rows[:per_page], number=number, has_next=len(rows) > per_page,
                per_page=per_page)


def count_about(page, queryset):
    """
    Sets ``page.total``, how many rows ``queryset`` (the list's whole query) holds, without a
    COUNT over a large list: exact on the last page (the rows before it plus its own); otherwise,
    on PostgreSQL, the planner's estimate (EXPLAIN plans and reads no row), rounded, and never
    fewer than the rows known to be there. Other databases (the embedded SQLite default, for small
    books) count.
    """
    if not page.has_next and (page.object_list or page.number == 1):
        page.total, page.total_is_exact = page.last_position, True
        return page
    known = page.last_position + 1 if page.has_next else 0  # or a page past the end
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        page.total, page.total_is_exact = queryset.count(), True
        return page
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    page.total, page.total_is_exact = max(_rounded(estimate), known), False
    return page


def _rounded(number):
    """To three significant figures: 12,437 reads as 12,400, a figure nobody mistakes for exact."""
    digits = len(str(number))
    return round(number, -(digits - 3)) if digits > 3 else number
