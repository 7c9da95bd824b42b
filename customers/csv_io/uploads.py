"""
The web import's workflow around ``CsvImport``: an upload handler that stops an over-large file,
then store the upload and check it (the preview), hand a confirmed large import to a worker, import
a confirmed one exactly once, and clean up the files of uploads nobody confirmed. Each step is
recorded on the ``CustomerImport``.
"""

import datetime
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import transaction
from django.utils import timezone

from ..models import CustomerImport
from .importer import CsvImport, ImportRefused

UNCONFIRMED_KEPT_FOR = datetime.timedelta(days=2)


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


def _web_import(user):
    """A browser's import: the uploader owns rows that name no owner, within their own teams."""
    return CsvImport(user=user, default_owner=user, restrict=True)


def customer_import_check(*, user, upload):
    """Store the upload under IMPORTS_DIR, check it, and record the result as a CustomerImport."""
    directory = Path(settings.IMPORTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.token_hex(16)}.csv"
    with open(path, "wb") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
    report = _web_import(user).check(path)
    status = CustomerImport.Status.CHECKED if report.ok else CustomerImport.Status.REJECTED
    if not report.ok:
        path.unlink(missing_ok=True)  # nothing can come of it; the problems are kept
    return CustomerImport.objects.create(
        user=user, filename=Path(upload.name or "upload.csv").name[:255],
        stored_path=str(path) if report.ok else "", status=status, row_count=report.rows,
        create_count=report.created, update_count=report.updated,
        problems="\n".join(report.problem_lines()),
    )


def customer_imports_clean(*, now=None, dry_run=False):
    """
    Delete the stored files of uploads nobody confirmed within two days; their preview and
    problems stay. Returns how many were (or, dry, would be) cleaned.
    """
    cutoff = (now or timezone.now()) - UNCONFIRMED_KEPT_FOR
    stale = CustomerImport.objects.filter(
        status=CustomerImport.Status.CHECKED, queued_at__isnull=True, created_at__lt=cutoff
    ).exclude(stored_path="")
    if dry_run:
        return stale.count()
    cleaned = 0
    for pk, path in stale.values_list("pk", "stored_path"):
        if CustomerImport.objects.filter(pk=pk, status=CustomerImport.Status.CHECKED,
                                         queued_at__isnull=True).update(
            stored_path="", status=CustomerImport.Status.REJECTED,
            problems="row 1: file: not confirmed within two days; upload the file again",
        ):
            Path(path).unlink(missing_ok=True)
            cleaned += 1
    return cleaned


def customer_import_queue(*, customer_import, user):
    """
    Hand a confirmed import to a worker; True when this call queued it (a second click while it
    waits queues nothing). The worker's ``customer_import_confirm`` claims it as usual.
    """
    from ..tasks import run_customer_import

    queued = CustomerImport.objects.filter(
        pk=customer_import.pk, status=CustomerImport.Status.CHECKED, queued_at__isnull=True
    ).update(queued_at=timezone.now())
    if queued:
        transaction.on_commit(lambda: run_customer_import.delay(customer_import.pk, user.pk))
    return bool(queued)


def customer_import_confirm(*, customer_import, user):
    """
    Import a checked upload, once: the first request claims it with a conditional UPDATE in the
    import's own transaction, so a second confirmation (a double click, a retry) finds it taken.

    Returns the run's Report, or None when the import was already claimed. When the re-check finds
    problems (the data changed since the preview), nothing is imported and the import is rejected.
    """
    path = customer_import.stored_path
    try:
        with transaction.atomic():
            claimed = CustomerImport.objects.filter(
                pk=customer_import.pk, status=CustomerImport.Status.CHECKED
            ).update(status=CustomerImport.Status.IMPORTED, imported_at=timezone.now(), stored_path="")
            if not claimed:
                return None
            report = _web_import(user).run(path)
            CustomerImport.objects.filter(pk=customer_import.pk).update(
                row_count=report.rows, create_count=report.created, update_count=report.updated
            )
            transaction.on_commit(lambda: Path(path).unlink(missing_ok=True))
    except ImportRefused as refused:
        CustomerImport.objects.filter(pk=customer_import.pk, status=CustomerImport.Status.CHECKED).update(
            status=CustomerImport.Status.REJECTED, stored_path="",
            problems="\n".join(refused.report.problem_lines()),
        )
        Path(path).unlink(missing_ok=True)
        return refused.report
    customer_import.refresh_from_db()
    return report
