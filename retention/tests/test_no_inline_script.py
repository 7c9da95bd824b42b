"""
No inline script anywhere a page is made from (templates, form widgets): a strict
Content-Security-Policy forbids it. Behaviour lives in modules under ``static/js/``.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(?!</script>)", re.I), "an inline <script>"),
    (re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I), "an on…= event handler attribute"),
    (re.compile(r"""\bhx-on[:-]""", re.I), "an hx-on handler (htmx evaluates it as script)"),
    (re.compile(r"""["']on[a-z]+["']\s*:""", re.I), "an on… handler in a widget's attributes"),
]


def _sources():
    yield from sorted(ROOT.glob("templates/**/*.html"))
    yield from sorted(ROOT.glob("*/templates/**/*.html"))
    for app in ("customers", "touchpoints", "surveys", "retention"):
        yield from sorted(p for p in (ROOT / app).rglob("forms.py") if "tests" not in p.parts)


@pytest.mark.parametrize("path", list(_sources()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_inline_script_or_handlers(path):
    text = path.read_text()
    found = [f"{what}: {match.group(0).strip()!r}" for pattern, what in INLINE
             for match in pattern.finditer(text)]
    assert not found, f"{path.relative_to(ROOT)} has " + "; ".join(found)


def test_the_check_finds_what_it_forbids(tmp_path):
    samples = ['<script>alert(1)</script>', '<select onchange="go()">', '<form hx-on:keydown="x">',
               "attrs={'onkeydown': 'x'}"]
    for sample in samples:
        assert any(pattern.search(" " + sample) for pattern, _ in INLINE), sample
    assert not any(pattern.search('<script src="/static/js/forms.js" defer></script>')
                   for pattern, _ in INLINE)
