"""
The API's resources of the customer book: customers (with their contacts and key dates),
contacts, purchases, survey answers and health. Each reads through the one visibility rule
(another team's record answers 404, as its page does) and writes through the pages' forms and the
same services, so an API purchase has exactly the effects of one typed in. The touchpoints,
promises and complaints are in ``touchpoint_views``.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response as JsonResponse

from customers.forms import ContactForm, CustomerForm, KeyDateForm, PurchaseForm
from customers.models import Contact, Customer, KeyDate, Purchase
from customers.selectors import customer_search
from customers.services import (
    contact_save,
    customer_create,
    customer_update,
    key_date_delete,
    key_date_save,
    purchase_add,
    purchase_update,
)
from surveys.models import Response

from . import serializers as api
from .binding import bind
from .bulk import purchases_bulk
from .resources import ApiViewSet, CustomerOwnedViewSet, date_param, query_param

CUSTOMER_FILTERS = [
    query_param("q", "Name, contact name, email, phone or external id."),
    query_param("status", "prospect, active, inactive or churned."),
    query_param("team", "A team's id.", OpenApiTypes.INT),
    query_param("owner", "A user's id, or none."),
    query_param("mine", "1: the customers you own."),
    query_param("tag", "A tag's name."),
    query_param("due", "1: check-in due."),
    query_param("overdue", "1: past the check-in maximum."),
    query_param("health", "healthy, watch, at_risk or unknown."),
    query_param("birthdays", "1: a contact's birthday this month."),
    query_param("archived", "1: the archived customers instead."),
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

    @extend_schema(parameters=[query_param("customer", "A customer's id.", OpenApiTypes.INT)])
    def list(self, request):
        return super().list(request)

    @extend_schema(request=api.ContactWriteSerializer, responses={201: api.ContactSerializer})
    def create(self, request):
        customer, data = self.new_for_customer(api.ContactWriteSerializer)
        form = bind(ContactForm, data, instance=Contact(customer=customer))
        contact = contact_save(contact=form.save(commit=False))
        return self.read(api.ContactSerializer, contact, status.HTTP_201_CREATED)

    @extend_schema(request=api.ContactWriteSerializer, responses=api.ContactSerializer)
    def partial_update(self, request, pk):
        contact = self.get_object()
        form = bind(ContactForm, self.changed_fields(api.ContactWriteSerializer), instance=contact)
        return self.read(api.ContactSerializer, contact_save(contact=form.save(commit=False)))


@extend_schema_view(list=extend_schema(parameters=[
    query_param("customer", "A customer's id.", OpenApiTypes.INT),
]))
class KeyDateViewSet(mixins.DestroyModelMixin, CustomerOwnedViewSet):
    """Special occasions of a customer or one of its contacts, besides birthdays: greeted each year
    (or once) by the key-date program and listed on Today."""

    model = KeyDate
    serializer_class = api.KeyDateDetailSerializer

    def filtered(self, key_dates):
        return key_dates.select_related("customer", "contact")

    @extend_schema(request=api.KeyDateWriteSerializer, responses={201: api.KeyDateDetailSerializer})
    def create(self, request):
        customer, data = self.new_for_customer(api.KeyDateWriteSerializer)
        form = bind(KeyDateForm, data, instance=KeyDate(customer=customer), customer=customer)
        key_date = key_date_save(key_date=form.save(commit=False))
        return self.read(api.KeyDateDetailSerializer, key_date, status.HTTP_201_CREATED)

    @extend_schema(request=api.KeyDateWriteSerializer, responses=api.KeyDateDetailSerializer)
    def partial_update(self, request, pk):
        key_date = self.get_object()
        form = bind(KeyDateForm, self.changed_fields(api.KeyDateWriteSerializer), instance=key_date,
                    customer=key_date.customer)
        return self.read(api.KeyDateDetailSerializer, key_date_save(key_date=form.save(commit=False)))

    def perform_destroy(self, key_date):
        key_date_delete(key_date=key_date)


PURCHASE_FILTERS = [
    query_param("customer", "A customer's id.", OpenApiTypes.INT),
    query_param("external_id", "An order number."),
    query_param("since", "Dated on or after (YYYY-MM-DD).", OpenApiTypes.DATE),
    query_param("until", "Dated on or before (YYYY-MM-DD).", OpenApiTypes.DATE),
]


@extend_schema_view(list=extend_schema(parameters=PURCHASE_FILTERS))
class PurchaseViewSet(CustomerOwnedViewSet):
    """Purchases: they drive lifetime value, the thank-you and post-purchase notes, and health."""

    model = Purchase
    serializer_class = api.PurchaseSerializer

    def filtered(self, purchases):
        if external_id := self.request.query_params.get("external_id"):
            purchases = purchases.filter(external_id=external_id)
        if since := date_param(self.request, "since"):
            purchases = purchases.filter(date__gte=since)
        if until := date_param(self.request, "until"):
            purchases = purchases.filter(date__lte=until)
        return purchases

    @extend_schema(request=api.PurchaseWriteSerializer,
                   responses={201: api.PurchaseSerializer, 200: api.PurchaseSerializer})
    @transaction.atomic
    def create(self, request):
        """Add a purchase; one whose ``external_id`` is on file is updated instead (200)."""
        customer, data = self.new_for_customer(api.PurchaseWriteSerializer)
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
        # Only the purchase's own fields: its customer and order number stay.
        return self._update(purchase, self.changed_fields(api.PurchaseWriteSerializer))

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


@extend_schema_view(list=extend_schema(parameters=[
    query_param("customer", "A customer's id.", OpenApiTypes.INT),
    query_param("category", "promoter, passive or detractor."),
    query_param("since", "Answered on or after (YYYY-MM-DD).", OpenApiTypes.DATE),
]))
class SurveyResponseViewSet(CustomerOwnedViewSet):
    """Customers' answers to NPS and CSAT surveys (read only)."""

    model = Response
    serializer_class = api.SurveyResponseSerializer

    def filtered(self, responses):
        responses = responses.select_related("survey")
        if category := self.request.query_params.get("category"):
            responses = responses.filter(category=category)
        if since := date_param(self.request, "since"):
            responses = responses.filter(created_at__date__gte=since)
        return responses


@extend_schema_view(list=extend_schema(parameters=[
    query_param("band", "healthy, watch, at_risk or unknown."),
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
