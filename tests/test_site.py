"""The built site (`make book` -> _build/html) as its readers meet it.

Two kinds of check. Reading the HTML files: every internal link and anchor resolves, no page pulls a script, style
sheet or image from another host, content images have real alt text, notebook pages carry download and launch
buttons, and the public build holds no solutions. Driving headless Chromium (fixtures in conftest.py, every
non-local request blocked): every page loads with no console error, failed or blocked request; its math is typeset
by the vendored MathJax; its images decode; search works offline; chapter 3 shows the kernel-sliding animation.
Reading on any screen: nothing in a chapter scrolls sideways or is cut off at 390 or 1280 px (code blocks and tables
scroll in their own boxes on purpose), text on a phone is at least 12 px, code-cell output text has AA contrast in
light and dark mode, search results fit a phone and show math as text, and each chapter page weighs at most half of
what it did before issue 14 (printed). axe-core is in test_a11y.py. `Visits` loads each page once per width and
colour scheme for all the checks that read it; with BOOK_SCREENSHOTS=1 each load also saves a full-page screenshot
to test-artifacts/reading/.
"""
from __future__ import annotations

import html.parser
import os
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from conftest import ROOT, SITE

pytestmark = pytest.mark.built

INSTRUCTOR_SITE = ROOT / "_build" / "instructor" / "_build" / "html"
# example-class/: the grader's own feedback pages and class report (tools/example_class.py), which the instructors' page
# frames; they are not the book's pages (tests/test_feedback.py holds them to axe-core at both widths and schemes).
NON_PAGE_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "example-class"}
SLIDER_PAGE = "chapters/03_padding_stride_dilation.html"
PAGE_TIMEOUT_MS = 60_000


def site_pages(site: Path) -> List[str]:
    """Every HTML page of a built site, as a path relative to its root (theme templates under _static excluded)."""
    if not site.is_dir():
        return []
    return sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html")
                  if path.relative_to(site).parts[0] not in NON_PAGE_DIRS)


PAGES = site_pages(SITE)


@dataclass
class ParsedPage:
    """What the link checks need from one HTML file."""
    ids: Set[str] = field(default_factory=set)
    links: List[str] = field(default_factory=list)                   # <a href>
    resources: List[Tuple[str, str]] = field(default_factory=list)   # (tag, url) of script/link/img/... sources
    images: List[Dict[str, Optional[str]]] = field(default_factory=list)  # attributes of <img> in the article


class _PageParser(html.parser.HTMLParser):
    RESOURCE_ATTRS = {"script": "src", "img": "src", "link": "href", "iframe": "src", "source": "src",
                      "video": "src", "audio": "src", "embed": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self._article_depth = 0

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        for key in ("id", "name"):
            if attributes.get(key):
                self.page.ids.add(attributes[key])
        if tag == "article":
            self._article_depth += 1
        if tag == "a" and attributes.get("href") is not None:
            self.page.links.append(attributes["href"])
        resource_attr = self.RESOURCE_ATTRS.get(tag)
        if resource_attr and attributes.get(resource_attr):
            self.page.resources.append((tag, attributes[resource_attr]))
        if tag == "img" and self._article_depth:
            self.page.images.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self._article_depth:
            self._article_depth -= 1


_parsed: Dict[Path, ParsedPage] = {}


def parse(path: Path) -> ParsedPage:
    if path not in _parsed:
        parser = _PageParser()
        parser.feed(path.read_text(encoding="utf-8"))
        _parsed[path] = parser.page
    return _parsed[path]


def is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


def resolve(page: str, url: str) -> Tuple[str, str]:
    """The site-relative file a relative URL on `page` points to, and its fragment."""
    parts = urlsplit(url)
    target = page if not parts.path else posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
    return target, unquote(parts.fragment)


def target_file(site: Path, target: str) -> Path:
    path = site / target
    return path / "index.html" if path.is_dir() else path


@pytest.fixture(scope="module")
def built_site() -> Path:
    if not (SITE / "index.html").exists():
        pytest.skip("the site is not built: run `make book` first (make test does)")
    return SITE


# ---------------------------------------------------------------------------------------------------------------
# Checks on the HTML files
# ---------------------------------------------------------------------------------------------------------------

def test_every_internal_link_and_anchor_resolves(built_site: Path) -> None:
    broken = []
    for page in site_pages(built_site):
        for href in parse(built_site / page).links:
            if is_external(href) or href.startswith(("mailto:", "javascript:")) or href in ("", "#"):
                continue
            target, fragment = resolve(page, href)
            path = target_file(built_site, target)
            if target.startswith("..") or not path.is_file():
                broken.append(f"{page}: {href} -> missing {target}")
            elif fragment and path.suffix == ".html" and fragment not in parse(path).ids:
                broken.append(f"{page}: {href} -> no anchor #{fragment} in {target}")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_no_page_loads_anything_from_another_host(built_site: Path) -> None:
    """Scripts, style sheets, fonts, images and frames all come from the site itself (links in prose may leave)."""
    remote, missing = [], []
    for page in site_pages(built_site):
        for tag, url in parse(built_site / page).resources:
            if url.startswith("data:"):
                continue
            if is_external(url):
                remote.append(f"{page}: <{tag}> {url}")
                continue
            target, _ = resolve(page, url)
            if not target_file(built_site, target).is_file():
                missing.append(f"{page}: <{tag}> {url}")
    assert not remote, "pages load resources from other hosts:\n" + "\n".join(remote)
    assert not missing, "pages reference local resources that are not in the site:\n" + "\n".join(missing)


def test_mathjax_is_vendored_into_the_site(built_site: Path) -> None:
    pages_with_math = [page for page in site_pages(built_site)
                       if any(tag == "script" and "mathjax/tex-chtml.js" in url
                              for tag, url in parse(built_site / page).resources)]
    assert pages_with_math, "no page loads the vendored MathJax (mathjax_path in _config.yml)"
    assert (built_site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_content_images_have_alt_text(built_site: Path) -> None:
    """An image's alt text describes it; the file name Sphinx falls back to does not."""
    missing = []
    for page in site_pages(built_site):
        for image in parse(built_site / page).images:
            alt, src = (image.get("alt") or "").strip(), image.get("src") or ""
            if not alt or alt == src or re.fullmatch(r"[\w./-]+\.(png|svg|jpe?g|gif)", alt):
                missing.append(f"{page}: {src} (alt={alt!r})")
    assert not missing, ("images without alt text (set mystnb.image.alt or mystnb.figure in the cell "
                         "metadata):\n" + "\n".join(missing))


def test_every_matplotlib_figure_is_drawn(built_site: Path) -> None:
    """A figure that reached the page only as its text form ("<Figure size ...>") was never drawn."""
    undrawn = [page for page in site_pages(built_site)
               if "&lt;Figure size" in (built_site / page).read_text(encoding="utf-8")]
    assert not undrawn, ("pages show a matplotlib figure as text, not an image (run `%matplotlib inline` in the "
                         f"notebook's first code cell): {undrawn}")


def configured_repository() -> str:
    return (yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")).get("repository") or {}).get("url") or ""


def test_notebook_pages_offer_download_and_launch_buttons_when_a_repository_is_set(built_site: Path) -> None:
    """Download always; Binder, Colab, repository and issue buttons exactly when repository.url is set."""
    repository = configured_repository().strip()
    repository_path = urlsplit(repository).path.strip("/")
    notebook_pages = [page for page in site_pages(built_site)
                      if (built_site / "_sources" / page).with_suffix(".ipynb").is_file()]
    assert notebook_pages, "no page of the site was built from a notebook"
    for page in notebook_pages:
        links = parse(built_site / page).links
        source = posixpath.splitext(page)[0] + ".ipynb"
        assert any(not is_external(href) and resolve(page, href)[0] == f"_sources/{source}" for href in links), \
            f"{page}: no button to download {source}"
        launch = [href for href in links if "mybinder.org" in href or "colab.research.google.com" in href]
        if repository:
            assert any("mybinder.org" in href and repository_path in href and source in href for href in links), \
                f"{page}: no Binder launch button for {repository}"
            assert any("colab.research.google.com" in href and source in href for href in links), \
                f"{page}: no Colab launch button"
        else:
            assert not launch, f"{page}: launch buttons with no repository.url set: {launch}"
    if not repository:
        for page in site_pages(built_site):
            dead = [href for href in parse(built_site / page).links if "example/" in href or "/issues/new" in href]
            assert not dead, f"{page}: repository links with no repository.url set: {dead}"


def test_buttons_follow_the_repository_url() -> None:
    """The build's switch (_ext/book_site.py), for both settings of repository.url."""
    sys.path.insert(0, str(ROOT / "_ext"))
    import book_site

    launch = {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com",
              "notebook_interface": "jupyterlab"}
    for url, shown in (("https://github.com/someone/book", True), ("", False), ("  ", False)):
        config = SimpleNamespace(html_theme_options={"repository_url": url, "launch_buttons": dict(launch),
                                                     "use_download_button": True})
        book_site.buttons_follow_repository(None, config)
        options = config.html_theme_options
        assert options["use_repository_button"] is shown and options["use_issues_button"] is shown, url
        assert ("binderhub_url" in options["launch_buttons"]) is shown, url
        assert ("colab_url" in options["launch_buttons"]) is shown, url
        assert options["use_download_button"] is True


def test_theme_patches_apply_once_and_sidebar_toggles_get_names() -> None:
    sys.path.insert(0, str(ROOT / "_ext"))
    import book_site

    for patch in book_site.THEME_PATCHES:   # the installed theme still has what each patch removes, once
        text = (book_site.theme_template_dir() / patch.template).read_text(encoding="utf-8")
        assert book_site.patched_template(text, patch) != text
        with pytest.raises(RuntimeError, match="matched 2 times"):
            book_site.patched_template(text + text, patch)
    html = ('<ul><li class="has-children"><a href="exercises.html">Exercises</a><details><summary>'
            '<span class="toctree-toggle" role="presentation"><i class="fa-solid fa-chevron-down"></i></span>'
            '</summary><ul><li>x</li></ul></details></li></ul>')
    named = book_site.name_toctree_toggles(html)
    assert '<summary aria-label="Show or hide the sections of Exercises">' in named


def test_there_is_no_empty_general_index(built_site: Path) -> None:
    assert not (built_site / "genindex.html").exists(), "genindex.html is built, but the book defines no index"
    linking = [page for page in site_pages(built_site) if any("genindex" in href for href in parse(built_site / page).links)]
    assert not linking, f"pages link to the general index: {linking}"


def test_content_images_open_at_full_size(built_site: Path) -> None:
    """Every content image is a link to its own full-size file, so a figure shrunk on a phone opens with a tap."""
    unlinked = []
    for page in site_pages(built_site):
        parser = _ImageLinkParser()
        parser.feed((built_site / page).read_text(encoding="utf-8"))
        for src, href in parser.images:
            if href is None or resolve(page, href)[0] != resolve(page, src)[0]:
                unlinked.append(f"{page}: {src} (link: {href})")
    assert not unlinked, "content images that do not link to their full-size file:\n" + "\n".join(unlinked)


def test_exercise_pages_link_to_their_chapter(built_site: Path) -> None:
    """exercises/NN_x.html links to chapters/NN_x.html (the exercise sources add the links; until then, skip)."""
    exercises = [page for page in site_pages(built_site) if page.startswith("exercises/")]
    linked = {page: any(resolve(page, href)[0] == page.replace("exercises/", "chapters/")
                        for href in parse(built_site / page).links if not is_external(href))
              for page in exercises}
    if exercises and not any(linked.values()):
        pytest.skip("no exercise page links to its chapter yet (the exercise sources add these links)")
    missing = [page for page, has_link in linked.items() if not has_link]
    assert not missing, f"exercise pages with no link to their chapter: {missing}"


class _ImageLinkParser(html.parser.HTMLParser):
    """(src, href of the enclosing link or None) for each <img> in a page's <article>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: List[Tuple[str, Optional[str]]] = []
        self._links: List[Optional[str]] = []
        self._article_depth = 0

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        attributes = dict(attrs)
        if tag == "article":
            self._article_depth += 1
        elif tag == "a":
            self._links.append(attributes.get("href"))
        elif tag == "img" and self._article_depth and not (attributes.get("src") or "").startswith("data:"):
            self.images.append((attributes.get("src") or "", next((h for h in reversed(self._links) if h), None)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self._article_depth:
            self._article_depth -= 1
        elif tag == "a" and self._links:
            self._links.pop()


def test_public_build_has_no_solutions(built_site: Path) -> None:
    leaked = [page for page in site_pages(built_site) if page.startswith("solutions/") or page == "solutions.html"]
    leaked += [path.relative_to(built_site).as_posix() for path in built_site.rglob("*")
               if "solutions" in path.relative_to(built_site).parts]
    assert not leaked, f"the public site contains solutions: {leaked}"


def test_instructor_build_adds_the_solutions() -> None:
    if not (INSTRUCTOR_SITE / "index.html").exists():
        pytest.skip("the instructor build is not built: run `make instructor`")
    solutions = [page for page in site_pages(INSTRUCTOR_SITE) if page.startswith("solutions/")]
    expected = sorted(path.stem for path in (ROOT / "solutions").glob("*.ipynb"))
    assert sorted(posixpath.splitext(posixpath.basename(page))[0] for page in solutions) == expected


# ---------------------------------------------------------------------------------------------------------------
# Checks in the browser
# ---------------------------------------------------------------------------------------------------------------

def wait_for_mathjax(page) -> None:
    """Wait for MathJax to finish its first typesetting pass, when the page loads it."""
    if page.locator("script[src*='mathjax']").count() == 0:
        return
    page.wait_for_function("() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise",
                           timeout=PAGE_TIMEOUT_MS)
    page.evaluate("() => window.MathJax.startup.promise.then(() => true)")


def load_every_image(page) -> None:
    """Scroll each image into view (lazy images load only then) and wait until all have finished loading."""
    for image in page.locator("img").all():
        if image.is_visible():
            image.scroll_into_view_if_needed()
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)", timeout=PAGE_TIMEOUT_MS)


def screenshot_name(path: str) -> str:
    return path.replace("/", "__").replace(".html", ".png")


@pytest.mark.browser
@pytest.mark.parametrize("path", PAGES or ["index.html"])
def test_page_loads_cleanly_with_math_and_images(visits, path: str) -> None:
    visit = visits(path, DESKTOP)
    assert not visit.problems, f"{path}: {visit.problems}"
    assert not visit.broken_images, f"{path}: images that did not decode: {visit.broken_images}"
    assert not visit.untypeset, f"{path}: math left as raw LaTeX: {visit.untypeset}"
    assert visit.math_errors == 0, f"{path}: MathJax reported LaTeX errors"


@pytest.mark.browser
def test_math_is_rendered_by_mathjax(page, site_url: str) -> None:
    page.goto(f"{site_url}/intro.html", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    wait_for_mathjax(page)
    assert page.locator("mjx-container").count() > 0, "intro.html: no MathJax output"
    assert not page.problems, str(page.problems)


@pytest.mark.browser
def test_the_instructors_page_shows_a_real_feedback_page_and_class_report(page, site_url: str) -> None:
    """tools/example_class.py graded its made-up class when the site was built; the page frames what it wrote."""
    page.goto(f"{site_url}/instructors.html", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    frames = page.locator("iframe.example-page")
    assert frames.count() == 2
    for index, heading, text in ((0, "Feedback: Exercise 01", "kernel"), (1, "Class report", "student-08")):
        frames.nth(index).scroll_into_view_if_needed()
        content = frames.nth(index).content_frame
        content.locator("h1").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        assert heading in content.locator("h1").first.inner_text()
        assert text in content.locator("body").inner_text()
    assert not page.problems, str(page.problems)


@pytest.mark.browser
def test_search_works_offline(page, site_url: str) -> None:
    page.goto(f"{site_url}/search.html?q=convolution", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=PAGE_TIMEOUT_MS)
    assert results.count() > 0
    assert not page.problems, str(page.problems)


@pytest.mark.browser
def test_chapter_3_shows_the_kernel_sliding_animation(page, site_url: str) -> None:
    if SLIDER_PAGE not in PAGES:
        pytest.fail(f"{SLIDER_PAGE} is not in the built site")
    page.goto(f"{site_url}/{SLIDER_PAGE}", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
    # book.viz.kernel_slider's self-contained player (its own tests check that it plays).
    players = page.locator(".cell_output .ks-player")
    players.first.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
    player = players.first
    player.scroll_into_view_if_needed()
    box = player.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100, f"the animation is too small: {box}"
    assert player.locator("svg.ks-svg").first.is_visible(), "the animation has no drawing"
    assert player.locator("[data-act=play]").is_visible(), "the animation has no play button"
    assert not page.problems, str(page.problems)


# ---------------------------------------------------------------------------------------------------------------
# Reading on a phone, searching, and page weight
# ---------------------------------------------------------------------------------------------------------------

CHAPTER_PAGES = [page for page in PAGES if page.startswith("chapters/")]
PHONE, DESKTOP = 390, 1280
MIN_TEXT_PX = 12
# What each chapter page weighed on main at b15921d (before issue 14), in KiB, counting everything the browser
# fetched while loading it at 1280 px and scrolling every image into view, except MathJax. Chapter 7's training
# cell timed out in that build, so its 2,716 KiB lacked what the cells after it print; those outputs (the same code
# since) weighed 338 KiB on this branch's pages (1,353 KiB with them, 1,015 KiB without), hence 2,716 + 338.
BASELINE_KIB = {
    "chapters/01_convolution_math.html": 3482, "chapters/02_fc_to_conv.html": 2703,
    "chapters/03_padding_stride_dilation.html": 2955, "chapters/04_channels.html": 2708,
    "chapters/05_1x1_convolution.html": 2670, "chapters/06_pooling.html": 2803,
    "chapters/07_lenet_mnist.html": 2716 + 338,
}

# Elements of the article that stick out of its column, or scroll or clip sideways inside it; the outermost of
# each, with the TeX of an equation. Code blocks and tables sit in scroll containers on purpose and are skipped.
SIDEWAYS_JS = """() => {
    const article = document.querySelector('article') || document.querySelector('main');
    const column = article.getBoundingClientRect();
    const tex = new Map();
    for (const item of (window.MathJax && MathJax.startup && MathJax.startup.document
                        ? MathJax.startup.document.math : [])) tex.set(item.typesetRoot, item.math);
    const allowed = 'pre, div.highlight, .pst-scrollable-table-container, .cell_output > .output:has(> table)';
    // MathJax's hidden copy for screen readers (mjx-assistive-mml) is clipped to nothing but still counts in
    // scrollWidth, so a formula's width is that of its drawing, mjx-math.
    const contentWidth = el => {
        const drawing = el.querySelector(':scope > mjx-math, :scope > mjx-container > mjx-math');
        return drawing ? drawing.getBoundingClientRect().width : el.scrollWidth;
    };
    const found = [];
    for (const el of article.querySelectorAll('*')) {
        // A formula is judged as a whole: MathJax clips parts of its drawing on purpose (stretchy braces).
        if (el.closest(allowed) || (el.parentElement.closest('mjx-container'))
            || found.some(f => f.el.contains(el))) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        const style = getComputedStyle(el);
        // Text for screen readers only (clipped to nothing on purpose, as Bootstrap's .visually-hidden is).
        if (style.position === 'absolute' && style.clip === 'rect(0px, 0px, 0px, 0px)') continue;
        const width = contentWidth(el);
        const scrolls = ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)
                        && width > el.clientWidth + 1;
        const sticksOut = box.right > column.right + 1 || box.left < column.left - 1;
        if (!scrolls && !sticksOut) continue;
        const math = el.closest('mjx-container') || el.querySelector('mjx-container');
        const section = el.closest('section[id]');
        found.push({el, what: (math && tex.get(math)) ? 'equation: ' + tex.get(math).trim().slice(0, 90)
                                  : el.tagName.toLowerCase() + '.' + String(el.className).split(' ')[0],
                    how: scrolls ? `${Math.round(width)} px in a ${el.clientWidth} px box` :
                                   `spans ${Math.round(box.left)}-${Math.round(box.right)} px, column `
                                   + `${Math.round(column.left)}-${Math.round(column.right)}`,
                    section: section ? section.id : ''});
    }
    return found.map(({what, how, section}) => `#${section} ${what} (${how})`);
}"""

SMALL_TEXT_JS = """(minPx) => {
    const small = new Map();
    const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                             NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!node.textContent.trim() || !el || el.closest('mjx-container, script, style, .visually-hidden, .sr-only'))
            continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
        const size = parseFloat(getComputedStyle(el).fontSize) * (el.closest('svg') ?
            el.closest('svg').getBoundingClientRect().width / (el.closest('svg').viewBox.baseVal.width || 1e9) : 1);
        if (size < minPx - 0.01) {
            const key = (el.closest('.ks-player') ? 'kernel-slider player: ' : '')
                        + `${el.tagName.toLowerCase()}.${String(el.className.baseVal ?? el.className).split(' ')[0]}`
                        + ` ${size.toFixed(1)}px`;
            small.set(key, (small.get(key) || node.textContent.trim().slice(0, 30)));
        }
    }
    return Array.from(small, ([key, sample]) => `${key}: "${sample}"`);
}"""


def open_at(browser, site_url: str, path: str, width: int, scheme: str = "light"):
    """A page of the site in a fresh context of the given width and colour scheme, loaded and typeset, with every
    request that would leave the local server refused."""
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme,
                                  device_scale_factor=1)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("http://127.0.0.1", "data:", "blob:", "about:")) else route.abort())
    page = context.new_page()
    page.goto(f"{site_url}/{path}", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
    wait_for_mathjax(page)
    return context, page


AXE = ROOT / "_build" / "axe" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "reading"
UNTYPESET_JS = """() => Array.from(document.querySelectorAll('.math')).filter(el => !el.querySelector('mjx-container'))
    .map(el => el.textContent.slice(0, 60))"""
BROKEN_IMAGES_JS = "() => Array.from(document.images).filter(img => img.naturalWidth === 0).map(img => img.src)"
AXE_JS = """async () => {
    const results = await axe.run(document, {resultTypes: ['violations']});
    return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


@dataclass
class Visit:
    """What one load of a page at one width and colour scheme showed, read by the browser checks."""
    problems: object              # conftest.PageProblems: console errors, failed or blocked requests
    theme: str                    # the colour scheme the theme applied
    page_width: int               # the document's scroll width
    broken_images: List[str]
    untypeset: List[str]          # math left as raw LaTeX
    math_errors: int              # MathJax's LaTeX errors
    sideways: List[str]           # SIDEWAYS_JS
    small_text: List[str]         # SMALL_TEXT_JS
    low_contrast: List[str]       # LOW_CONTRAST_JS
    kib: Tuple[float, float]      # page_weight_kib
    axe: Optional[List[Dict]]     # axe-core's violations; None when axe is not vendored


class Visits:
    """Loads each (page, width, colour scheme) once and measures everything the checks read from it.

    Loading a page (typesetting, decoding images) is most of a browser check's cost, and the checks only read the
    page, so a dozen checks of one page share its load. With BOOK_SCREENSHOTS=1 each load also leaves a full-page
    screenshot in test-artifacts/reading/ for a person to look at.
    """

    def __init__(self, browser, site_url: str) -> None:
        self.browser, self.site_url = browser, site_url
        self._visits: Dict[Tuple[str, int, str], Visit] = {}

    def __call__(self, path: str, width: int, scheme: str = "light") -> Visit:
        key = (path, width, scheme)
        if key not in self._visits:
            self._visits[key] = self._visit(*key)
        return self._visits[key]

    def _visit(self, path: str, width: int, scheme: str) -> Visit:
        from conftest import watched_page

        context = self.browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme,
                                           device_scale_factor=1)
        try:
            page = watched_page(context)
            page.goto(f"{self.site_url}/{path}", wait_until="load", timeout=PAGE_TIMEOUT_MS)
            page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
            wait_for_mathjax(page)
            load_every_image(page)
            page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
            page.evaluate("window.scrollTo(0, 0)")   # sticky sidebars and header sit where a reader first sees them
            if os.environ.get("BOOK_SCREENSHOTS") == "1":
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                size = {PHONE: "phone", DESKTOP: "desktop"}.get(width, f"{width}px")
                page.screenshot(path=str(SCREENSHOTS / screenshot_name(path).replace(".png", f"__{size}_{scheme}.png")),
                                full_page=True)
            measured = Visit(
                problems=page.problems, theme=page.evaluate("document.documentElement.dataset.theme"),
                page_width=page.evaluate("document.scrollingElement.scrollWidth"),
                broken_images=page.evaluate(BROKEN_IMAGES_JS), untypeset=page.evaluate(UNTYPESET_JS),
                math_errors=page.locator("mjx-merror").count(), sideways=page.evaluate(SIDEWAYS_JS),
                small_text=page.evaluate(SMALL_TEXT_JS, MIN_TEXT_PX), low_contrast=page.evaluate(LOW_CONTRAST_JS, 4.5),
                kib=page_weight_kib(page, SITE), axe=None)
            if AXE.is_file():
                page.add_script_tag(path=str(AXE))
                measured.axe = page.evaluate(AXE_JS)
            return measured
        finally:
            context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("path", CHAPTER_PAGES or ["chapters"])
def test_nothing_in_a_chapter_scrolls_sideways_or_is_cut_off(visits, path: str, width: int) -> None:
    visit = visits(path, width)
    assert visit.page_width <= width, f"{path} at {width} px: the page itself is {visit.page_width} px wide"
    assert not visit.sideways, f"{path} at {width} px: content wider than its column:\n" + "\n".join(visit.sideways)


@pytest.mark.browser
@pytest.mark.parametrize("path", PAGES or ["index.html"])
def test_text_on_a_phone_is_at_least_12px(visits, path: str) -> None:
    """Page text (figures aside: they open at full size) is no smaller than 12 CSS px at 390 px wide."""
    small = visits(path, PHONE).small_text
    assert not small, f"{path} at {PHONE} px: text under {MIN_TEXT_PX} px:\n" + "\n".join(small)


@pytest.mark.browser
def test_search_results_fit_a_phone_and_show_math_as_text(browser, site_url: str) -> None:
    context, page = open_at(browser, site_url, "search.html?q=stride", PHONE)
    try:
        page.wait_for_function("() => /Search finished/.test(document.querySelector('#search-results')"
                               ".textContent)", timeout=PAGE_TIMEOUT_MS)
        page.locator("#search-results p.context").first.wait_for(timeout=PAGE_TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
        page_width = page.evaluate("document.scrollingElement.scrollWidth")
        snippets = page.locator("#search-results p.context").all_text_contents()
        sample = page.evaluate(r"window.bookTexToText('\\(\\lfloor (n_h - k_h + p_h + s_h)/s_h \\rfloor"
                               r" \\times 2\\)')")
    finally:
        context.close()
    assert page_width <= PHONE, f"the search results page is {page_width} px wide at {PHONE} px"
    assert snippets, "no result snippets for 'stride'"
    raw = [text for text in snippets if re.search(r"\\[()\[\]]|\\[a-zA-Z]{2,}", text)]
    assert not raw, f"result snippets show raw TeX: {raw[:2]}"
    assert sample == "⌊ (n_h - k_h + p_h + s_h)/s_h ⌋ × 2", sample


def page_weight_kib(page, site: Path) -> Tuple[float, float]:
    """(KiB fetched without MathJax, KiB of MathJax) by the page so far: files the site served to it."""
    total = mathjax = 0
    for url in set(page.requested):
        parts = urlsplit(url)
        path = target_file(site, unquote(parts.path).lstrip("/"))
        if not url.startswith("http://127.0.0.1") or not path.is_file():
            continue
        if "/_static/mathjax/" in parts.path:
            mathjax += path.stat().st_size
        else:
            total += path.stat().st_size
    return total / 1024, mathjax / 1024


@pytest.mark.browser
@pytest.mark.parametrize("path", sorted(BASELINE_KIB))
def test_chapter_pages_weigh_at_most_half_of_before(visits, path: str) -> None:
    """Half of before, apart from chapter 7's LeNet explorer (issue 27 gives it its own budget of 1.5 MB)."""
    from book.bench.widget import EXPLORER_TARGET_BYTES, page_player_bytes
    weight, mathjax = visits(path, DESKTOP).kib
    explorer = page_player_bytes(SITE).get(path, {}).get("explorer_bytes", 0)
    baseline = BASELINE_KIB.get(path)
    print(f"\n{path}: {weight:.0f} KiB without MathJax ({mathjax:.0f} KiB of MathJax, {explorer / 1024:.0f} KiB of "
          f"LeNet explorer); before: {baseline} KiB")
    assert baseline is not None, f"{path} has no recorded baseline weight"
    assert explorer <= EXPLORER_TARGET_BYTES, f"{path}'s LeNet explorer weighs {explorer:,} bytes"
    assert weight - explorer / 1024 <= baseline / 2, \
        f"{path} weighs {weight:.0f} KiB besides its explorer, more than half of its {baseline} KiB before"


# Contrast of each text in code-cell outputs against the background it is painted on (the nearest opaque
# background-color up the tree); axe-core leaves text on the theme's output cards unjudged ("incomplete").
LOW_CONTRAST_JS = """(minimum) => {
    const rgba = css => (css.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const channel = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = el => {
        for (let node = el; node; node = node.parentElement) {
            const color = rgba(getComputedStyle(node).backgroundColor);
            if (color.length === 3 || (color.length === 4 && color[3] > 0.5)) return color.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const low = new Map();
    for (const output of document.querySelectorAll('.cell_output')) {
        const walker = document.createTreeWalker(output, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            // Heading anchors ("#") show only on hover; drawings (SVG) and formulas are judged elsewhere.
            if (!node.textContent.trim() || el.closest('svg, mjx-container, script, style, .headerlink')) continue;
            const fg = luminance(rgba(getComputedStyle(el).color).slice(0, 3)), bg = luminance(background(el));
            const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
            if (ratio < minimum) low.set(`${el.tagName.toLowerCase()} ${ratio.toFixed(2)}:1`, node.textContent.trim().slice(0, 40));
        }
    }
    return Array.from(low, ([key, sample]) => `${key} "${sample}"`);
}"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", CHAPTER_PAGES or ["chapters"])
def test_text_printed_by_code_cells_is_readable_in_both_schemes(visits, path: str, scheme: str) -> None:
    """WCAG AA contrast (4.5:1) for the text of every code-cell output, e.g. chapter 7's layer table."""
    low = visits(path, DESKTOP, scheme).low_contrast
    assert not low, f"{path}, {scheme}: output text with too little contrast:\n" + "\n".join(low)
