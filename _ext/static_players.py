"""A Sphinx extension for the static site: leave out what a page carries twice or never uses.

* ipywidgets state. When a notebook is executed, nbclient records the state of every widget it creates, and
  MyST-NB embeds that state in the page (`application/vnd.jupyter.widget-state+json`) for a widget runtime to
  render. The book loads no widget runtime (`nb_ipywidgets_js: {}`): each `kernel_slider` also outputs its own
  static player, which the site shows. The state would only add weight (about 80 KB per player: every control's
  model and the live view's picture).
* The players' style sheet and script. Each player's output carries both, so that it works alone in JupyterLab or
  nbviewer; on a page of several players the first copy serves them all (about 9 KB per further player).
"""
from __future__ import annotations

from typing import Any, Dict

from book.viz.draw import PLAYER_JS, STYLE

__all__ = ["setup", "without_repeats"]

_SHARED = (f"<style>{STYLE}</style>", PLAYER_JS)


def _drop_unused_widget_state(app, pagename: str, *args: Any, **kwargs: Any) -> None:
    if app.config.nb_ipywidgets_js:       # a widget runtime is loaded: it needs the state
        return
    metadata = getattr(app.env, "nb_metadata", {}).get(pagename, {})
    metadata.get("js_files", {}).pop("ipywidgets_state", None)


def without_repeats(body: str) -> str:
    """`body` with every copy of the players' style sheet and script but the first removed (they are identical:
    the first, earlier in the page, applies to all; the script's later copies only redefined the same function)."""
    for shared in _SHARED:
        first = body.find(shared)
        if first >= 0:
            end = first + len(shared)
            body = body[:end] + body[end:].replace(shared, "")
    return body


def _share_player_code(app, pagename: str, templatename: str, context: Dict, doctree) -> None:
    if "body" in context:
        context["body"] = without_repeats(context["body"])


def setup(app) -> Dict[str, Any]:
    # Before MyST-NB's own html-page-context handler (priority 500) adds the page's scripts.
    app.connect("html-page-context", _drop_unused_widget_state, priority=400)
    app.connect("html-page-context", _share_player_code)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
