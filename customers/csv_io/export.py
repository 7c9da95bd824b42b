"""
Customers out as CSV, in the columns of ``columns``: one row per customer with its primary contact,
cells a spreadsheet would run as a formula neutralised, so that an export re-imports losslessly.
Streamed in chunks, with a handful of queries per chunk, and logged (``ExportLog``) with the number
of rows really written.
"""

import csv

from django.db.models import F, Prefetch

from ..history import actor
from ..models import Contact, ExportLog
from .columns import COLUMNS, neutralise


def export_queryset(customers):
    """The customers with what a row needs, in a handful of queries per chunk."""
    return customers.annotate(
        owner_username=F("owner__username"),
        team_name=F("team__name"),
        referrer_external_id=F("referred_by__external_id"),
    ).prefetch_related("tags", Prefetch("contacts", queryset=Contact.objects.order_by(
        "-is_primary", "name", "pk"
    )))


def export_row(customer):
    contact = customer.primary_contact()
    cells = [
        customer.external_id or "",
        customer.name,
        customer.status,
        customer.customer_since.isoformat() if customer.customer_since else "",
        customer.owner_username or "",
        customer.team_name or "",
        customer.timezone,
        str(customer.cadence_days),
        "; ".join(tag.name for tag in customer.tags.all()),
        customer.referrer_external_id or "",
        contact.name if contact else "",
        contact.email if contact else "",
        contact.phone if contact else "",
        contact.birthday_display if contact else "",
        customer.website,
    ]
    return [neutralise(cell) for cell in cells]


class _Echo:
    def write(self, value):
        return value


def export_lines(customers, *, chunk_size=1000, counter=None):
    """CSV text in pieces of about ``chunk_size`` rows; ``counter[0]`` counts the rows written."""
    writer = csv.writer(_Echo())
    counter = counter if counter is not None else [0]
    piece = [writer.writerow(COLUMNS)]
    for customer in export_queryset(customers).iterator(chunk_size=chunk_size):
        piece.append(writer.writerow(export_row(customer)))
        counter[0] += 1
        if len(piece) >= chunk_size:
            yield "".join(piece)
            piece = []
    if piece:
        yield "".join(piece)


def export_stream(customers, *, user, filters="", source="web"):
    """
    Encoded CSV for a streaming response; the ExportLog is written when the stream ends, with the
    number of rows really sent (also when the download is cut short).
    """
    counter = [0]
    try:
        for piece in export_lines(customers, counter=counter):
            yield piece.encode("utf-8")
    finally:
        _log(user, counter[0], filters, source)


def export_to(out, customers, *, user=None, filters="", source="command"):
    """Write the CSV to a text stream; log the export; return the number of rows."""
    counter = [0]
    for piece in export_lines(customers, counter=counter):
        out.write(piece)
    _log(user, counter[0], filters, source)
    return counter[0]


def _log(user, rows, filters, source):
    ExportLog.objects.create(user=actor(user), row_count=rows, filters=filters[:1000], source=source)
