"""Health score in templates: a reason in words, the next action's label and link, band styles."""

from django import template

from retention.health.reasons import action_label, action_url, reason_text

register = template.Library()

BAND_CLASSES = {"healthy": "text-bg-success", "watch": "text-bg-warning", "at_risk": "text-bg-danger"}
BAND_LABELS = {"healthy": "Healthy", "watch": "Watch", "at_risk": "At risk"}


@register.filter
def health_reason(reason):
    text = reason_text(reason)
    return text[:1].upper() + text[1:]


@register.filter
def health_action_label(action):
    return action_label(action)


@register.simple_tag
def health_action_url(action, customer_id):
    return action_url(action, customer_id)


@register.filter
def band_class(band):
    return BAND_CLASSES.get(band, "text-bg-secondary")


@register.filter
def band_label(band):
    return BAND_LABELS.get(band, "Unknown")


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def heat(percent):
    """A cohort cell's class on a scale of ten: heat-0 (none kept) … heat-10 (all kept)."""
    if percent is None:
        return ""
    return f"heat-{max(0, min(10, round(percent / 10)))}"
