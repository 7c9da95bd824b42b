"""
Bulk creation: up to ``BULK_MAX`` purchases or touchpoints in one request, all or nothing.

Every item is checked first, each by the same serializer and form as a single one; if any has a
problem, the answer is 400 with each item's problems by its position (``{"items": {"3": {...}}}``)
and nothing is saved. Otherwise all are saved in one transaction. Purchases are written set-based
(``customers.services.purchases_save``): 1,000 of them in a few statements. Touchpoints go through
``touchpoint_log`` one by one, as each has its contacts, check-in clock and follow-ups, with the
customers' health marked for the minute's sweep instead of recomputed each time.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import serializers

from customers.events import activity_in_bulk
from customers.forms import PurchaseForm
from customers.models import Customer, Purchase
from customers.services import purchases_save
from touchpoints.forms import TouchpointForm
from touchpoints.services import touchpoint_log

from . import serializers as api
from .binding import bind
from .errors import validation_problems

BULK_MAX = 1_000


def _items(request):
    items = request.data
    if not isinstance(items, list) or not items:
        raise serializers.ValidationError(
            {"non_field_errors": [f"Send a JSON list of 1 to {BULK_MAX:,} items."]})
    if len(items) > BULK_MAX:
        raise serializers.ValidationError(
            {"non_field_errors": [f"At most {BULK_MAX:,} items a request; this one has {len(items):,}."]})
    return items


def _checked(items, serializer_class, user):
    """Each item's validated data and its customer, or 400 with every item's problems."""
    checked, problems = [], {}
    for position, item in enumerate(items):
        serializer = serializer_class(data=item)
        if serializer.is_valid():
            checked.append((position, dict(serializer.validated_data)))
        else:
            problems[str(position)] = serializer.errors
    customer_ids = {data["customer"] for _, data in checked}
    customers = Customer.objects.visible_to(user).in_bulk(customer_ids)
    found = []
    for position, data in checked:
        customer = customers.get(data.pop("customer"))
        if customer is None:
            problems[str(position)] = {"customer": ["No customer you can see has this id."]}
        else:
            found.append((position, customer, data))
    return found, problems


def _refuse(problems):
    if problems:
        raise serializers.ValidationError({"items": dict(sorted(problems.items(), key=lambda p: int(p[0])))})


def purchases_bulk(*, request):
    items = _items(request)
    found, problems = _checked(items, api.PurchaseWriteSerializer, request.user)
    external_ids = [data["external_id"] for _, _, data in found if data.get("external_id")]
    owners = dict(Purchase.objects.filter(external_id__in=external_ids)
                  .values_list("external_id", "customer_id"))
    first_at, rows = {}, []
    for position, customer, data in found:
        external_id = data.pop("external_id", None) or None
        if external_id is not None:
            if external_id in first_at:
                problems[str(position)] = {"external_id": [
                    f"Item {first_at[external_id]} of this request has the same order number."]}
                continue
            first_at[external_id] = position
            if owners.get(external_id, customer.pk) != customer.pk:
                problems[str(position)] = {"external_id": ["This order is a purchase of another customer."]}
                continue
        try:
            form = bind(PurchaseForm, data, customer=customer)
        except serializers.ValidationError as error:
            problems[str(position)] = error.detail
            continue
        rows.append((customer, {**form.cleaned_data, "external_id": external_id}))
    _refuse(problems)
    try:
        purchases, added, updated = purchases_save(user=request.user, items=rows)
    except DjangoValidationError as error:  # an order taken by another customer meanwhile
        raise serializers.ValidationError(validation_problems(error)) from None
    return {"created": added, "updated": updated, "ids": [purchase.pk for purchase in purchases]}


def touchpoints_bulk(*, request):
    items = _items(request)
    found, problems = _checked(items, api.TouchpointWriteSerializer, request.user)
    logs = []
    for position, customer, data in found:
        try:
            form = bind(TouchpointForm, {k: "" if v is None else v for k, v in data.items()},
                        customer=customer)
        except serializers.ValidationError as error:
            problems[str(position)] = error.detail
            continue
        logs.append((customer, form.log_arguments()))
    _refuse(problems)
    with transaction.atomic(), activity_in_bulk():
        touchpoints = [touchpoint_log(customer=customer, user=request.user, **arguments)
                       for customer, arguments in logs]
    return {"created": len(touchpoints), "updated": 0, "ids": [t.pk for t in touchpoints]}
