"""``survey_send NAME [--team T] [--owner U] [--status S] [--tag X] [--dry-run]``: what the campaign
page's send does, from the command line."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from customers.models import Team
from surveys.campaigns import campaign_create, campaign_plan, campaign_send
from surveys.invitations import skip_label
from surveys.models import Survey


class Command(BaseCommand):
    help = (
        "Invite the matching customers' contacts to survey NAME now (a campaign, as the campaign page sends)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the survey's name, e.g. NPS")
        parser.add_argument("--team", help="a team's name")
        parser.add_argument("--owner", help="the account manager: a username or email")
        parser.add_argument("--status", help="customer status: prospect, active, inactive or churned")
        parser.add_argument("--tag", help="a tag the customers carry")
        parser.add_argument("--dry-run", action="store_true", help="count and list the skips, send nothing")

    def handle(self, *args, name, team=None, owner=None, status=None, tag=None, dry_run=False, **options):
        survey = Survey.objects.filter(name=name).first()
        if survey is None:
            known = ", ".join(Survey.objects.filter(is_active=True).values_list("name", flat=True)) or "none"
            raise CommandError(f"There is no survey named {name!r} (active surveys: {known}).")
        if not survey.is_active:
            raise CommandError(f"The survey {name!r} is switched off.")
        filters = {}
        if team:
            found = Team.objects.filter(name__iexact=team).first()
            if found is None:
                raise CommandError(f"There is no team named {team!r}.")
            filters["team"] = str(found.pk)
        if owner:
            found = get_user_model().objects.filter(Q(username=owner) | Q(email__iexact=owner)).first()
            if found is None:
                raise CommandError(f"There is no user {owner!r}.")
            filters["owner"] = str(found.pk)
        if status:
            filters["status"] = status
        if tag:
            filters["tag"] = tag
        if dry_run:
            plan = campaign_plan(filters=filters, user=None)
            self.stdout.write(
                f"{plan.invited} contact(s) would be invited to {survey.name}, "
                f"of {plan.customers} customer(s)."
            )
            self._skips(plan.skipped)
            self.stdout.write("Dry run: nothing was sent.")
            return
        campaign = campaign_create(
            user=None, survey=survey, name=f"{survey.name} from the command line", filters=filters
        )
        campaign = campaign_send(campaign=campaign)
        self.stdout.write(
            self.style.SUCCESS(
                f"{campaign.invited_count} invitation(s) created to {survey.name} (campaign #{campaign.pk})."
            )
        )
        self._skips(campaign.skipped)

    def _skips(self, skipped):
        total = sum(skipped.values())
        self.stdout.write(f"{total} contact(s) or customer(s) skipped" + (":" if total else "."))
        for reason, n in sorted(skipped.items()):
            self.stdout.write(f"  {n} {skip_label(reason)}")
