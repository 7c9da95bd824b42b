"""
What every resource of the API shares: its pagination, the base of its views (JSON, a token or the
session, the one visibility rule), and the reading of query parameters and JSON nulls.
"""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response as JsonResponse

from customers.models import Customer, filter_visible
from retention.typed import date_in_range


class IdCursorPagination(CursorPagination):
    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ApiViewSet(viewsets.GenericViewSet):
    """
    A resource of the API: JSON, a token or the browser's session, and 401 rather than a login page
    (DRF's views are exempt from the login middleware).
    """

    pagination_class = IdCursorPagination
    lookup_value_converter = "int"

    def visible_customer(self, pk, field="customer"):
        """The customer ``pk`` if the user sees it, else 400 on ``field`` (as a form would)."""
        customer = Customer.objects.visible_to(self.request.user).filter(pk=pk).first()
        if customer is None:
            raise serializers.ValidationError({field: ["No customer you can see has this id."]})
        return customer

    def read(self, serializer_class, instance, status_code=status.HTTP_200_OK):
        return JsonResponse(serializer_class(instance, context=self.get_serializer_context()).data,
                            status=status_code)

    def checked(self, serializer_class, **kwargs):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(),
                                      **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer

    def new_for_customer(self, serializer_class):
        """A new record's checked fields, as a form takes them, and its customer (one the user sees)."""
        data = form_values(self.checked(serializer_class).validated_data)
        return self.visible_customer(data.pop("customer")), data

    def changed_fields(self, serializer_class):
        """A change's checked fields, as a form takes them; a record keeps its customer."""
        data = form_values(self.checked(serializer_class, partial=True).validated_data)
        data.pop("customer", None)
        return data


def query_param(name, description, kind=OpenApiTypes.STR):
    return OpenApiParameter(name, kind, description=description)


def date_param(request, name):
    """The query's date ``name`` (YYYY-MM-DD), None when absent, 400 when not a date the app knows."""
    value = request.query_params.get(name, "")
    if not value:
        return None
    day = _parsed(parse_date, value)
    if day is None:
        raise serializers.ValidationError({name: ["Enter a date as YYYY-MM-DD."]})
    _in_range(name, day)
    return day


def moment_param(request, name):
    """The query's date and time ``name`` (ISO 8601), in UTC; None when absent, 400 when not one."""
    value = request.query_params.get(name, "")
    if not value:
        return None
    moment = _parsed(parse_datetime, value)
    if moment is None:
        raise serializers.ValidationError({name: ["Enter a date and time in ISO 8601."]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    _in_range(name, moment)
    return moment.astimezone(datetime.UTC)


def _parsed(parse, value):
    try:
        return parse(value)
    except ValueError:  # well formed but no such day: 2026-02-30
        return None


def _in_range(name, value):
    try:
        date_in_range(value)
    except DjangoValidationError as error:
        raise serializers.ValidationError({name: error.messages}) from None


def form_values(data):
    """JSON nulls as the empty values a form takes."""
    return {name: "" if value is None else value for name, value in data.items()}


class CustomerOwnedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """A resource that belongs to customers: visible when its customer is; ``?customer=`` filters."""

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation: no request
            return self.model.objects.none()
        rows = filter_visible(self.model.objects.all(), self.request.user)
        customer = self.request.query_params.get("customer", "")
        if customer.isdigit():
            rows = rows.filter(customer_id=int(customer))
        return self.filtered(rows)

    def filtered(self, rows):
        return rows

