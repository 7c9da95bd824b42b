"""Reading customers for pages and exports: one filter for the list and its CSV export."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.lookups import IsNull
from django.utils import timezone

from .access import managed_members
from .checkin import overdue_on
from .models import Contact, Customer, Team

SORTS = {
    "name": ["name", "pk"],
    "-name": ["-name", "-pk"],
    "last_contact": ["last_contacted_at", "pk"],
    "-last_contact": ["-last_contacted_at", "-pk"],
    "value": ["-lifetime_value", "pk"],
    "customer_since": ["customer_since", "pk"],
    "-customer_since": ["-customer_since", "-pk"],
    "due": ["next_checkin_due", "pk"],
    # Health, weakest first (unknown last), and strongest first.
    "health": [F("health_score").asc(nulls_last=True), "pk"],
    "-health": [F("health_score").desc(nulls_last=True), "-pk"],
}
HEALTH_FILTERS = {band: band for band in Customer.HealthBand.values} | {"unknown": ""}


def assignable_users(user):
    """People a user may make owner: the members of the teams the user sees."""
    User = get_user_model()
    teams = Team.objects.visible_to(user)
    return (
        User.objects.filter(is_active=True)
        .filter(Q(teams__in=teams) | Q(managed_teams__in=teams) | Q(pk=user.pk))
        .distinct()
        .order_by("username")
    )


def reassign_candidates(user):
    """Whom a manager may hand customers to: the members of the teams they manage."""
    return managed_members(user).order_by("username")


# Past this many rows (page 20 of the list), a search is one query again: see customer_search.
SPLIT_SEARCH_MAX_ROWS = 1_001
# How a search finds the customers whose contacts hold the term: see customer_search.
HEAD = 2_000  # the first customers of the list, where a common term is found
FEW_CONTACTS = 2_000  # a rarer term held by at most this many is searched among their customers


def customer_search(*, user, params, today=None, rows=None):
    """
    The customers ``user`` sees, filtered and sorted by ``params`` (a QueryDict from the list
    page's URL, so a filtered view can be bookmarked, shared and exported as it is).

    Parameters: ``q`` (name, contact name, email, phone, external id), ``status``, ``team`` (id),
    ``owner`` (a user id among ``assignable_users``, or ``none``), ``mine=1``, ``tag`` (name),
    ``due=1`` (check-in due), ``overdue=1`` (past the maximum), ``birthdays=1`` (a contact's
    birthday this month), ``health`` (a band, or ``unknown``), ``archived=1``, ``sort`` (a key of
    ``SORTS``). Unknown values are ignored.

    ``rows``: how many rows from the start the caller will read (a page of the list asks for
    ``retention.pagination.rows_needed``); None, the default, for all of them (the export).

    A search matches the customer (name, external id) or one of its contacts. As one OR the
    database has a single plan for every term: walk the list's order testing each customer, which
    stops early for a common term and reads the whole book for a rare one. So when only the first
    ``rows`` are wanted, each half is asked separately for its first ``rows`` in the list's order
    (each planned on its own, with its own index), and the QuerySet returned is of those ids: its
    first ``rows`` rows are exactly those of the single OR, in the same order (both halves' first
    ``rows`` hold the union's first ``rows``), the database doing the ordering.

    The contacts' half is where the planner guesses worst: how many contacts hold a term is
    estimated from a sample of a hundred values, so a rare term one of them happens to hold is
    thought a hundred times commoner than it is, and a common one none of them holds a hundred
    times rarer. Either way the wrong plan costs 0.5–0.9 s at a million customers instead of
    40–80 ms. So that half is found in steps whose cost is bounded whatever the estimate
    (``_contacts_half``).
    """
    today = today or timezone.localdate()
    order = SORTS.get(params.get("sort", "name"), SORTS["name"])
    customers = _customers_filtered(user=user, params=params, today=today)
    query = params.get("q", "").strip()
    if query:
        matching_contacts = Contact.objects.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
        )
        by_customer = Q(name__icontains=query) | Q(external_id=query)
        if rows is not None and rows <= SPLIT_SEARCH_MAX_ROWS:
            ids = set(customers.filter(by_customer).order_by(*order).values_list("pk", flat=True)[:rows])
            ids.update(_contacts_half(customers, matching_contacts, order, rows))
            customers = customers.filter(pk__in=sorted(ids))
        else:
            by_contact = Exists(matching_contacts.filter(customer=OuterRef("pk")))
            customers = customers.filter(by_customer | by_contact)
    return customers.order_by(*order)


def _contacts_half(customers, matching_contacts, order, rows):
    """
    The ids of the first ``rows`` of ``customers`` in ``order`` one of whose contacts is among
    ``matching_contacts``, found without trusting the planner's estimate of how many hold the
    term (see ``customer_search``): first among the first ``HEAD`` customers of the list, which
    a common term fills; then, for a rarer one, among the customers of its holders, read first
    if they are at most ``FEW_CONTACTS``; else by walking the whole list.
    """
    first_holder = matching_contacts.filter(customer=OuterRef("pk")).order_by().values("pk")[:1]
    holds = IsNull(Subquery(first_holder), False)  # scalar: tested customer by customer, in order
    head = customers.order_by(*order).values("pk")[:max(HEAD, rows)]
    found = list(customers.filter(pk__in=head).filter(holds).order_by(*order)
                 .values_list("pk", flat=True)[:rows])
    if len(found) >= rows:
        return found
    holders = list(matching_contacts.order_by().values_list("customer_id", flat=True)[:FEW_CONTACTS + 1])
    if len(holders) <= FEW_CONTACTS:
        among = customers.filter(pk__in=sorted(set(holders)))
    else:
        among = customers.filter(holds)
    return among.order_by(*order).values_list("pk", flat=True)[:rows]


def _customers_filtered(*, user, params, today):
    """``customer_search`` but for the search term and the order."""
    customers = Customer.objects.visible_to(user)
    customers = customers.filter(archived_at__isnull=params.get("archived") != "1")
    status = params.get("status", "")
    if status in Customer.Status.values:
        customers = customers.filter(status=status)
    team = params.get("team", "")
    if team.isdigit():
        customers = customers.filter(team_id=int(team))
    owner = params.get("owner", "")
    if owner.isdigit():
        customers = customers.filter(
            owner_id=int(owner), owner__in=assignable_users(user).values("pk")
        )
    elif owner == "none":
        customers = customers.filter(owner__isnull=True)
    if params.get("mine") == "1":
        customers = customers.filter(owner=user)
    tag = params.get("tag", "").strip()
    if tag:
        tagged = Customer.tags.through.objects.filter(customer=OuterRef("pk"), tag__name__iexact=tag)
        customers = customers.filter(Exists(tagged))
    if params.get("due") == "1":
        customers = customers.filter(next_checkin_due__lte=today)
    if params.get("overdue") == "1":
        customers = customers.alias(overdue_on=overdue_on()).filter(overdue_on__lte=today)
    health = params.get("health", "")
    if health in HEALTH_FILTERS:
        customers = customers.filter(health_band=HEALTH_FILTERS[health])
    if params.get("birthdays") == "1":
        birthdays = Contact.objects.filter(customer=OuterRef("pk"), birthday_month=today.month)
        customers = customers.filter(Exists(birthdays))
    return customers


def status_history(customer, limit=20):
    """The customer's status changes, newest first (each one is a row of its history)."""
    return customer.changes.filter(field="status").select_related("user")[:limit]


def customer_referrals(*, user, customer, limit=10):
    """
    Whom ``customer`` referred, among the customers ``user`` sees: the most valuable first
    (at most ``limit``), with how many there are and the value they brought in total.
    """
    # Window totals are computed over every referral before the LIMIT: one query, however many.
    rows = list(
        Customer.objects.visible_to(user).filter(referred_by=customer)
        .annotate(referrals_count=Window(Count("pk")), referrals_value=Window(Sum("lifetime_value")))
        .order_by("-lifetime_value", "name", "pk")[:limit]
    )
    if not rows:
        return {"rows": [], "count": 0, "value": Decimal("0")}
    return {"rows": rows, "count": rows[0].referrals_count, "value": rows[0].referrals_value}


def top_referrers(*, user):
    """
    Rows of ``{"referred_by": pk, "referral_count": n, "referral_value": v, "credited_count": c}``
    (``c`` of them recorded after the referrer was asked for a referral): the customers
    ``user`` sees, ranked by how many customers (that ``user`` sees) they referred, then by the
    value those brought. Grouped in the database over the referred customers only, so it reads the
    referrals, never every customer; the page loads the referrers themselves for its rows.
    """
    visible = Customer.objects.visible_to(user)
    # A referral is credited to a referral ask (a follow-up the surveys open for a promoter) when
    # the referred customer was recorded after the referrer was asked. The follow-ups are read
    # through their relation's name: this app imports nothing from the apps above it.
    asked = Customer.objects.filter(
        pk=OuterRef("referred_by"), follow_ups__kind="referral_ask",
        follow_ups__created_at__lte=OuterRef("created_at"),
    )
    return (
        visible.filter(referred_by__in=visible.current().values("pk"))
        .order_by()
        .values("referred_by")
        .annotate(referral_count=Count("pk"), referral_value=Sum("lifetime_value", default=0),
                  credited_count=Count("pk", filter=Q(Exists(asked))))
        .order_by("-referral_count", "-referral_value", "referred_by")
    )


def email_contact(customer_ref="pk"):
    """
    The contact a message to a customer goes to (``customer_ref`` names the customer's id in the
    outer query): the primary contact with an email address, else the first other one with one, by
    name. Put it in the SELECT list; as a filter it is computed once more per row.
    """
    return Subquery(
        Contact.objects.filter(customer=OuterRef(customer_ref)).exclude(email="")
        .order_by("-is_primary", "name", "pk").values("pk")[:1]
    )
