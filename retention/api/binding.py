"""
The API writes through the pages' own forms, so a rule checked on a page is checked here too, with
the same message, and lives in one place (the form, or the service behind it).

A request's fields (already of the right JSON types: the serializers check those) are laid over
what the form would show unbound: the record's current values on an update, the defaults on a
create. So a field the request leaves out keeps its value, as it would on the page.
"""

from rest_framework import serializers


def bind(form_class, data, *, instance=None, **form_kwargs):
    """``form_class`` bound to ``data`` over its unbound values; raises 400 with its problems."""
    if instance is not None:
        form_kwargs["instance"] = instance
    unbound = form_class(**form_kwargs)
    values = {name: unbound[name].value() for name in unbound.fields}
    # A form that shares its page with others names its inputs with a prefix ("purchase-date").
    form = form_class(data={unbound.add_prefix(name): value for name, value in {**values, **data}.items()},
                      **form_kwargs)
    if not form.is_valid():
        raise serializers.ValidationError(form_problems(form))
    return form


def form_problems(form):
    """A form's errors as the API's field → messages."""
    return {("non_field_errors" if field == "__all__" else field): list(messages)
            for field, messages in form.errors.items()}
