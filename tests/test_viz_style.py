"""book.viz.style: the plot set-up gives a notebook's first figure an image, and `show_matrix` writes every value
legibly in its cell."""
from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: these tests draw off-screen

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch
from IPython.core.pylabtools import print_figure
from nbclient import NotebookClient
from PIL import Image

from book.viz import show_matrix, use_book_style
from book.viz.frames import format_number
from book.viz.style import BOOK_RC, compact_png


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax) -> list:
    return [t.get_text() for t in ax.texts]


def test_outside_ipython_only_the_rc_params_change() -> None:
    backend = matplotlib.get_backend()
    with matplotlib.rc_context():
        use_book_style()
        assert {key: plt.rcParams[key] for key in BOOK_RC} == BOOK_RC
        assert matplotlib.get_backend() == backend


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@pytest.mark.parametrize("grey", [True, False])
def test_figures_are_shown_with_the_same_pixels_in_fewer_bytes(grey: bool) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(4, 2))
    axes[0].imshow(np.random.default_rng(0).random((40, 40)), cmap="gray")
    axes[1].plot([0, 1], [1, 0], color="k" if grey else "C1")
    usual = print_figure(fig, "png")
    compact = base64.b64decode(compact_png(fig))
    assert np.array_equal(_pixels(compact), _pixels(usual))
    assert len(compact) < len(usual)
    assert Image.open(io.BytesIO(compact)).mode == ("L" if grey else "RGB")
    assert compact_png(plt.figure()) is None    # an empty figure shows nothing, as with IPython's own


def _executed(cells, folder) -> nbformat.NotebookNode:
    """A notebook of these code cells, executed top to bottom in a fresh kernel."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


@pytest.mark.slow
def test_first_figure_of_an_executed_notebook_is_an_image(tmp_path) -> None:
    """nbclient with IPython 9 and matplotlib-inline 0.1.6 renders a notebook's first figure as text only unless the
    inline backend is switched on explicitly, which `use_book_style` does."""
    cells = ["import book\nbook.viz.use_book_style()",
             "import matplotlib.pyplot as plt\nplt.plot([1, 2]);",
             "print(plt.rcParams['figure.dpi'], plt.rcParams['axes.spines.top'])"]
    notebook = _executed(cells, tmp_path)
    figure_outputs = notebook.cells[1].outputs
    assert any("image/png" in output.get("data", {}) for output in figure_outputs), figure_outputs
    assert notebook.cells[2].outputs[0].text.split() == [str(float(BOOK_RC["figure.dpi"])), "False"]


@pytest.mark.slow
def test_the_book_style_takes_figures_back_to_png_after_d2l_switched_them_to_svg(tmp_path) -> None:
    cells = ["import book\nbook.viz.use_book_style()\nimport matplotlib.pyplot as plt",
             "from d2l import torch as d2l\nd2l.use_svg_display()\nplt.plot([1, 2]);",
             "book.viz.use_book_style()\nplt.plot([1, 2]);"]
    notebook = _executed(cells, tmp_path)
    kinds = [set().union(*(o.get("data", {}).keys() for o in cell.outputs)) for cell in notebook.cells[1:]]
    assert "image/svg+xml" in kinds[0]   # what d2l does, so that this test shows the switch back
    assert "image/png" in kinds[1] and "image/svg+xml" not in kinds[1], kinds


@pytest.mark.parametrize("value, decimals, text", [
    (3.0, 2, "3"), (-4.0, 2, "−4"), (0.25, 2, "0.25"), (0.5, 2, "0.5"), (-1.126, 2, "−1.13"), (1.04, 1, "1"),
    (-0.001, 2, "0"), (-0.0, 2, "0"), (12.0, 0, "12"),
    (1.001, 2, "1"), (1 / 3, 2, "0.33"), (19.0, 2, "19"), (-float("inf"), 2, "−∞"),   # once "1." and "−0."
])
def test_format_number_is_the_one_formatter_of_matrices_and_players(value: float, decimals: int, text: str) -> None:
    assert format_number(value, decimals) == text


def test_integers_are_written_without_decimals_in_reading_order() -> None:
    ax = show_matrix(torch.arange(6).reshape(2, 3), title="M")
    assert texts(ax) == ["0", "1", "2", "3", "4", "5"]
    assert ax.get_title() == "M"
    assert ax is plt.gca()


def test_floats_get_few_decimals_and_arrays_and_lists_work() -> None:
    fig, (left, right) = plt.subplots(1, 2)
    assert show_matrix(np.array([[0.125, -2.0], [1 / 3, 0.0]]), left, decimals=2) is left
    assert texts(left) == ["0.12", "−2", "0.33", "0"]
    show_matrix([[1.25, 7.0]], right, decimals=1)
    assert texts(right) == ["1.2", "7"]


def test_text_colour_stands_out_from_its_cell() -> None:
    ax = show_matrix(torch.tensor([[0.0, 1.0]]))                     # Blues from 0: white cell, dark blue cell
    assert [t.get_color() for t in ax.texts] == ["black", "white"]
    plt.figure()
    ax = show_matrix(torch.tensor([[0.0, 1.0]]), cmap="gray")       # black cell, white cell
    assert [t.get_color() for t in ax.texts] == ["white", "black"]


def test_signed_matrices_get_a_diverging_map_centred_on_zero() -> None:
    ax = show_matrix(torch.tensor([[-1.0, 0.5, 3.0]]))
    image = ax.images[0]
    assert image.get_cmap().name == "RdBu_r"
    assert (image.norm.vmin, image.norm.vmax) == (-3.0, 3.0)
    assert [t.get_color() for t in ax.texts] == ["black", "black", "white"]


def test_explicit_colour_limits_are_kept() -> None:
    ax = show_matrix(torch.tensor([[1.0, 2.0]]), vmin=0, vmax=10, cmap="Greens")
    image = ax.images[0]
    assert (image.norm.vmin, image.norm.vmax, image.get_cmap().name) == (0, 10, "Greens")


@pytest.mark.parametrize("shape", [(3,), (2, 2, 2)])
def test_only_matrices_are_accepted(shape) -> None:
    with pytest.raises(ValueError, match="2-D") as raised:
        show_matrix(torch.zeros(shape))
    assert "\n" not in str(raised.value)
