"""
Shipped code does not depend on test code or on other commands: the seeding package and every
management command import neither a ``tests`` package nor another command module.
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def production_modules():
    """The files of ``retention/seeding/`` and of every app's ``management/commands/``."""
    files = sorted((ROOT / "retention" / "seeding").glob("*.py"))
    files += sorted(ROOT.glob("*/management/commands/*.py"))
    return [path for path in files if ".venv" not in path.parts]


def imported_modules(source, module):
    """The dotted names ``source`` (the text of module ``module``) imports, relative ones resolved."""
    package = module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            # ``from . import x`` may import a module ``x``: count each name as one.
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def forbidden_imports(source, module):
    """The imports of ``module`` that reach into a tests package or another command module."""
    bad = []
    for name in imported_modules(source, module):
        parts = name.split(".")
        command = any(parts[i:i + 2] == ["management", "commands"] and len(parts) > i + 2
                      for i in range(len(parts)))
        if ("tests" in parts or (command and name != module)) and name.rsplit(".", 1)[0] not in bad:
            bad.append(name)
    return bad


def module_name(path):
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_the_walk_finds_the_seeding_package_and_the_commands():
    names = {module_name(path) for path in production_modules()}

    assert {"retention.seeding.demo", "retention.seeding.bench",
            "retention.management.commands.seed_demo", "retention.management.commands.seed_bench",
            "customers.management.commands.import_customers"} <= names


def test_the_check_catches_test_and_command_imports():
    module = "retention.management.commands.seed_bench"
    for source in ("from customers.tests.factories import CustomerFactory",
                   "import surveys.tests.factories",
                   "from .seed_demo import DEMO_TEAMS",
                   "from . import seed_demo",
                   "from retention.management.commands.seed_demo import Command",
                   "from ..tests import helpers"):
        assert forbidden_imports(source, module), source
    for source in ("from retention.seeding.bench import bench_seed",
                   "from django.core.management.base import BaseCommand",
                   "from customers.services import tags_get_or_create"):
        assert not forbidden_imports(source, module), source


def test_no_seeding_module_or_command_imports_tests_or_another_command():
    offenders = {}
    for path in production_modules():
        module = module_name(path)
        bad = forbidden_imports(path.read_text(encoding="utf-8"), module)
        if bad:
            offenders[module] = bad

    assert offenders == {}
