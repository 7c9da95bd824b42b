"""The audit log's page and its CSV export: admins only, read-only (``audit.py`` records)."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from retention.pagination import paginate
from retention.ratelimit import export_rate_limited
from retention.typed import TypedDates

from .access import admin_required
from .audit import AuditEvent, audit_record
from .csv_io.columns import csv_download

EXPORT_COLUMNS = ["at", "who", "address", "action", "target", "summary"]


class AuditFilterForm(TypedDates, forms.Form):
    action = forms.ChoiceField(required=False, choices=[("", "Any")] + AuditEvent.Action.choices)
    who = forms.ModelChoiceField(required=False, queryset=get_user_model().objects.order_by("username"),
                                 empty_label="Anyone", to_field_name="username")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=100, label="Containing")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field, forms.ChoiceField)
                                          else "form-control")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError("The first day is after the last.")
        return cleaned

    def events(self):
        """The entries these filters select, newest first (all of them if the filters are invalid)."""
        events = AuditEvent.objects.all()
        if not self.is_bound or not self.is_valid():
            return events
        data = self.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["who"]:
            events = events.filter(actor=data["who"])
        if data["date_from"]:
            events = events.filter(at__gte=_start_of(data["date_from"]))
        if data["date_to"]:
            events = events.filter(at__lt=_start_of(data["date_to"] + datetime.timedelta(days=1)))
        if data["q"]:
            events = events.filter(summary__icontains=data["q"]) | events.filter(target__icontains=data["q"])
        return events


def _start_of(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


@admin_required
@require_GET
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(request, "customers/audit.html", {
        "form": form,
        "page": paginate(form.events(), request.GET.get("page")),
        "querystring": querystring.urlencode(),
    })


@admin_required
@export_rate_limited
@require_GET
def audit_export(request):
    form = AuditFilterForm(request.GET or None)
    events = form.events()
    audit_record(AuditEvent.Action.EXPORT, f"Exported the audit log ({request.GET.urlencode() or 'all'})",
                 target="audit log")

    rows = (
        (timezone.localtime(event.at).isoformat(timespec="seconds"), event.actor_name or "system",
         event.address or "", event.action, event.target, event.summary)
        for event in events.iterator(chunk_size=2000)
    )
    return csv_download(f"audit-log-{timezone.localdate():%Y-%m-%d}.csv", EXPORT_COLUMNS, rows)
