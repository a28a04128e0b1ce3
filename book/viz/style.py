"""The book's plotting set-up and its one way of drawing a small matrix with its numbers in the cells.

Every chapter starts with `book.viz.use_book_style()`, and every annotated matrix figure is `book.viz.show_matrix`.
"""
from __future__ import annotations

import base64
import io
from typing import Optional

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image

from book._ipython import ipython_shell
from book.viz.frames import format_number

__all__ = ["BOOK_RC", "use_book_style", "show_matrix", "compact_png"]

BOOK_RC = {"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False}


def use_book_style() -> None:
    """Draw figures inline in Jupyter and apply the book's rcParams (`BOOK_RC`); outside IPython only the latter.

    The explicit inline backend matters: with IPython 9 and matplotlib-inline 0.1.6, a notebook executed by
    nbclient shows its first figure only as text unless `%matplotlib inline` ran first.
    Figures are shown as `compact_png` makes them: the same pixels in fewer bytes (the site's pages carry them), and
    only as PNG, also after a library switched the kernel to SVG: call it again after such a library.
    """
    shell = ipython_shell()
    if shell is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        shell.run_line_magic("matplotlib", "inline")
        # PNG only: a library may have switched the kernel to SVG (d2l's training loop calls its use_svg_display), and
        # an SVG figure, every glyph a path, weighs several times its PNG on the site.
        set_matplotlib_formats("png")
        shell.display_formatter.formatters["image/png"].for_type(Figure, compact_png)
    plt.rcParams.update(BOOK_RC)


def compact_png(fig: Figure) -> Optional[str]:
    """`fig` as the inline backend draws it (IPython's PNG), re-encoded losslessly in fewer bytes: with no alpha
    channel when every pixel is opaque and as 8-bit grey when every pixel is grey (a photograph filtered in grey
    shrinks by half); base64, or None for an empty figure, as IPython's own formatter returns."""
    from IPython.core.pylabtools import print_figure

    data = print_figure(fig, "png")
    if data is None:
        return None
    image = Image.open(io.BytesIO(data))
    pixels = np.asarray(image)
    if image.mode == "RGBA" and (pixels[..., 3] == 255).all():
        image, pixels = image.convert("RGB"), pixels[..., :3]
    if image.mode == "RGB" and (pixels == pixels[..., :1]).all():
        image = image.convert("L")
    smaller = io.BytesIO()
    image.save(smaller, "png", optimize=True)
    return base64.b64encode(smaller.getvalue() if smaller.tell() < len(data) else data).decode("ascii")


def show_matrix(matrix, ax: Optional[Axes] = None, title: Optional[str] = None, *, cmap: Optional[str] = None,
                vmin: Optional[float] = None, vmax: Optional[float] = None, decimals: int = 2,
                fontsize: Optional[float] = None) -> Axes:
    """Draw a 2-D tensor/array as coloured cells with each value written in its cell; return the axes.

    The default colour map is "Blues" from zero for non-negative matrices and "RdBu_r" centred on zero for signed
    ones.
    Each number is black or white, whichever stands out from its cell; integers have no decimals and other
    values at most `decimals`.
    """
    values = (matrix.detach().cpu().numpy() if isinstance(matrix, torch.Tensor) else np.asarray(matrix))
    if values.ndim != 2:
        raise ValueError(f"show_matrix draws 2-D matrices, got shape {values.shape}; select or reshape one first")
    values = values.astype(np.float64)
    if cmap is None:
        signed = values.min() < 0
        cmap = "RdBu_r" if signed else "Blues"
        if signed and vmin is None and vmax is None:
            vmax = float(np.abs(values).max())
            vmin = -vmax
        elif not signed and vmin is None:
            vmin = 0.0  # colour in proportion to the value
    if ax is None:
        ax = plt.gca()
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    for (row, column), value in np.ndenumerate(values):
        red, green, blue, _ = image.cmap(image.norm(value))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # perceived brightness of the cell
        ax.text(column, row, format_number(value, decimals), ha="center", va="center", fontsize=fontsize,
                color="white" if dark else "black")
    height, width = values.shape
    ax.set_xticks(np.arange(width + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(height + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.75", linewidth=0.5)  # cell borders, visible even on white cells
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("0.6")
    if title is not None:
        ax.set_title(title)
    return ax
