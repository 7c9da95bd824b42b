"""
The weights of the factors and the band thresholds: reading them, the admin's preview of what a
change would do, and saving it.

The preview re-weights the factor scores every customer already has (``health_factors``), in SQL:
``rescored`` is ``factors.weighted_score`` and ``factors.band_of`` as expressions (the tests prove
them equal), so an admin sees, before saving, how many customers each change moves between bands.
A factor's own score does not depend on the weights, so re-weighting them is exact; the full
recompute after a save gives the same bands (tested).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf
from django.db.models.lookups import GreaterThanOrEqual, IsNull
from django.utils import timezone

from customers.models import Customer

from ..models import HealthWeights
from .factors import FACTORS, HealthBand

SETTINGS = [*FACTORS, "watch_from", "healthy_from"]


def current_weights():
    """The weights in force (the defaults of ``HealthWeights`` until an admin saves some)."""
    weights = HealthWeights.objects.filter(pk=1).select_related("updated_by").first()
    return weights or HealthWeights(pk=1)


@transaction.atomic
def weights_save(*, data, user):
    """Save new weights and thresholds; every score is recomputed with them once this commits."""
    from ..tasks import health_scan_task

    weights = HealthWeights.objects.select_for_update().filter(pk=1).first() or HealthWeights(pk=1)
    for name in SETTINGS:
        setattr(weights, name, data[name])
    weights.updated_at, weights.updated_by = timezone.now(), user
    weights.full_clean()
    weights.save()
    health_scan_task.delay_on_commit()
    return weights


# The preview ------------------------------------------------------------------------------------


def _json_integer(path):
    """The integer at ``path`` in ``health_factors``; NULL when it is missing or a JSON null (on
    SQLite ``KT`` reads a JSON null as the text 'null', which would cast to 0)."""
    lookup = f"health_factors__{path}"
    return Case(When(Q(**{lookup: None}) | Q(**{f"{lookup}__isnull": True}), then=Value(None)),
                default=Cast(KT(lookup), IntegerField()), output_field=IntegerField())


def _factor_score(key):
    return _json_integer(f"factors__{key}__score")


def rescored(weights):
    """Each customer's score with ``weights`` from its stored factor scores (an override stays)."""
    points = total = Value(0)
    for key in FACTORS:
        weight = getattr(weights, key)
        if not weight:
            continue
        score = _factor_score(key)
        points = points + Coalesce(score * Value(weight), Value(0))
        total = total + Case(When(IsNull(score, False), then=Value(weight)), default=Value(0))
    if isinstance(total, Value):  # every weight 0: nothing is known
        computed = Value(None, output_field=IntegerField())
    else:
        computed = (Value(2) * points + total) / NullIf(Value(2) * total, Value(0))
    override = _json_integer("override__score")
    return Coalesce(override, computed, output_field=IntegerField())


def rebanded(weights):
    """Each customer's band with ``weights`` (``factors.band_of`` of ``rescored``)."""
    score = rescored(weights)
    return Case(
        When(GreaterThanOrEqual(score, weights.healthy_from), then=Value(HealthBand.HEALTHY)),
        When(GreaterThanOrEqual(score, weights.watch_from), then=Value(HealthBand.WATCH)),
        When(IsNull(score, False), then=Value(HealthBand.AT_RISK)),
        default=Value(""),
    )


@dataclass
class Preview:
    moves: list  # [(from band, to band, count)] of the customers that would change band
    moved: int
    scored: int
    by_change: list  # [(setting label, old, new, customers moved by that change alone)]


BAND_ORDER = [HealthBand.HEALTHY, HealthBand.WATCH, HealthBand.AT_RISK, ""]


def weights_preview(*, current, proposed):
    """How many customers ``proposed`` (unsaved ``HealthWeights``) would move, and by which change."""
    scored = Customer.objects.exclude(health_factors={}).exclude(health_factors__isnull=True)
    matrix = (
        scored.order_by().annotate(new_band=rebanded(proposed))
        .exclude(new_band=F("health_band"))
        .values("health_band", "new_band").annotate(n=Count("pk"))
    )
    moves = sorted(((row["health_band"], row["new_band"], row["n"]) for row in matrix),
                   key=lambda m: (BAND_ORDER.index(m[0]), BAND_ORDER.index(m[1])))
    changes = [name for name in SETTINGS if getattr(current, name) != getattr(proposed, name)]
    by_change = []
    if len(changes) > 1:
        variants = {}
        for name in changes:
            variant = HealthWeights(**{n: getattr(current, n) for n in SETTINGS})
            setattr(variant, name, getattr(proposed, name))
            variants[name] = variant
        counted = scored.order_by().alias(
            **{f"band_{name}": rebanded(v) for name, v in variants.items()}
        ).aggregate(**{name: Count("pk", filter=~Q(**{f"band_{name}": F("health_band")}))
                       for name in variants})
        by_change = [(HealthWeights._meta.get_field(name).verbose_name, getattr(current, name),
                      getattr(proposed, name), counted[name]) for name in changes]
    return Preview(moves=moves, moved=sum(n for _, _, n in moves), scored=scored.count(),
                   by_change=by_change)
