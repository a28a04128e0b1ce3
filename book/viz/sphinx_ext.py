"""A Sphinx extension for the static site: leave out the ipywidgets state that no page uses.

When a notebook is executed, nbclient records the state of every widget it creates, and MyST-NB embeds that state
in the page (`application/vnd.jupyter.widget-state+json`) for a widget runtime to render. The book loads no widget
runtime (`nb_ipywidgets_js: {}`): each `kernel_slider` also outputs its own static player, which the site shows.
The state would only add weight (about 80 KB per player: every control's model and the live view's picture).
"""
from __future__ import annotations

from typing import Any, Dict

__all__ = ["setup"]


def _drop_unused_widget_state(app, pagename: str, *args: Any, **kwargs: Any) -> None:
    if app.config.nb_ipywidgets_js:       # a widget runtime is loaded: it needs the state
        return
    metadata = getattr(app.env, "nb_metadata", {}).get(pagename, {})
    metadata.get("js_files", {}).pop("ipywidgets_state", None)


def setup(app) -> Dict[str, Any]:
    # Before MyST-NB's own html-page-context handler (priority 500) adds the page's scripts.
    app.connect("html-page-context", _drop_unused_widget_state, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
