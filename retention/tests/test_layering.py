"""
How the packages may import each other, read from the source with ``ast`` (imports inside
functions included), so that an import that breaks the layering fails here.

- ``retention`` composes the apps, so the apps may import from it only the small shared helpers
  of ``SHARED_HELPERS``, which import no app (nor anything else of ``retention``): anything more
  would be a package cycle. This constant is where such a helper is listed.
- The apps depend one way: surveys → touchpoints → customers.
- No view module is a library of another: only URL configurations import views. What two pages
  both show comes from a selector.

The apps' tests are not held to the first two rules: they drive the whole project (its pages,
its Celery app).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("customers", "touchpoints", "surveys")  # each may import only those before it
PROJECT = "retention"
SHARED_HELPERS = {"retention.http", "retention.pagination", "retention.ratelimit", "retention.security",
                  "retention.typed"}


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package, *, with_tests=False):
    """``{dotted name: path}`` of a package's modules, migrations left out."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "migrations" in parts or (not with_tests and "tests" in parts):
            continue
        found[module_name(path)] = path
    return found


def is_module(name):
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(name, path):
    """The project's modules that module ``name`` imports (``from pkg import mod`` counts as mod)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base)
    return {module for module in found if module.split(".")[0] in (*APPS, PROJECT)}


def is_views(name):
    return any(part == "views" or part.startswith("views_") or part.endswith("_views")
               for part in name.split("."))


def test_it_reads_imports_as_the_interpreter_does():
    imported = imports("touchpoints.views", ROOT / "touchpoints" / "views.py")
    assert {"customers.access", "retention.http", "touchpoints.services"} <= imported
    assert "django.shortcuts" not in imported
    assert {"retention.views", "customers.views", "touchpoints.urls"} <= imports(
        "retention.urls", ROOT / "retention" / "urls.py"
    )


def test_the_shared_helpers_exist():
    assert all(is_module(helper) for helper in SHARED_HELPERS)


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_from_retention_only_the_shared_helpers(app):
    wrong = {
        f"{name} imports {module}"
        for name, path in modules(app).items()
        for module in imports(name, path)
        if module.split(".")[0] == PROJECT and module not in SHARED_HELPERS
    }
    assert not wrong, f"only {sorted(SHARED_HELPERS)} are for the apps: " + "; ".join(sorted(wrong))


def test_the_shared_helpers_import_no_app():
    wrong = {
        f"{helper} imports {module}"
        for helper in SHARED_HELPERS
        for module in imports(helper, ROOT.joinpath(*helper.split(".")).with_suffix(".py"))
        if module not in SHARED_HELPERS
    }
    assert not wrong, "; ".join(sorted(wrong))


@pytest.mark.parametrize("app", APPS)
def test_the_apps_depend_one_way(app):
    above = APPS[APPS.index(app) + 1:]
    wrong = {
        f"{name} imports {module}"
        for name, path in modules(app).items()
        for module in imports(name, path)
        if module.split(".")[0] in above
    }
    assert not wrong, "; ".join(sorted(wrong))


@pytest.mark.parametrize("package", [*APPS, PROJECT])
def test_only_url_configurations_import_views(package):
    wrong = set()
    for name, path in modules(package, with_tests=True).items():
        if name.rpartition(".")[2] == "urls":
            continue
        for module in imports(name, path):
            # A views package may gather its own modules in its __init__.
            if is_views(module) and not (path.name == "__init__.py" and module.startswith(name + ".")):
                wrong.add(f"{name} imports {module}")
    assert not wrong, "a view module is not a library: " + "; ".join(sorted(wrong))
