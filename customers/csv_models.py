"""
The tables of the CSV import and export (``customers.csv_io``), apart from the customer book's own:
an uploaded file and the log of its import (``CustomerImport``), what each of its rows does
(``CustomerImportRow``), column mappings saved by name (``ImportMapping``), and the export log.
Imported by ``customers.models``, so they are the customers app's models like any other.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class CustomerImport(models.Model):
    """
    An uploaded CSV and the log of its import: uploaded, mapped (which column feeds which field,
    with the file's options), checked (the preview), then imported on confirmation, whole or, when
    the user chose so, without the rows that have problems.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "To be mapped"
        CHECKING = "checking", "Being checked"
        CHECKED = "checked", "Checked"
        REJECTED = "rejected", "Not imported"
        IMPORTED = "imported", "Imported"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500, help_text="The upload, kept until imported.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKED)
    headers = models.JSONField(default=list, blank=True, help_text="The file's header row.")
    options = models.JSONField(
        default=dict, blank=True,
        help_text="How the file is read: encoding, delimiter, date_order, match_website.",
    )
    mapping = models.JSONField(
        null=True, blank=True,
        help_text="The field each column of the header feeds (\"\" for none); null: the file's "
                  "own column names.",
    )
    row_count = models.PositiveIntegerField(default=0)
    create_count = models.PositiveIntegerField(default=0)
    update_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(
        default=0, help_text="Rows repeating an earlier row's customer, left out."
    )
    invalid_count = models.PositiveIntegerField(default=0, help_text="Rows with problems.")
    problems = models.TextField(blank=True, help_text="One problem a line: row N: COLUMN: message")
    skip_invalid = models.BooleanField(
        default=False,
        help_text="The user chose to import the valid rows and skip the rows with problems.",
    )
    skipped_count = models.PositiveIntegerField(default=0, help_text="Rows the import left out.")
    rejects_path = models.CharField(
        max_length=500, blank=True, help_text="The rows left out, with a problem column."
    )
    source = models.CharField(max_length=20, default="web", help_text="web or command")
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a large import was handed to a worker."
    )
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def valid_count(self):
        return self.create_count + self.update_count + self.unchanged_count

    @property
    def file_problem(self):
        """A problem with the file or its header (row 1): no row can be imported."""
        return self.problems.startswith("row 1:")


class CustomerImportRow(models.Model):
    """One data row of an upload: what the check, then the import, does with it."""

    class Outcome(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "Unchanged"
        DUPLICATE = "duplicate", "Duplicate"
        INVALID = "invalid", "Has problems"

    # Indexed only by the two lists the preview reads (all rows, or those of one outcome): an
    # import writes 100,000 of these, and every index more costs at each.
    customer_import = models.ForeignKey(
        CustomerImport, on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    number = models.PositiveIntegerField(help_text="The row number a spreadsheet shows.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    name = models.CharField(max_length=200, blank=True, help_text="The customer's name in the row.")
    customer_pk = models.PositiveIntegerField(
        null=True, blank=True, help_text="The customer the row updates (or created), for a link."
    )
    detail = models.TextField(
        blank=True, help_text="The fields that change, the row repeated, or the problems."
    )

    class Meta:
        ordering = ["number"]
        indexes = [
            models.Index(fields=["customer_import", "number"], name="import_row_number"),
            models.Index(fields=["customer_import", "outcome", "number"], name="import_row_outcome"),
        ]

    def __str__(self):
        return f"row {self.number}: {self.outcome}"


class ImportMapping(models.Model):
    """A column mapping saved by name, offered again for a file with the same headers."""

    name = models.CharField(max_length=100)
    headers = models.JSONField(help_text="The header row it was made for.")
    header_key = models.CharField(
        max_length=64, db_index=True, help_text="The headers, normalised and hashed."
    )
    targets = models.JSONField(help_text="The field each header feeds (\"\" for none).")
    date_order = models.CharField(max_length=3, blank=True)
    match_website = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="import_mapping_name"),
        ]

    def __str__(self):
        return self.name

    @property
    def pairs(self):
        """(header, field or "") for each column it was made for."""
        return list(zip(self.headers, self.targets, strict=False))

    @property
    def skipped(self):
        return sum(1 for target in self.targets if not target)


class ExportLog(models.Model):
    """Who exported customers, when, how many, and with which filters."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    row_count = models.PositiveIntegerField(default=0)
    filters = models.CharField(max_length=1000, blank=True)
    source = models.CharField(max_length=20, default="web", help_text="web or command")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.row_count} rows by {self.user} at {self.created_at:%Y-%m-%d %H:%M}"
