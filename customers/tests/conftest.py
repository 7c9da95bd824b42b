"""Fixtures the customers tests share."""

import pytest


@pytest.fixture
def imports_dir(settings, tmp_path):
    """Uploaded import files go to a folder of the test's own."""
    settings.IMPORTS_DIR = tmp_path / "imports"
    return settings.IMPORTS_DIR
