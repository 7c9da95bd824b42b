"""
``{% row_url "name" pk %}``: ``{% url "name" pk %}`` for pages with hundreds of rows.

Today renders up to ~300 rows with two or three links each: ~650 ``reverse()`` calls at ~35 µs,
a third of the page's rendering (docs/PERFORMANCE.md). This reverses each URL name once per
template render, with a marker for the id, and fills in each row's id. Only for URL patterns whose
one argument is an ``<int:…>`` id; anything else belongs to ``{% url %}``.
"""

from django import template
from django.urls import reverse

register = template.Library()

MARKER = "987654321987654321"


@register.simple_tag(takes_context=True)
def row_url(context, name, pk):
    patterns = context.render_context.get("row_url_patterns")
    if patterns is None:
        patterns = context.render_context["row_url_patterns"] = {}
    pattern = patterns.get(name)
    if pattern is None:
        pattern = patterns[name] = reverse(name, args=[MARKER])
    return pattern.replace(MARKER, str(int(pk)))
