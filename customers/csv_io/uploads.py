"""
The web import's workflow around ``CsvImport``, each step recorded on the ``CustomerImport``:

1. ``customer_import_upload``: an upload handler stops an over-large file; the file is stored, its
   encoding, delimiter and date order found, and a field suggested for each column (or a saved
   mapping for the same headers applied). Status ``uploaded``.
2. ``customer_import_map``: the user's mapping and options (a mapping may be saved by name), then
   the check: inline for a small file, else on a worker (``checking``). Status ``checked``, with
   each row's outcome (``CustomerImportRow``) and the problems.
3. ``customer_import_confirm``: imported exactly once, all or nothing, or, as the user explicitly
   chooses, without the rows that have problems (recorded as ``skip_invalid``, the rows left out
   kept as a CSV with a ``problem`` column). A large one is handed to a worker
   (``customer_import_queue``).

``customer_imports_clean`` removes the files of uploads nobody confirmed, and old files of rows left
out; ``customer_import_log`` records an import made by the command.
"""

import datetime
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import transaction
from django.utils import timezone

from ..audit import AuditEvent, audit_record
from ..models import CustomerImport, CustomerImportRow
from .importer import CsvImport, ImportRefused
from .inserting import rows_insert
from .mapping import import_mappings_for, targets_from_saved, targets_guess
from .preparing import import_prepare
from .reading import FileOptions, file_sample
from .rejects import rejects_lines, rejects_write, report_reasons

UNCONFIRMED_KEPT_FOR = datetime.timedelta(days=2)
REJECTS_KEPT_FOR = datetime.timedelta(days=30)
ROWS_BATCH = 2000
Status = CustomerImport.Status


class ImportSizeLimit(FileUploadHandler):
    """
    Stops receiving an upload once it passes ``CUSTOMER_IMPORT_MAX_BYTES`` (rather than spooling a
    huge file to disk first) and marks the request, so the form can say why.
    """

    def __init__(self, request, max_bytes):
        super().__init__(request)
        self.max_bytes = max_bytes
        request.import_too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.max_bytes:
            self.request.import_too_large = True
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


def _web_import(customer_import, user):
    """A browser's import: the uploader owns rows that name no owner, within their own teams."""
    return CsvImport(user=user, default_owner=user, restrict=True,
                     options=FileOptions.from_dict(customer_import.options),
                     targets=customer_import.mapping)


# 1. Upload.


def customer_import_upload(*, user, upload):
    """Store the upload under IMPORTS_DIR, find how to read it, and suggest a field per column."""
    directory = Path(settings.IMPORTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.token_hex(16)}.csv"
    with open(path, "wb") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
    filename = Path(upload.name or "upload.csv").name[:255]
    prepared = import_prepare(path)
    sample = file_sample(path, prepared.options)
    if sample.report.problem_count or not sample.header:
        path.unlink(missing_ok=True)  # nothing can come of it; the problems are kept
        return CustomerImport.objects.create(
            user=user, filename=filename, stored_path="", status=Status.REJECTED,
            problems="\n".join(sample.report.problem_lines()),
        )
    options, targets = prepared.options, [guess.target for guess in targets_guess(sample)]
    saved = import_mappings_for(sample.header).first()
    if saved is not None:
        targets = targets_from_saved(saved, sample.header)
        options = FileOptions(**{**options.as_dict(), "date_order": saved.date_order or options.date_order,
                                 "match_website": saved.match_website})
    return CustomerImport.objects.create(
        user=user, filename=filename, stored_path=str(path), status=Status.UPLOADED,
        headers=sample.header, options={**options.as_dict(), "mapping_name": saved.name if saved else ""},
        mapping=targets, row_count=sample.row_count,
    )


# 2. Mapping and checking.


def customer_import_map(*, customer_import, user, targets, options):
    """
    Record the user's mapping and options, then check the file: inline when it is small, else on a
    worker. Returns True when the check was queued.
    """
    sample = file_sample(customer_import.stored_path, options)
    applied = customer_import.options.get("mapping_name", "")  # the saved mapping offered first
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        mapping=list(targets), options={**options.as_dict(), "mapping_name": applied},
        headers=sample.header, row_count=sample.row_count,
    )
    customer_import.refresh_from_db()
    if sample.complete and sample.row_count <= settings.CUSTOMER_IMPORT_INLINE_ROWS:
        customer_import_check(customer_import=customer_import, user=user)
        return False
    return customer_import_check_queue(customer_import=customer_import, user=user)


def customer_import_check_queue(*, customer_import, user):
    """Hand the check to a worker; the page shows it running and follows it."""
    from ..tasks import check_customer_import

    queued_at = timezone.now()
    CustomerImport.objects.filter(pk=customer_import.pk).update(status=Status.CHECKING,
                                                                queued_at=queued_at)
    transaction.on_commit(
        lambda: check_customer_import.delay(customer_import.pk, user.pk, queued_at.isoformat())
    )
    return True


def customer_import_check(*, customer_import, user):
    """
    Check the stored file with the import's mapping and record each row's outcome. On a worker the
    result is kept only if nobody mapped the file again meanwhile (a conditional UPDATE on the time
    the check was queued): a check queued twice records once.
    """
    queued_at, status = customer_import.queued_at, customer_import.status
    report = _web_import(customer_import, user).check(customer_import.stored_path)
    with transaction.atomic():
        current = CustomerImport.objects.filter(pk=customer_import.pk, status=status)
        if status == Status.CHECKING:
            current = current.filter(queued_at=queued_at)
        if not current.update(status=Status.CHECKED, queued_at=None, skip_invalid=False, **_counts(report)):
            return None
        _rows_record(customer_import, report)
    customer_import.refresh_from_db()
    return report


def _counts(report):
    return {
        "row_count": report.rows, "create_count": report.created, "update_count": report.updated,
        "unchanged_count": report.unchanged, "duplicate_count": report.duplicated,
        "invalid_count": len(report.invalid), "problems": "\n".join(report.problem_lines()),
    }


def _rows_record(customer_import, report):
    """Replace the import's rows with the outcomes of ``report``, in batches."""
    CustomerImportRow.objects.filter(customer_import=customer_import).delete()
    batch = []
    for number, outcome in report.rows_in_order():
        batch.append(CustomerImportRow(
            customer_import_id=customer_import.pk, number=number, outcome=outcome.kind,
            name=outcome.name[:200], customer_pk=outcome.customer_id, detail=outcome.detail,
        ))
        if len(batch) >= ROWS_BATCH:
            rows_insert(CustomerImportRow, batch)
            batch = []
    rows_insert(CustomerImportRow, batch)


def _outcomes_changed(customer_import, report):
    """Whether a row does something else than the preview said (then the rows are recorded anew)."""
    recorded = customer_import.rows.order_by("number").values_list("number", "outcome")
    return list(recorded.iterator(chunk_size=5000)) != [
        (number, outcome.kind) for number, outcome in report.rows_in_order()
    ]


# 3. Importing.


def customer_import_queue(*, customer_import, user, skip_invalid=False):
    """
    Hand a confirmed import to a worker; True when this call queued it (a second click while it
    waits queues nothing). The worker's ``customer_import_confirm`` claims it as usual.
    """
    from ..tasks import run_customer_import

    queued = CustomerImport.objects.filter(
        pk=customer_import.pk, status=Status.CHECKED, queued_at__isnull=True
    ).update(queued_at=timezone.now(), skip_invalid=skip_invalid)
    if queued:
        audit_record(AuditEvent.Action.IMPORT,
                     f"Imported {customer_import.filename or 'a file'}"
                     f"{' (rows with problems skipped)' if skip_invalid else ''}",
                     target=f"import {customer_import.pk}", actor=user)
        transaction.on_commit(lambda: run_customer_import.delay(customer_import.pk, user.pk))
    return bool(queued)


def customer_import_confirm(*, customer_import, user, skip_invalid=None):
    """
    Import a checked upload, once: the first request claims it with a conditional UPDATE in the
    import's own transaction, so a second confirmation (a double click, a retry) finds it taken.
    ``skip_invalid`` (None: as queued) imports the valid rows and leaves out those the preview
    showed with problems; if other rows have problems now, nothing is imported.

    Returns the run's Report, or None when the import was already claimed. When the check finds
    problems (the data changed since the preview), nothing is imported, and the import is checked
    again with the new problems.
    """
    path = customer_import.stored_path
    if skip_invalid is None:
        skip_invalid = customer_import.skip_invalid
    expect = None
    if skip_invalid:
        expect = set(customer_import.rows.filter(outcome=CustomerImportRow.Outcome.INVALID)
                     .values_list("number", flat=True))
    rejects = None
    try:
        with transaction.atomic():
            claimed = CustomerImport.objects.filter(pk=customer_import.pk, status=Status.CHECKED).update(
                status=Status.IMPORTED, imported_at=timezone.now(), stored_path="",
                skip_invalid=skip_invalid,
            )
            if not claimed:
                return None
            report = _web_import(customer_import, user).run(path, skip_invalid=skip_invalid,
                                                            expect_invalid=expect)
            if report.skipped or report.duplicated:
                rejects = Path(path).with_suffix(".rejects.csv")
                with open(rejects, "w", encoding="utf-8", newline="") as out:
                    rejects_write(out, path, FileOptions.from_dict(customer_import.options),
                                  report_reasons(report))
            CustomerImport.objects.filter(pk=customer_import.pk).update(
                skipped_count=report.skipped, rejects_path=str(rejects or ""), queued_at=None,
                **_counts(report),
            )
            if _outcomes_changed(customer_import, report):
                _rows_record(customer_import, report)
            transaction.on_commit(lambda: Path(path).unlink(missing_ok=True))
    except ImportRefused as refused:
        if rejects is not None:
            rejects.unlink(missing_ok=True)
        with transaction.atomic():
            CustomerImport.objects.filter(pk=customer_import.pk).update(
                status=Status.CHECKED, imported_at=None, skip_invalid=False, queued_at=None,
                stored_path=path, **_counts(refused.report.finish()),
            )
            _rows_record(customer_import, refused.report)
        customer_import.refresh_from_db()
        return refused.report
    customer_import.refresh_from_db()
    return report


def customer_import_rejects(customer_import):
    """
    The CSV lines of the rows left out: kept as a file once imported; before, from the stored
    upload and the preview's rows (those with problems and the duplicates). None if there are none.
    """
    if customer_import.rejects_path and Path(customer_import.rejects_path).exists():
        return _file_lines(customer_import.rejects_path)
    if customer_import.status != Status.CHECKED or not customer_import.stored_path:
        return None
    reasons = customer_import.rows.filter(
        outcome__in=[CustomerImportRow.Outcome.INVALID, CustomerImportRow.Outcome.DUPLICATE]
    ).order_by("number").values_list("number", "detail")
    if not reasons.exists():
        return None
    options = FileOptions.from_dict(customer_import.options)
    return rejects_lines(customer_import.stored_path, options,
                         ((number, detail.replace("\n", "; ")) for number, detail in reasons.iterator()))


def _file_lines(path):
    with open(path, encoding="utf-8", newline="") as stored:
        yield from stored


def customer_import_log(*, path, report, options, targets, skip_invalid):
    """The record of an import made by the command (no user, nothing stored)."""
    return CustomerImport.objects.create(
        user=None, filename=Path(path).name[:255], stored_path="", status=Status.IMPORTED,
        source="command", options=options.as_dict(), mapping=targets, skip_invalid=skip_invalid,
        skipped_count=report.skipped, imported_at=timezone.now(), **_counts(report),
    )


def customer_imports_clean(*, now=None, dry_run=False):
    """
    Delete the stored files of uploads nobody confirmed within two days (their preview and
    problems stay), and the files of rows left out after thirty. Returns how many uploads were (or,
    dry, would be) cleaned.
    """
    now = now or timezone.now()
    stale = CustomerImport.objects.filter(
        status__in=[Status.UPLOADED, Status.CHECKED], queued_at__isnull=True,
        created_at__lt=now - UNCONFIRMED_KEPT_FOR,
    ).exclude(stored_path="")
    if dry_run:
        return stale.count()
    cleaned = 0
    for pk, status, path in stale.values_list("pk", "status", "stored_path"):
        if CustomerImport.objects.filter(pk=pk, status=status, queued_at__isnull=True).update(
            stored_path="", status=Status.REJECTED,
            problems="row 1: file: not confirmed within two days; upload the file again",
        ):
            Path(path).unlink(missing_ok=True)
            cleaned += 1
    old = CustomerImport.objects.filter(imported_at__lt=now - REJECTS_KEPT_FOR).exclude(rejects_path="")
    for pk, path in old.values_list("pk", "rejects_path"):
        if CustomerImport.objects.filter(pk=pk, rejects_path=path).update(rejects_path=""):
            Path(path).unlink(missing_ok=True)
    return cleaned
