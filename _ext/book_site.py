"""Site-only behaviour of the book, as a local Sphinx extension (registered in _config.yml).

* Buttons follow the repository URL: the repository, issue, Binder and Colab buttons appear only when
  `repository.url` in _config.yml is set, so a copy of the book with no repository yet shows no dead links.
* No fontawesome.js: the theme loads this 1.5 MB script on every page only to redraw its icons as inline SVG, but the
  theme's style sheet already draws the same icons from Font Awesome's web font, so the script goes. (This and
  the search field's name are small, checked patches to copies of the theme's templates.)
* Images link to their full-size file, so a multi-panel figure shrunk to a phone's width opens at full size
  with a tap (Sphinx does the same for images it scales).
* Sidebar disclosure buttons have names: the theme's <summary> toggles hold only a chevron, so a screen reader
  announces an unnamed button; each is named after the entry it expands.
* The bibliography is a list of list items (docutils gives its entries a deprecated role that breaks the list).
* No general index: the book defines no index entries, and an empty genindex.html is a dead end.
"""
from __future__ import annotations

import posixpath
import re
import urllib.parse
from pathlib import Path
from typing import Any, Dict, NamedTuple, Optional

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util.osutil import relative_uri


FONTAWESOME_SCRIPT = "_static/scripts/fontawesome.js"
LAUNCH_KEYS = ("binderhub_url", "colab_url", "jupyterhub_url", "deepnote_url", "jupyterlite_url", "thebe")
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button", "use_source_button")


# ---------------------------------------------------------------------------------------------------------------
# Buttons follow the repository URL
# ---------------------------------------------------------------------------------------------------------------

def buttons_follow_repository(app: Sphinx, config: Config) -> None:
    """Turn the repository-backed buttons on exactly when a repository URL is configured."""
    options = config.html_theme_options
    has_repository = bool((options.get("repository_url") or "").strip())
    for key in REPOSITORY_BUTTONS[:2]:
        options[key] = has_repository
    if not has_repository:
        for key in REPOSITORY_BUTTONS[2:]:
            options[key] = False
        launch = dict(options.get("launch_buttons") or {})
        for key in LAUNCH_KEYS:
            launch.pop(key, None)
        options["launch_buttons"] = launch


# ---------------------------------------------------------------------------------------------------------------
# Patched theme templates: no fontawesome.js, a search field named by its text
# ---------------------------------------------------------------------------------------------------------------

def theme_template_dir() -> Path:
    import pydata_sphinx_theme

    return Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"


class TemplatePatch(NamedTuple):
    template: str   # path under the theme's template folder
    pattern: str    # a regular expression that must match exactly once
    replacement: str


THEME_PATCHES = (
    # fontawesome.js only redraws, as inline SVG, icons the theme's CSS already draws with Font Awesome's web font.
    TemplatePatch("static/webpack-macros.html",
                  r"[ \t]*<script[^>]*" + re.escape(FONTAWESOME_SCRIPT) + r"[^>]*></script>\n?", ""),
    # The search field's visible text ("Search Ctrl+K") names it; an aria-label of just "Search" contradicts it.
    TemplatePatch("components/search-button-field.html", r' aria-label="\{\{ _\(\'Search\'\) \}\}"', ""),
)


def patched_template(text: str, patch: TemplatePatch) -> str:
    """`text` with `patch` applied; an error if the theme changed so that it no longer applies exactly once."""
    patched, count = re.subn(patch.pattern, patch.replacement, text)
    if count != 1:
        raise RuntimeError(f"book_site: the patch to the theme's {patch.template} matched {count} times, not once")
    return patched


def patch_theme_templates(app: Sphinx, config: Config) -> None:
    """Write patched copies of a few theme templates to a folder searched before the theme's own."""
    templates = Path(app.outdir).parent / "book_site_templates"
    for patch in THEME_PATCHES:
        original = (theme_template_dir() / patch.template).read_text(encoding="utf-8")
        text = patched_template(original, patch)
        # The theme puts its components/ folder on the template path, and pages name components without it.
        names = [patch.template] + ([Path(patch.template).name] if patch.template.startswith("components/") else [])
        for name in names:
            target = templates / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
    config.templates_path = [str(templates)] + list(config.templates_path)


# ---------------------------------------------------------------------------------------------------------------
# Images link to their full-size file
# ---------------------------------------------------------------------------------------------------------------

def link_images_to_full_size(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Wrap each local image not already in a link in a link to its file in _images/."""
    if app.builder.format != "html":
        return
    imgpath = relative_uri(app.builder.get_target_uri(docname), "_images")
    for image in list(doctree.findall(nodes.image)):
        uri = image.get("uri", "")
        if isinstance(image.parent, nodes.reference) or uri not in app.env.images:
            continue
        reference = nodes.reference("", "", internal=True, classes=["book-full-size"],
                                    refuri=posixpath.join(imgpath, urllib.parse.quote(app.env.images[uri][1])))
        image.replace_self(reference)
        reference.append(image)


# ---------------------------------------------------------------------------------------------------------------
# Page fixes: named sidebar and hidden-cell toggles, the bibliography as a list, no stale general index
# ---------------------------------------------------------------------------------------------------------------

def name_toctree_toggles(html: str) -> str:
    """Give each unnamed <summary> in a navigation tree an aria-label naming the entry it expands."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for summary in soup.find_all("summary"):
        if summary.get_text(strip=True) or summary.get("aria-label"):
            continue
        item = summary.find_parent("li")
        link = item.find("a", recursive=False) if item is not None else None
        entry = link.get_text(" ", strip=True) if link is not None else ""
        summary["aria-label"] = f"Show or hide the sections of {entry}" if entry else "Show or hide sections"
    return str(soup)


def wrap_toctree_generator(app: Sphinx, pagename: str, templatename: str, context: Dict[str, Any],
                           doctree: Optional[nodes.document]) -> None:
    """Runs after the theme put `generate_toctree_html` in the page context; names the toggles it draws."""
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "book_site_wrapped", False):
        return
    from markupsafe import Markup

    def generate_named(*args: Any, **kwargs: Any) -> Markup:
        return Markup(name_toctree_toggles(str(generate(*args, **kwargs))))

    generate_named.book_site_wrapped = True  # type: ignore[attr-defined]
    context["generate_toctree_html"] = generate_named


def bibliography_as_a_list(app: Sphinx, pagename: str, templatename: str, context: Dict[str, Any],
                           doctree: Optional[nodes.document]) -> None:
    """Docutils marks the bibliography `role="list"` but each entry with the deprecated `doc-biblioentry`, so the
    list has no items for assistive technology; entries become list items."""
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def name_hidden_cell_toggles_by_their_text(app: Sphinx, pagename: str, templatename: str, context: Dict[str, Any],
                                           doctree: Optional[nodes.document]) -> None:
    """MyST-NB labels the toggle of a `hide-input` cell "Toggle hidden content" while it shows "Show code cell
    source": a name that contradicts the visible text (axe: label-content-name-mismatch). The text names it."""
    body = context.get("body")
    if body and '<summary aria-label="Toggle hidden content">' in body:
        context["body"] = body.replace('<summary aria-label="Toggle hidden content">', "<summary>")


def remove_stale_general_index(app: Sphinx, exception: Optional[Exception]) -> None:
    """With html_use_index off Sphinx writes no genindex.html, but leaves one from an earlier build in place."""
    if exception is None and app.builder.format == "html" and not app.config.html_use_index:
        (Path(app.outdir) / "genindex.html").unlink(missing_ok=True)


def setup(app: Sphinx) -> Dict[str, Any]:
    app.connect("config-inited", buttons_follow_repository, priority=100)
    app.connect("config-inited", patch_theme_templates, priority=100)
    app.connect("doctree-resolved", link_images_to_full_size)
    app.connect("html-page-context", wrap_toctree_generator, priority=900)
    app.connect("html-page-context", bibliography_as_a_list)
    app.connect("html-page-context", name_hidden_cell_toggles_by_their_text)
    app.connect("build-finished", remove_stale_general_index)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
