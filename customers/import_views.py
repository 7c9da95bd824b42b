"""
The import's pages: upload a file, map its columns, preview what each row does, import it (whole,
or without the rows that have problems), download the rows left out, and the saved mappings.
The workflow is ``csv_io.uploads``; an import is its uploader's alone (``customer_import_for_user``).
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from retention.pagination import paginate

from .access import customer_import_for_user, import_mapping_for_user
from .csv_io import uploads as csv_uploads
from .csv_io.columns import COLUMN_HELP, JOINED_WITH, TARGET_LABELS, TARGETS, example_csv
from .csv_io.mapping import (
    MappingError,
    import_mapping_delete,
    import_mapping_save,
    import_mappings_for,
    targets_from_saved,
    targets_guess,
)
from .csv_io.reading import DELIMITERS, ENCODINGS, FileOptions, file_sample
from .forms import CustomerImportForm, ImportMappingForm
from .models import CustomerImport, CustomerImportRow, ImportMapping

Status = CustomerImport.Status
SAMPLES = 3  # values shown per column on the mapping page


@csrf_exempt  # checked by csrf_protect below, once the upload size guard is in place
@require_http_methods(["GET", "POST"])
def customer_import(request):
    """Upload a CSV: it is stored and read, then its columns are mapped. Nothing is imported yet."""
    # The guard must be installed before anything reads the body, and CsrfViewMiddleware would read
    # it first: hence csrf_exempt outside and csrf_protect inside (the pattern Django documents).
    request.upload_handlers.insert(
        0, csv_uploads.ImportSizeLimit(request, settings.CUSTOMER_IMPORT_MAX_BYTES)
    )
    return _customer_import(request)


@csrf_protect
def _customer_import(request):
    max_bytes = settings.CUSTOMER_IMPORT_MAX_BYTES
    if request.method == "POST":
        form = CustomerImportForm(request.POST, request.FILES, max_bytes=max_bytes,
                                  too_large=getattr(request, "import_too_large", False))
        if form.is_valid():
            upload = csv_uploads.customer_import_upload(user=request.user,
                                                        upload=form.cleaned_data["file"])
            if upload.status == Status.REJECTED:
                return redirect("customers:import_preview", pk=upload.pk)
            return redirect("customers:import_map", pk=upload.pk)
    else:
        form = CustomerImportForm(max_bytes=max_bytes)
    recent = CustomerImport.objects.filter(user=request.user).only(
        "pk", "filename", "status", "created_at", "row_count", "create_count", "update_count",
        "skipped_count", "queued_at",
    )[:8]
    return render(request, "customers/import.html", {
        "form": form, "columns": [(name, COLUMN_HELP[name]) for name in TARGETS],
        "max_bytes": max_bytes, "recent": recent,
    })


def customer_import_example(request):
    response = HttpResponse(example_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="customers-example.csv"'
    return response


def _mappable(upload):
    """A file may be mapped (again) until its import is queued or done."""
    return bool(upload.stored_path) and (
        upload.status in (Status.UPLOADED, Status.CHECKING)
        or (upload.status == Status.CHECKED and not upload.queued_at)
    )


@require_http_methods(["GET", "POST"])
def customer_import_map(request, pk):
    """The mapping step: how the file is read and which field each column feeds."""
    upload = customer_import_for_user(request.user, pk)
    if not _mappable(upload):
        return redirect("customers:import_preview", pk=upload.pk)
    options = FileOptions.from_dict(upload.options)
    header, targets = upload.headers, upload.mapping or [""] * len(upload.headers)
    form = None
    if request.method == "GET" and request.GET.get("use", "").isdigit():
        saved = ImportMapping.objects.filter(pk=request.GET["use"]).first()
        try:
            targets = targets_from_saved(saved, header) if saved else targets
            if saved:
                options = FileOptions(**{**options.as_dict(), "match_website": saved.match_website,
                                         "date_order": saved.date_order or options.date_order})
                messages.info(request, f"The saved mapping “{saved.name}” is applied below; check "
                                       "it, then check the file.")
        except MappingError as error:
            messages.error(request, "; ".join(error.messages))
    elif request.method == "POST":
        posted = _posted_options(request.POST, options)
        if request.POST.get("action") == "reread" or (posted.encoding, posted.delimiter) != (
            options.encoding, options.delimiter
        ):
            header, targets = _reread(upload, posted)
            options = posted
            messages.info(request, "The file was read again with these options; check the columns "
                                   "below.")
        else:
            form = ImportMappingForm(request.POST, header=header)
            if form.is_valid():
                targets, options = form.targets(), posted
                if _save_mapping(request, form, header, targets, options):
                    csv_uploads.customer_import_map(customer_import=upload, user=request.user,
                                                    targets=targets, options=options)
                    return redirect("customers:import_preview", pk=upload.pk)
    if form is None:
        form = ImportMappingForm(header=header, initial={
            "encoding": options.encoding, "delimiter": options.delimiter or ",",
            "date_order": options.date_order if options.date_order in ("dmy", "mdy") else "mdy",
            "match_website": options.match_website,
            **{f"column_{index}": target for index, target in enumerate(targets)},
        })
    return render(request, "customers/import_map.html", _map_context(upload, form, header, options))


def _posted_options(data, current):
    encoding = data.get("encoding") if data.get("encoding") in ENCODINGS else current.encoding
    delimiter = data.get("delimiter") if data.get("delimiter") in DELIMITERS else current.delimiter
    date_order = data.get("date_order") if data.get("date_order") in ("dmy", "mdy") else current.date_order
    return FileOptions(encoding=encoding, delimiter=delimiter, date_order=date_order,
                       match_website=bool(data.get("match_website")))


def _reread(upload, options):
    """Read the file again with other options; the fields are guessed again if the header changed."""
    sample = file_sample(upload.stored_path, options)
    targets = upload.mapping
    if sample.header != upload.headers or not targets:
        targets = [guess.target for guess in targets_guess(sample)]
    CustomerImport.objects.filter(pk=upload.pk).update(
        headers=sample.header, mapping=targets,
        options={**options.as_dict(), "mapping_name": upload.options.get("mapping_name", "")},
    )
    return sample.header, targets


def _save_mapping(request, form, header, targets, options):
    name = form.cleaned_data["save_as"].strip()
    if not name:
        return True
    mapping, problem = import_mapping_save(name=name, header=header, targets=targets, user=request.user,
                                           date_order=options.date_order,
                                           match_website=options.match_website)
    if problem:
        form.add_error("save_as", problem)
        return False
    messages.success(request, f"The mapping was saved as “{mapping.name}”.")
    return True


def _map_context(upload, form, header, options):
    sample = file_sample(upload.stored_path, options, rows=SAMPLES)
    guesses = targets_guess(sample) if sample.header == header else []
    columns = []
    for index, field in enumerate(form.column_fields()):
        values = sample.values[index][:SAMPLES] if index < len(sample.values) else []
        guess = guesses[index] if index < len(guesses) else None
        columns.append({"name": header[index].strip(), "number": index + 1, "field": field,
                        "samples": values, "guess": guess})
    return {
        "upload": upload, "form": form, "columns": columns, "sample_problems": sample.report.problem_lines(),
        "saved_mappings": import_mappings_for(header)[:10],
        "mapping_name": upload.options.get("mapping_name", ""),
        "labels": TARGET_LABELS, "joined": JOINED_WITH,
        "sample_rows": {"header": header, "rows": sample.rows,
                        "labels": TARGET_LABELS, "joined": JOINED_WITH},
    }


OUTCOME_TABS = [
    ("", "All", "row_count"), ("invalid", "With problems", "invalid_count"),
    ("created", "New", "create_count"), ("updated", "Updated", "update_count"),
    ("unchanged", "Unchanged", "unchanged_count"), ("duplicate", "Duplicates", "duplicate_count"),
]


def customer_import_preview(request, pk):
    """What the import does (or did), row by row, with every problem and the ways on."""
    upload = customer_import_for_user(request.user, pk)
    if upload.status == Status.UPLOADED:
        return redirect("customers:import_map", pk=upload.pk)
    show = request.GET.get("show", "")
    rows = upload.rows.only("number", "outcome", "name", "detail", "customer_pk", "customer_import_id")
    if show in CustomerImportRow.Outcome.values:
        rows = rows.filter(outcome=show)
    else:
        show = ""
    page = paginate(rows.order_by("number"), request.GET.get("page"))
    tabs = [(key, label, getattr(upload, count)) for key, label, count in OUTCOME_TABS]
    return render(request, "customers/import_preview.html", {
        "upload": upload, "problems": upload.problems.splitlines(), "page": page, "show": show,
        "tabs": tabs, "querystring": f"show={show}" if show else "",
        "inline_rows": settings.CUSTOMER_IMPORT_INLINE_ROWS, "waiting": upload.status == Status.CHECKING,
    })


@require_POST
def customer_import_confirm(request, pk):
    upload = customer_import_for_user(request.user, pk)
    # Skipping is a choice about rows with problems: recorded only when there are some to skip.
    skip = request.POST.get("skip_invalid") == "1" and upload.invalid_count > 0
    if upload.status == Status.IMPORTED:
        messages.info(request, f"{upload.filename} was imported already; nothing was imported twice.")
        return redirect("customers:list")
    if upload.status == Status.CHECKING:
        messages.info(request, "The file is still being checked: import it once the preview is ready.")
        return redirect("customers:import_preview", pk=upload.pk)
    if upload.status != Status.CHECKED:
        messages.error(request, "This file cannot be imported; see why below.")
        return redirect("customers:import_preview", pk=upload.pk)
    if upload.file_problem or (skip and not upload.valid_count):
        messages.error(request, "Nothing can be imported from this file; see its problems below.")
        return redirect("customers:import_preview", pk=upload.pk)
    if upload.invalid_count and not skip:
        messages.error(request, "Rows of this file have problems: correct the file, or import the "
                                "valid rows and skip the others.")
        return redirect("customers:import_preview", pk=upload.pk)
    if upload.row_count > settings.CUSTOMER_IMPORT_INLINE_ROWS:
        if csv_uploads.customer_import_queue(customer_import=upload, user=request.user,
                                             skip_invalid=skip):
            messages.info(request, f"Importing {upload.filename} in the background: this page "
                                   "shows the result when it is done.")
        return redirect("customers:import_preview", pk=upload.pk)
    report = csv_uploads.customer_import_confirm(customer_import=upload, user=request.user,
                                                 skip_invalid=skip)
    if report is None:
        messages.info(request, f"{upload.filename} was imported already; nothing was imported twice.")
        return redirect("customers:list")
    if upload.status != Status.IMPORTED:
        messages.error(request, "Nothing was imported: the data changed since the preview, and the "
                                "file now does what is shown below. Check it again.")
        return redirect("customers:import_preview", pk=upload.pk)
    left_out = ""
    if report.skipped:
        left_out = f"; {report.skipped} row{'s' if report.skipped != 1 else ''} with problems skipped"
    messages.success(request, f"Imported {upload.filename}: {report.created} created, "
                              f"{report.updated} updated, {report.unchanged} unchanged{left_out}.")
    return redirect("customers:import_preview", pk=upload.pk) if left_out else redirect("customers:list")


def customer_import_rejects(request, pk):
    """The rows left out (or to be), with a ``problem`` column: ready to correct and import again."""
    upload = customer_import_for_user(request.user, pk)
    lines = csv_uploads.customer_import_rejects(upload)
    if lines is None:
        messages.info(request, "No row of this file is left out.")
        return redirect("customers:import_preview", pk=upload.pk)
    response = StreamingHttpResponse((line.encode("utf-8") for line in lines),
                                     content_type="text/csv; charset=utf-8")
    stem = upload.filename.rsplit(".", 1)[0] or "import"
    response["Content-Disposition"] = f'attachment; filename="{_safe(stem)}-not-imported.csv"'
    return response


def _safe(name):
    return "".join(ch if ch.isalnum() or ch in "-_ " else "_" for ch in name)[:100]


def import_mappings(request):
    """The saved column mappings: everyone may use them; their authors (and admins) delete them."""
    page = paginate(ImportMapping.objects.select_related("created_by").order_by("name"),
                    request.GET.get("page"))
    return render(request, "customers/import_mappings.html", {
        "page": page, "labels": TARGET_LABELS, "querystring": "",
    })


@require_http_methods(["GET", "POST"])
def import_mapping_delete_view(request, pk):
    mapping = import_mapping_for_user(request.user, pk)
    if request.method == "POST":
        import_mapping_delete(mapping=mapping)
        messages.success(request, f"The mapping “{mapping.name}” was deleted.")
        return redirect("customers:import_mappings")
    return render(request, "customers/import_mapping_delete.html", {"mapping": mapping})
