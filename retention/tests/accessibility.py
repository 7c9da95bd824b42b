"""
axe-core in the browser tests: the one place that runs it on a page and says what counts as a fault.

axe-core is the copy bundled with the ``axe-playwright-python`` test dependency (its ``axe.min.js``,
from npm's ``axe-core``); it is added to a document once, the first time that document is checked.
A fault is a violation of impact critical, serious or moderate: only "minor" ones are let through.
"""

from axe_playwright_python.base import AXE_SCRIPT

FAULT_IMPACTS = ("critical", "serious", "moderate")
WIDTHS = (1366, 390)  # a desktop and a phone


def axe_faults(page, where, exclude=()):
    """
    The faults axe-core finds on the page as it stands, one line each, named by ``where``.
    ``exclude``: CSS selectors of parts left out of the check (each use says why).
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    context = {"include": [["html"]], "exclude": [[selector] for selector in exclude]}
    results = page.evaluate(
        "(context) => axe.run(context, {resultTypes: ['violations']})", context
    )
    return [
        f"{where}: {violation['id']} ({violation['impact']}): {violation['help']} "
        f"{[node['target'] for node in violation['nodes']][:3]}"
        for violation in results["violations"]
        if violation["impact"] in FAULT_IMPACTS
    ]


def axe_faults_at_widths(page, where, widths=WIDTHS, exclude=()):
    """The faults of the page at each width (resized in place, not reloaded); ends at the first width."""
    faults = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        faults += axe_faults(page, f"{where} at {width}px", exclude)
    page.set_viewport_size({"width": widths[0], "height": 900})
    return faults


def settle(page):
    """Wait until htmx has no request in flight and nothing left to swap or settle."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
