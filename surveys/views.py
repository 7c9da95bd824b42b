"""
The survey pages for the team: results (everyone, their own book for an account manager), the CSV
of the answers, and campaigns and triggers (managers and admins).
"""

import functools

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.access import is_manager, manager_required
from customers.audit import AuditEvent, audit_record
from customers.csv_io.columns import csv_download
from customers.models import Team
from retention.pagination import paginate
from retention.ratelimit import export_rate_limited

from .campaigns import CampaignRefused, campaign_cancel, campaign_create, campaign_plan
from .defaults import TRIGGERS
from .forms import CampaignForm, TriggerForm
from .invitations import fatigue_days, skip_label
from .models import Campaign, Invitation, Survey
from .results import chart_data, scoped, survey_results
from .tasks import send_campaign_soon


def _campaign_for_results(user, campaign_id):
    """The campaign the results are narrowed to, if the user may read it (or None)."""
    if not str(campaign_id or "").isdigit():
        return None
    campaigns = (
        Campaign.objects.visible_to(user)
        if is_manager(user)
        else Campaign.objects.filter(pk__in=scoped(Invitation.objects.all(), user).values("campaign_id"))
    )
    return campaigns.filter(pk=int(campaign_id)).select_related("survey").first()


@require_GET
def results(request):
    campaign = _campaign_for_results(request.user, request.GET.get("campaign"))
    data = survey_results(user=request.user, campaign=campaign)
    return render(
        request,
        "surveys/results.html",
        {
            "campaign": campaign,
            "results": data,
            "chart": chart_data(data),
            "own_book": not is_manager(request.user),
        },
    )


EXPORT_COLUMNS = [
    "answered_at",
    "amended_at",
    "survey",
    "kind",
    "campaign",
    "customer",
    "external_id",
    "team",
    "owner",
    "contact",
    "score",
    "category",
    "comment",
    "further_answers",
]


@export_rate_limited
@require_GET
def export(request):
    """The answers the user may read, as CSV, streamed; cells a spreadsheet would run are neutralised."""
    audit_record(AuditEvent.Action.EXPORT, "Exported the survey answers", target="survey answers")
    rows = (
        scoped(Invitation.objects.all(), request.user)
        .filter(response__isnull=False)
        .select_related("response", "survey", "campaign", "customer__team", "customer__owner", "contact")
        .prefetch_related("response__answers__question")
        .order_by("-answered_at", "-pk")
    )

    def answers():
        for invitation in rows.iterator(chunk_size=2000):
            answer = invitation.response
            owner = invitation.customer.owner
            yield [
                answer.created_at.isoformat(),
                answer.updated_at.isoformat() if answer.updated_at else "",
                invitation.survey.name,
                answer.kind,
                invitation.campaign.name if invitation.campaign else "",
                invitation.customer.name,
                invitation.customer.external_id or "",
                invitation.customer.team.name,
                owner.username if owner else "",
                invitation.contact.email if invitation.contact else "",
                answer.score,
                answer.category,
                answer.comment,
                "; ".join(f"{a.question.text}: {a.value}" for a in answer.answers.all()),
            ]

    return csv_download(f"survey-answers-{timezone.localdate():%Y-%m-%d}.csv", EXPORT_COLUMNS, answers())


# Campaigns and triggers ------------------------------------------------------------------------


@manager_required
@require_GET
def campaign_list(request):
    campaigns = (
        Campaign.objects.visible_to(request.user).filter(trigger="").select_related("survey", "created_by")
    )
    triggers = {c.trigger: c for c in Campaign.objects.exclude(trigger="").select_related("survey")}
    trigger_rows = []
    for trigger, name, days in TRIGGERS:
        campaign = triggers.get(trigger) or Campaign(
            trigger=trigger, name=name, trigger_days=days, status=Campaign.Status.OFF
        )
        trigger_rows.append(
            {
                "campaign": campaign,
                "form": TriggerForm(instance=campaign, prefix=trigger),
                "label": Campaign.Trigger(trigger).label,
            }
        )
    return render(
        request,
        "surveys/campaigns.html",
        {
            "page": paginate(campaigns, request.GET.get("page"), per_page=25),
            "triggers": trigger_rows,
            "has_surveys": Survey.objects.filter(is_active=True).exists(),
            "querystring": "",
            "fatigue_days": fatigue_days(),
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def campaign_new(request):
    teams = Team.objects.visible_to(request.user)
    initial = {"survey": Survey.objects.filter(is_active=True, name=request.GET.get("survey", "")).first()}
    form = CampaignForm(request.POST or None, user=request.user, teams=teams, initial=initial)
    plan = None
    if request.method == "POST" and form.is_valid():
        plan = campaign_plan(filters=form.filters(), user=request.user)
        if request.POST.get("action") == "send":
            confirmed = request.POST.get("confirmed_count", "")
            if confirmed != str(plan.invited):
                messages.warning(
                    request,
                    "The number of recipients changed since you counted: "
                    "check the new count and confirm again.",
                )
            else:
                later = form.cleaned_data["when"] == "later"
                with transaction.atomic():
                    campaign = campaign_create(
                        user=request.user,
                        survey=form.cleaned_data["survey"],
                        name=form.cleaned_data["name"],
                        filters=form.filters(),
                        reminder_days=form.cleaned_data["reminder_days"],
                        scheduled_for=form.cleaned_data["scheduled_for"] if later else None,
                    )
                    if not later:
                        transaction.on_commit(functools.partial(send_campaign_soon, campaign.pk))
                messages.success(
                    request,
                    f"“{campaign.name}” is "
                    + (
                        f"scheduled for {timezone.localtime(campaign.scheduled_for):%Y-%m-%d %H:%M}."
                        if later
                        else f"on its way to {plan.invited} contact{'s' if plan.invited != 1 else ''}."
                    ),
                )
                return redirect(campaign)
    elif request.method == "POST":
        messages.error(request, "Nothing was sent: please correct the errors below.")
    return render(
        request,
        "surveys/campaign_new.html",
        {
            "form": form,
            "plan": plan,
            "skipped": [(skip_label(reason), n) for reason, n in plan.skipped.items()] if plan else [],
        },
    )


@manager_required
@require_GET
def campaign_detail(request, pk):
    campaign = get_object_or_404(
        Campaign.objects.visible_to(request.user).select_related("survey", "created_by"), pk=pk
    )
    data = survey_results(user=request.user, campaign=campaign)
    return render(
        request,
        "surveys/campaign_detail.html",
        {
            "campaign": campaign,
            "results": data,
            "chart": chart_data(data),
            "skipped": [(skip_label(reason), n) for reason, n in (campaign.skipped or {}).items()],
        },
    )


@manager_required
@require_POST
def campaign_cancel_view(request, pk):
    campaign = get_object_or_404(Campaign.objects.visible_to(request.user), pk=pk)
    try:
        campaign_cancel(campaign=campaign)
    except CampaignRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"“{campaign.name}” is cancelled; nothing was sent.")
    return redirect(campaign)


@manager_required
@require_POST
def trigger_save(request, trigger):
    if trigger not in dict(Campaign.Trigger.choices) or not trigger:
        raise Http404
    name = next(name for key, name, _ in TRIGGERS if key == trigger)
    campaign = Campaign.objects.filter(trigger=trigger).first() or Campaign(
        trigger=trigger, name=name, created_by=request.user
    )
    form = TriggerForm(request.POST, instance=campaign, prefix=trigger)
    if form.is_valid():
        campaign = form.save(commit=False)
        campaign.status = Campaign.Status.ON if form.cleaned_data["on"] else Campaign.Status.OFF
        campaign.save()
        messages.success(
            request,
            f"“{Campaign.Trigger(trigger).label}” is "
            f"{'on' if campaign.status == Campaign.Status.ON else 'off'}.",
        )
    else:
        messages.error(
            request,
            "Nothing was saved: "
            + " ".join(
                f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}"
                for f, e in form.errors.items()
            ),
        )
    return redirect("surveys:campaigns")
