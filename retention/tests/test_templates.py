"""
The templates as Django reads them: a ``{# … #}`` comment ends on the line it starts on, or Django
prints it on the page as text (a longer comment is ``{% comment %} … {% endcomment %}``).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNCLOSED_COMMENT = re.compile(r"\{#(?![^\n]*#\})")


def test_every_one_line_comment_closes_on_its_line():
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
    assert len(templates) > 50
    unclosed = [f"{path.relative_to(ROOT)}:{text[:match.start()].count(chr(10)) + 1}"
                for path in templates for text in [path.read_text()]
                for match in UNCLOSED_COMMENT.finditer(text)]
    assert not unclosed, "a {# comment #} spans lines and shows as text: " + ", ".join(unclosed)


def test_no_page_shows_template_syntax(client, alice, north):
    client.force_login(alice)
    for url in ("/today/", "/accounts/login/"):
        page = client.get(url, follow=True).content.decode()
        assert "{#" not in page and "{%" not in page, url
