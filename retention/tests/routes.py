"""
The project's routes as the URL resolver knows them, for the tests that sweep every one of them
(``test_access.py``: login and CSRF; ``test_access_sweep.py``: other teams' objects and roles).

The Django admin is left out: it has its own login and permissions.
"""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from customers.access import required_role

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    path: str  # as in urls.py, prefixes included: "customers/<int:pk>/edit/"
    name: str  # with its namespace: "customers:edit"
    view: object

    @property
    def parameters(self):
        """``{name: converter}``, e.g. ``{"pk": "int"}``."""
        return {m["name"]: m["converter"] or "str" for m in PARAMETER.finditer(self.path)}

    @property
    def role(self):
        """The role its view is marked with (``@manager_required``, ``@admin_required``), or None."""
        return required_role(self.view)

    def url(self, **values):
        """The route with its parameters filled in from ``values``, by name."""
        return "/" + PARAMETER.sub(lambda m: str(values[m["name"]]), self.path)

    def example_url(self, pk):
        """The route with every id set to ``pk``, a program's key and a token nobody was given."""
        examples = {"int": pk, "slug": "birthday", "str": "not-a-real-token"}
        return self.url(**{name: examples[converter] for name, converter in self.parameters.items()})


def project_routes(resolver=None, prefix="", namespace=""):
    """Every route of this project but the admin's."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        path = prefix + str(pattern.pattern).removeprefix("^").removesuffix("$")
        if isinstance(pattern, URLResolver):
            if path.startswith("admin/"):
                continue
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from project_routes(pattern, path, ns)
        elif isinstance(pattern, URLPattern):
            yield Route(path=path, name=f"{namespace}{pattern.name}", view=pattern.callback)
