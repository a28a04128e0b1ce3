"""Every page of the built site, as readers meet it on a desktop and a phone, in light and dark mode.

For each page at 1280 and 390 px wide, in light and dark colour schemes: axe-core (Deque's rules engine, vendored
from npm by tools/vendor_npm.sh, injected by Playwright; never from a CDN) finds no critical or serious
violation (with BOOK_SCREENSHOTS=1 a full-page screenshot of each goes to test-artifacts/reading/ for a person to
look at; test_site.Visits loads each page once for all the checks that read it). Keyboard: a skip
link is the first tab stop and moves focus to the content, and copy buttons have a name and show when focused.
"""
from __future__ import annotations

import json

import pytest

from test_site import AXE, DESKTOP, PAGES, PHONE, open_at

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
SCHEMES = ("light", "dark")
BLOCKING_IMPACTS = ("critical", "serious")
CHAPTER_1 = "chapters/01_convolution_math.html"


@pytest.mark.browser
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width_name", list(WIDTHS))
@pytest.mark.parametrize("path", PAGES or ["index.html"])
def test_axe_finds_no_serious_violation(visits, path: str, width_name: str, scheme: str) -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is not vendored: run make _build/axe/axe.min.js (make test does)")
    visit = visits(path, WIDTHS[width_name], scheme)
    assert visit.theme == scheme, f"{path}: the page did not follow the reader's {scheme} colour scheme"
    blocking = [v for v in visit.axe if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{path} at {WIDTHS[width_name]} px, {scheme}: axe-core found\n" + \
        "\n".join(json.dumps(v) for v in blocking)


@pytest.mark.browser
def test_first_tab_stop_skips_to_the_content(browser, site_url: str) -> None:
    context, page = open_at(browser, site_url, CHAPTER_1, 1280, "light")
    try:
        page.keyboard.press("Tab")
        first = page.evaluate("({text: document.activeElement.textContent.trim(), "
                              "href: document.activeElement.getAttribute('href'), "
                              "visible: document.activeElement.getBoundingClientRect().height > 0})")
        assert first["href"] and first["href"].startswith("#") and "skip" in first["text"].lower(), \
            f"the first tab stop is not a skip link: {first}"
        assert first["visible"], "the skip link stays invisible when focused"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        in_content = page.evaluate("!!document.activeElement.closest('main, article, #main-content')")
        assert in_content, "after the skip link, the next tab stop is not in the page's content"
    finally:
        context.close()


@pytest.mark.browser
def test_copy_buttons_are_named_and_show_when_focused(browser, site_url: str) -> None:
    context, page = open_at(browser, site_url, CHAPTER_1, 1280, "light")
    try:
        buttons = page.locator("button.copybtn")
        assert buttons.count() > 0, f"{CHAPTER_1} has no copy buttons to check"
        button = buttons.first
        name = button.get_attribute("aria-label") or ""
        assert "copy" in name.lower(), f"the copy button has no accessible name: {name!r}"
        button.focus()
        page.wait_for_timeout(400)  # the theme fades buttons in
        opacity = float(button.evaluate("el => getComputedStyle(el).opacity"))
        assert opacity >= 0.9, f"a focused copy button is nearly invisible (opacity {opacity})"
    finally:
        context.close()


@pytest.mark.browser
def test_formulas_and_printed_output_are_not_tab_stops(browser, site_url: str) -> None:
    """Tab goes from control to control: formulas (MathJax's default) and copy buttons on printed output are
    skipped, so a keyboard reaches chapter 1's first player in a few dozen presses, not 129."""
    context, page = open_at(browser, site_url, CHAPTER_1, 1280, "light")
    try:
        page.wait_for_timeout(500)
        math_stops = page.evaluate("document.querySelectorAll('mjx-container[tabindex]:not([tabindex=\"-1\"])')"
                                   ".length")
        output_copy_buttons = page.locator(".cell_output button.copybtn").count()
        input_copy_buttons = page.locator(".cell_input button.copybtn").count()
        presses = None
        if page.locator(".ks-player").count():
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")   # the skip link
            for _ in range(1, 200):
                page.keyboard.press("Tab")
                if page.evaluate("!!(document.activeElement && document.activeElement.closest('.ks-player'))"):
                    break
    finally:
        context.close()
    print(f"\n{CHAPTER_1}: {presses} Tab presses after the skip link to reach the first player")
    assert math_stops == 0, f"{math_stops} formulas are tab stops"
    assert output_copy_buttons == 0, f"{output_copy_buttons} copy buttons on printed output"
    assert input_copy_buttons > 0, "code cells lost their copy buttons"
