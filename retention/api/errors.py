"""
The API's errors, always JSON: 400 with the problems by field (``{"name": ["…"]}``; problems of the
whole request under ``non_field_errors``), 401 without a valid token, 403, 404 for what the user
does not see, 409 when the change conflicts with the record as it now is (an update based on an
older version, a promise already closed), 429 with ``Retry-After``.

The services raise Django's ``ValidationError`` and the workflows' own exceptions; they become the
answers above here, in one place, so every view answers the same way.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from customers.services import StaleEdit
from touchpoints.services import TransitionRefused


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The change conflicts with the record as it now is."
    default_code = "conflict"


def stale_edit_conflict(stale):
    """409 for an update based on an older version, saying what changed since."""
    return Conflict({
        "detail": "Someone else changed this customer since the version you sent; nothing was saved. "
                  "Read it again and send your change with its current version.",
        "changes": [
            {"field": change.field, "old": change.old_value, "new": change.new_value,
             "version": change.version, "at": change.changed_at.isoformat()}
            for change in stale.changes
        ],
    })


def validation_problems(error):
    """A Django ``ValidationError`` as the API's field → messages."""
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if field == "__all__" else field): messages
                for field, messages in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def exception_handler(exc, context):
    if isinstance(exc, StaleEdit):
        exc = stale_edit_conflict(exc)
    elif isinstance(exc, TransitionRefused):
        exc = Conflict(str(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_problems(exc))
    return drf_exception_handler(exc, context)


# The site's handlers for what no view answers (an address no route knows, a NUL refused before
# any view, a crash): under /api/, JSON like the API's own errors.

def _is_api(request):
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": str(exception) or "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "A server error occurred; it has been logged."}, status=500)
    return defaults.server_error(request)
