"""
The API's resources. Each reads through the one visibility rule (another team's record answers
404, as its page does) and writes through the pages' forms and the same services, so an API
purchase, touchpoint or complaint has exactly the effects of one typed in.

Lists are in id order, paged with an opaque cursor (``next``/``previous`` links), and take the
filters of the matching pages.
"""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response as JsonResponse

from customers.forms import ContactForm, CustomerForm, PurchaseForm
from customers.models import Contact, Customer, Purchase, filter_visible
from customers.selectors import customer_search
from customers.services import contact_save, customer_create, customer_update, purchase_add, purchase_update
from retention.typed import date_in_range
from surveys.models import Response
from touchpoints.forms import ComplaintForm, PromiseForm, TouchpointForm
from touchpoints.models import Complaint, Promise, Touchpoint
from touchpoints.services import (
    complaint_acknowledge,
    complaint_close,
    complaint_open,
    complaint_resolve,
    promise_close,
    promise_create,
    touchpoint_log,
    touchpoint_update,
)

from . import serializers as api
from .binding import bind
from .bulk import purchases_bulk, touchpoints_bulk


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


def _param(name, description, kind=OpenApiTypes.STR):
    return OpenApiParameter(name, kind, description=description)


def _date_param(request, name):
    """The query's date ``name`` (YYYY-MM-DD), None when absent, 400 when not a date the app knows."""
    value = request.query_params.get(name, "")
    if not value:
        return None
    day = _parsed(parse_date, value)
    if day is None:
        raise serializers.ValidationError({name: ["Enter a date as YYYY-MM-DD."]})
    _in_range(name, day)
    return day


def _moment_param(request, name):
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


CUSTOMER_FILTERS = [
    _param("q", "Name, contact name, email, phone or external id."),
    _param("status", "prospect, active, inactive or churned."),
    _param("team", "A team's id.", OpenApiTypes.INT),
    _param("owner", "A user's id, or none."),
    _param("mine", "1: the customers you own."),
    _param("tag", "A tag's name."),
    _param("due", "1: check-in due."),
    _param("overdue", "1: past the check-in maximum."),
    _param("health", "healthy, watch, at_risk or unknown."),
    _param("birthdays", "1: a contact's birthday this month."),
    _param("archived", "1: the archived customers instead."),
]


@extend_schema_view(list=extend_schema(parameters=CUSTOMER_FILTERS))
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Customers, with their contacts and key dates. Created and changed as on their pages."""

    serializer_class = api.CustomerSerializer

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            customers = customer_search(user=user, params=self.request.query_params)
        else:
            customers = Customer.objects.visible_to(user)
        return customers.select_related("owner", "team").prefetch_related("tags", "contacts", "key_dates")

    @extend_schema(request=api.CustomerWriteSerializer, responses={201: api.CustomerSerializer,
                                                                  200: api.CustomerSerializer})
    def create(self, request):
        """Add a customer; naming the external id of one on file changes that one instead."""
        write = self.checked(api.CustomerWriteSerializer)
        external_id = (write.validated_data.get("external_id") or "").strip()
        existing = self._by_external_id(external_id) if external_id else None
        if existing is not None:
            return self._update(existing, write)
        return self._create(write)

    @extend_schema(request=api.CustomerWriteSerializer, responses=api.CustomerSerializer)
    def partial_update(self, request, pk):
        """Change some of a customer's fields; send `version` to be told of a colleague's change."""
        write = self.checked(api.CustomerWriteSerializer, partial=True)
        return self._update(self.get_object(), write)

    @extend_schema(request=api.CustomerWriteSerializer,
                   responses={200: api.CustomerSerializer, 201: api.CustomerSerializer})
    @action(detail=False, methods=["get", "put"], url_path="external/<str:external_id>")
    def external(self, request, external_id):
        """The customer with this external id: read it, or create or update it (an upsert)."""
        existing = self._by_external_id(external_id)
        if request.method == "GET":
            if existing is None:
                raise NotFound("No customer you can see has this external id.")
            return self.read(api.CustomerSerializer, existing)
        write = self.checked(api.CustomerWriteSerializer, partial=existing is not None)
        write.validated_data["external_id"] = external_id
        if existing is not None:
            return self._update(existing, write)
        return self._create(write)

    def _by_external_id(self, external_id):
        return Customer.objects.visible_to(self.request.user).filter(external_id=external_id).first()

    def _create(self, write):
        form = bind(CustomerForm, write.form_data(), user=self.request.user)
        customer = customer_create(user=self.request.user, **form.service_data())
        return self.read(api.CustomerSerializer, self._fresh(customer), status.HTTP_201_CREATED)

    def _update(self, customer, write):
        version = write.validated_data.get("version") or customer.version
        form = bind(CustomerForm, write.form_data(), instance=customer, user=self.request.user)
        customer, _ = customer_update(customer=customer, user=self.request.user,
                                      data=form.service_data(), version=version)
        return self.read(api.CustomerSerializer, self._fresh(customer))

    def _fresh(self, customer):
        return self.get_queryset().get(pk=customer.pk)


class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The people at a customer. Created and changed as on the customer page."""

    serializer_class = api.ContactSerializer

    def get_queryset(self):
        contacts = Contact.objects.filter(
            customer__in=Customer.objects.visible_to(self.request.user).values("pk"))
        customer = self.request.query_params.get("customer", "")
        if customer.isdigit():
            contacts = contacts.filter(customer_id=int(customer))
        return contacts

    @extend_schema(parameters=[_param("customer", "A customer's id.", OpenApiTypes.INT)])
    def list(self, request):
        return super().list(request)

    @extend_schema(request=api.ContactWriteSerializer, responses={201: api.ContactSerializer})
    def create(self, request):
        write = self.checked(api.ContactWriteSerializer)
        customer = self.visible_customer(write.validated_data.pop("customer"))
        form = bind(ContactForm, _form_values(write.validated_data), instance=Contact(customer=customer))
        contact = contact_save(contact=form.save(commit=False))
        return self.read(api.ContactSerializer, contact, status.HTTP_201_CREATED)

    @extend_schema(request=api.ContactWriteSerializer, responses=api.ContactSerializer)
    def partial_update(self, request, pk):
        contact = self.get_object()
        write = self.checked(api.ContactWriteSerializer, partial=True)
        write.validated_data.pop("customer", None)
        form = bind(ContactForm, _form_values(write.validated_data), instance=contact)
        return self.read(api.ContactSerializer, contact_save(contact=form.save(commit=False)))


def _form_values(data):
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


PURCHASE_FILTERS = [
    _param("customer", "A customer's id.", OpenApiTypes.INT),
    _param("external_id", "An order number."),
    _param("since", "Dated on or after (YYYY-MM-DD).", OpenApiTypes.DATE),
    _param("until", "Dated on or before (YYYY-MM-DD).", OpenApiTypes.DATE),
]


@extend_schema_view(list=extend_schema(parameters=PURCHASE_FILTERS))
class PurchaseViewSet(CustomerOwnedViewSet):
    """Purchases: they drive lifetime value, the thank-you and post-purchase notes, and health."""

    model = Purchase
    serializer_class = api.PurchaseSerializer

    def filtered(self, purchases):
        if external_id := self.request.query_params.get("external_id"):
            purchases = purchases.filter(external_id=external_id)
        if since := _date_param(self.request, "since"):
            purchases = purchases.filter(date__gte=since)
        if until := _date_param(self.request, "until"):
            purchases = purchases.filter(date__lte=until)
        return purchases

    @extend_schema(request=api.PurchaseWriteSerializer,
                   responses={201: api.PurchaseSerializer, 200: api.PurchaseSerializer})
    @transaction.atomic
    def create(self, request):
        """Add a purchase; one whose ``external_id`` is on file is updated instead (200)."""
        write = self.checked(api.PurchaseWriteSerializer)
        data = dict(write.validated_data)
        customer = self.visible_customer(data.pop("customer"))
        external_id = data.pop("external_id", None) or None
        on_file = Purchase.objects.select_for_update().filter(external_id=external_id).first() \
            if external_id else None
        if on_file is not None:
            if on_file.customer_id != customer.pk:
                raise serializers.ValidationError(
                    {"external_id": ["This order is a purchase of another customer."]})
            return self._update(on_file, data)
        form = bind(PurchaseForm, data, customer=customer)
        purchase = purchase_add(customer=customer, user=request.user, external_id=external_id,
                                **form.cleaned_data)
        return self.read(api.PurchaseSerializer, purchase, status.HTTP_201_CREATED)

    @extend_schema(request=api.PurchaseWriteSerializer, responses=api.PurchaseSerializer)
    def partial_update(self, request, pk):
        purchase = self.get_object()
        write = self.checked(api.PurchaseWriteSerializer, partial=True)
        data = {k: v for k, v in write.validated_data.items() if k in ("date", "amount", "description")}
        return self._update(purchase, data)

    def _update(self, purchase, data):
        form = bind(PurchaseForm, data, instance=purchase, customer=purchase.customer)
        purchase_update(purchase=purchase, user=self.request.user, **form.cleaned_data)
        return self.read(api.PurchaseSerializer, purchase)

    @extend_schema(request=api.PurchaseWriteSerializer(many=True), responses={200: api.BulkResultSerializer})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Up to 1,000 purchases, all or nothing: any problem answers 400 with each item's problems
        (``{"items": {"3": {"amount": ["…"]}}}``, by position) and saves none. Order numbers on
        file are updated, never added twice, so a repeated request adds nothing."""
        return JsonResponse(purchases_bulk(request=request))


TOUCHPOINT_FILTERS = [
    _param("customer", "A customer's id.", OpenApiTypes.INT),
    _param("kind", "call, meeting, email, …"),
    _param("since", "Happened at or after (ISO 8601).", OpenApiTypes.DATETIME),
]


@extend_schema_view(list=extend_schema(parameters=TOUCHPOINT_FILTERS))
class TouchpointViewSet(CustomerOwnedViewSet):
    """Calls, meetings and emails; a contact resets the customer's check-in clock."""

    model = Touchpoint
    serializer_class = api.TouchpointSerializer

    def filtered(self, touchpoints):
        touchpoints = touchpoints.select_related("author").prefetch_related("contacts")
        if kind := self.request.query_params.get("kind"):
            touchpoints = touchpoints.filter(kind=kind)
        if since := _moment_param(self.request, "since"):
            touchpoints = touchpoints.filter(happened_at__gte=since)
        return touchpoints

    @extend_schema(request=api.TouchpointWriteSerializer, responses={201: api.TouchpointSerializer})
    def create(self, request):
        write = self.checked(api.TouchpointWriteSerializer)
        data = dict(write.validated_data)
        customer = self.visible_customer(data.pop("customer"))
        form = bind(TouchpointForm, _form_values(data), customer=customer)
        touchpoint = touchpoint_log(customer=customer, user=request.user, **form.log_arguments())
        return self.read(api.TouchpointSerializer, touchpoint, status.HTTP_201_CREATED)

    @extend_schema(request=api.TouchpointWriteSerializer, responses=api.TouchpointSerializer)
    def partial_update(self, request, pk):
        touchpoint = self.get_object()
        write = self.checked(api.TouchpointWriteSerializer, partial=True)
        write.validated_data.pop("customer", None)
        form = bind(TouchpointForm, _form_values(write.validated_data), instance=touchpoint,
                    customer=touchpoint.customer)
        data = {f: form.cleaned_data[f] for f in form.Meta.fields if f != "contacts"}
        touchpoint_update(touchpoint=touchpoint, data=data, contacts=form.cleaned_data["contacts"])
        return self.read(api.TouchpointSerializer, touchpoint)

    @extend_schema(request=api.TouchpointWriteSerializer(many=True),
                   responses={200: api.BulkResultSerializer})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Up to 1,000 touchpoints, all or nothing, with each item's problems by position."""
        return JsonResponse(touchpoints_bulk(request=request))


PROMISE_FILTERS = [
    _param("customer", "A customer's id.", OpenApiTypes.INT),
    _param("status", "open, kept, late, exceeded or broken."),
    _param("due_before", "Due on or before (YYYY-MM-DD).", OpenApiTypes.DATE),
]


@extend_schema_view(list=extend_schema(parameters=PROMISE_FILTERS))
class PromiseViewSet(CustomerOwnedViewSet):
    """Commitments to customers, closed as kept, exceeded or broken."""

    model = Promise
    serializer_class = api.PromiseSerializer

    def filtered(self, promises):
        promises = promises.select_related("owner")
        if state := self.request.query_params.get("status"):
            promises = promises.filter(status=state)
        if due_before := _date_param(self.request, "due_before"):
            promises = promises.filter(due_on__lte=due_before)
        return promises

    @extend_schema(request=api.PromiseWriteSerializer, responses={201: api.PromiseSerializer})
    def create(self, request):
        write = self.checked(api.PromiseWriteSerializer)
        data = dict(write.validated_data)
        customer = self.visible_customer(data.pop("customer"))
        form = bind(PromiseForm, _form_values(data), customer=customer)
        promise = promise_create(customer=customer, user=request.user, **form.cleaned_data)
        return self.read(api.PromiseSerializer, promise, status.HTTP_201_CREATED)

    @extend_schema(request=api.PromiseCloseSerializer, responses=api.PromiseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk):
        """Close an open promise; a closed one answers 409."""
        promise = self.get_object()
        write = self.checked(api.PromiseCloseSerializer)
        promise = promise_close(promise=promise, user=request.user, **write.validated_data)
        return self.read(api.PromiseSerializer, promise)


COMPLAINT_FILTERS = [
    _param("customer", "A customer's id.", OpenApiTypes.INT),
    _param("status", "new, acknowledged, resolved or closed."),
    _param("severity", "low, medium, high or critical."),
]


@extend_schema_view(list=extend_schema(parameters=COMPLAINT_FILTERS))
class ComplaintViewSet(CustomerOwnedViewSet):
    """Complaints with their deadlines, moved new → acknowledged → resolved → closed."""

    model = Complaint
    serializer_class = api.ComplaintSerializer

    def filtered(self, complaints):
        complaints = complaints.select_related("handled_by", "opened_by")
        for name in ("status", "severity"):
            if value := self.request.query_params.get(name):
                complaints = complaints.filter(**{name: value})
        return complaints

    @extend_schema(request=api.ComplaintWriteSerializer, responses={201: api.ComplaintSerializer})
    def create(self, request):
        write = self.checked(api.ComplaintWriteSerializer)
        data = dict(write.validated_data)
        customer = self.visible_customer(data.pop("customer"))
        data.setdefault("opened_at", datetime.datetime.now(datetime.UTC))
        form = bind(ComplaintForm, _form_values(data), customer=customer)
        complaint = complaint_open(customer=customer, user=request.user, **form.cleaned_data)
        return self.read(api.ComplaintSerializer, complaint, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=api.ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk):
        """A new complaint acknowledged; in any other state, 409."""
        return self.read(api.ComplaintSerializer,
                         complaint_acknowledge(complaint=self.get_object(), user=request.user))

    @extend_schema(request=api.ComplaintResolveSerializer, responses=api.ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk):
        """An acknowledged complaint resolved, saying how; in any other state, 409."""
        complaint = self.get_object()
        write = self.checked(api.ComplaintResolveSerializer)
        return self.read(api.ComplaintSerializer, complaint_resolve(
            complaint=complaint, user=request.user, **write.validated_data))

    @extend_schema(request=None, responses=api.ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk):
        """A resolved complaint closed; in any other state, 409."""
        return self.read(api.ComplaintSerializer,
                         complaint_close(complaint=self.get_object(), user=request.user))


@extend_schema_view(list=extend_schema(parameters=[
    _param("customer", "A customer's id.", OpenApiTypes.INT),
    _param("category", "promoter, passive or detractor."),
    _param("since", "Answered on or after (YYYY-MM-DD).", OpenApiTypes.DATE),
]))
class SurveyResponseViewSet(CustomerOwnedViewSet):
    """Customers' answers to NPS and CSAT surveys (read only)."""

    model = Response
    serializer_class = api.SurveyResponseSerializer

    def filtered(self, responses):
        responses = responses.select_related("survey")
        if category := self.request.query_params.get("category"):
            responses = responses.filter(category=category)
        if since := _date_param(self.request, "since"):
            responses = responses.filter(created_at__date__gte=since)
        return responses


@extend_schema_view(list=extend_schema(parameters=[
    _param("band", "healthy, watch, at_risk or unknown."),
]))
class HealthViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Each customer's health score and band, with the factors and reasons behind it (read only).
    Retrieved by the customer's id."""

    serializer_class = api.HealthSerializer

    def get_queryset(self):
        customers = Customer.objects.visible_to(self.request.user).current().only(
            "pk", "name", "health_score", "health_band", "health_factors", "health_computed_at")
        band = self.request.query_params.get("band", "")
        if band == "unknown":
            customers = customers.filter(health_band="")
        elif band:
            customers = customers.filter(health_band=band)
        return customers

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
