"""
The API's touchpoints, promises and complaints: logged, made and moved along their paths through
the pages' forms and the same services (a contact resets the check-in clock, a closed promise or
complaint refuses a second close with 409).
"""

import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response as JsonResponse

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
from .bulk import touchpoints_bulk
from .resources import CustomerOwnedViewSet, date_param, moment_param, query_param

TOUCHPOINT_FILTERS = [
    query_param("customer", "A customer's id.", OpenApiTypes.INT),
    query_param("kind", "call, meeting, email, …"),
    query_param("since", "Happened at or after (ISO 8601).", OpenApiTypes.DATETIME),
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
        if since := moment_param(self.request, "since"):
            touchpoints = touchpoints.filter(happened_at__gte=since)
        return touchpoints

    @extend_schema(request=api.TouchpointWriteSerializer, responses={201: api.TouchpointSerializer})
    def create(self, request):
        customer, data = self.new_for_customer(api.TouchpointWriteSerializer)
        form = bind(TouchpointForm, data, customer=customer)
        touchpoint = touchpoint_log(customer=customer, user=request.user, **form.log_arguments())
        return self.read(api.TouchpointSerializer, touchpoint, status.HTTP_201_CREATED)

    @extend_schema(request=api.TouchpointWriteSerializer, responses=api.TouchpointSerializer)
    def partial_update(self, request, pk):
        touchpoint = self.get_object()
        form = bind(TouchpointForm, self.changed_fields(api.TouchpointWriteSerializer), instance=touchpoint,
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
    query_param("customer", "A customer's id.", OpenApiTypes.INT),
    query_param("status", "open, kept, late, exceeded or broken."),
    query_param("due_before", "Due on or before (YYYY-MM-DD).", OpenApiTypes.DATE),
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
        if due_before := date_param(self.request, "due_before"):
            promises = promises.filter(due_on__lte=due_before)
        return promises

    @extend_schema(request=api.PromiseWriteSerializer, responses={201: api.PromiseSerializer})
    def create(self, request):
        customer, data = self.new_for_customer(api.PromiseWriteSerializer)
        form = bind(PromiseForm, data, customer=customer)
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
    query_param("customer", "A customer's id.", OpenApiTypes.INT),
    query_param("status", "new, acknowledged, resolved or closed."),
    query_param("severity", "low, medium, high or critical."),
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
        customer, data = self.new_for_customer(api.ComplaintWriteSerializer)
        data.setdefault("opened_at", datetime.datetime.now(datetime.UTC))
        form = bind(ComplaintForm, data, customer=customer)
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
