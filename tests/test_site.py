"""The built site (`make book` -> _build/html) as its readers meet it.

Two kinds of check. Reading the HTML files: every internal link and anchor resolves, no page pulls a script, style
sheet or image from another host, content images have real alt text, notebook pages carry download and launch
buttons, and the public build holds no solutions. Driving headless Chromium (fixtures in conftest.py, every
non-local request blocked): every page loads with no console error, failed or blocked request; its math is typeset
by the vendored MathJax; its images decode; search works offline; chapter 3 shows the kernel-sliding animation.
Full-page screenshots go to test-artifacts/site/.
"""
from __future__ import annotations

import html.parser
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from conftest import ROOT, SITE

pytestmark = pytest.mark.built

INSTRUCTOR_SITE = ROOT / "_build" / "instructor" / "_build" / "html"
NON_PAGE_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static"}
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


def test_notebook_pages_offer_download_and_launch_buttons(built_site: Path) -> None:
    repository = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    repository_path = urlsplit(repository).path.strip("/")
    notebook_pages = [page for page in site_pages(built_site)
                      if (built_site / "_sources" / page).with_suffix(".ipynb").is_file()]
    assert notebook_pages, "no page of the site was built from a notebook"
    for page in notebook_pages:
        links = parse(built_site / page).links
        source = posixpath.splitext(page)[0] + ".ipynb"
        assert any(not is_external(href) and resolve(page, href)[0] == f"_sources/{source}" for href in links), \
            f"{page}: no button to download {source}"
        assert any("mybinder.org" in href and repository_path in href and source in href for href in links), \
            f"{page}: no Binder launch button for {repository}"
        assert any("colab.research.google.com" in href and source in href for href in links), \
            f"{page}: no Colab launch button"


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
def test_page_loads_cleanly_with_math_and_images(page, site_url: str, artifacts: Path, path: str) -> None:
    page.goto(f"{site_url}/{path}", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
    wait_for_mathjax(page)
    load_every_image(page)
    (artifacts / "site").mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")   # sticky sidebars and header then sit where a reader first sees them
    page.screenshot(path=str(artifacts / "site" / screenshot_name(path)), full_page=True)

    assert not page.problems, f"{path}: {page.problems}"
    broken_images = page.evaluate(
        "() => Array.from(document.images).filter(img => img.naturalWidth === 0).map(img => img.src)")
    assert not broken_images, f"{path}: images that did not decode: {broken_images}"
    untypeset = page.evaluate(
        "() => Array.from(document.querySelectorAll('.math')).filter(el => !el.querySelector('mjx-container'))"
        ".map(el => el.textContent.slice(0, 60))")
    assert not untypeset, f"{path}: math left as raw LaTeX: {untypeset}"
    assert page.locator("mjx-merror").count() == 0, f"{path}: MathJax reported LaTeX errors"


@pytest.mark.browser
def test_math_is_rendered_by_mathjax(page, site_url: str) -> None:
    page.goto(f"{site_url}/intro.html", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    wait_for_mathjax(page)
    assert page.locator("mjx-container").count() > 0, "intro.html: no MathJax output"
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
