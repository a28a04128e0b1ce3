"""The gradient of a one-channel convolution drawn as it flows backwards (chapter 4, "Backpropagation through a
convolution").

For H = X ⋆ K (stride 1, no padding) and an incoming output gradient δ = dL/dH, `draw_conv_gradient_flow` shows

* which cells of δ one input cell (s, t) fed, and which kernel weight K[s - i, t - j] each passed through: the input
  gradient dL/dX[s, t] collects those products, a full correlation of δ with the rotated kernel;
* which input cells one weight K[a, b] touched: the weight gradient dL/dK[a, b] is that block of X correlated with δ.

The numbers in its cells come from `book.conv.conv2d_backward`, the textbook formulas, which are tested against
`torch.autograd`; `conv_gradient_flow` returns them without drawing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch, Rectangle

from book.conv import conv2d_backward
from book.viz.frames import format_number
from book.viz.style import show_matrix

__all__ = ["ConvGradientFlow", "conv_gradient_flow", "draw_conv_gradient_flow"]

Cell = Tuple[int, int]

# One colour per product that dL/dX[s, t] collects (up to 9: a 3x3 kernel); red and blue are the cells' own colours.
TERM_COLOURS = ("C1", "C2", "C4", "C6", "C8", "C5", "C9", "C7", "k")
TOTAL_COLOUR = "C3"  # the gradient cell being explained, and what flows into it in the weight-gradient row


@dataclass(frozen=True)
class ConvGradientFlow:
    """H = X ⋆ K with stride 1 and no padding, the output gradient δ = dL/dH, and the two gradients it gives."""
    input: torch.Tensor
    kernel: torch.Tensor
    output_gradient: torch.Tensor
    input_gradient: torch.Tensor
    kernel_gradient: torch.Tensor
    input_cell: Cell
    weight: Cell

    def input_cell_terms(self) -> List[Tuple[Cell, Cell]]:
        """(output cell (i, j), kernel weight (s - i, t - j)) for every output the input cell (s, t) fed, in
        row-major order of the outputs: dL/dX[s, t] is the sum of δ[i, j] * K[s - i, t - j] over them."""
        s, t = self.input_cell
        k_h, k_w = self.kernel.shape
        m_h, m_w = self.output_gradient.shape
        return [((i, j), (s - i, t - j)) for i in range(m_h) for j in range(m_w)
                if 0 <= s - i < k_h and 0 <= t - j < k_w]

    def weight_block(self) -> Tuple[Cell, Cell]:
        """The input cells weight K[a, b] touched: rows a .. a + m_h - 1 and columns b .. b + m_w - 1, as
        (top-left cell, (m_h, m_w)); dL/dK[a, b] is the sum of X[a + i, b + j] * δ[i, j] over that block."""
        return self.weight, tuple(self.output_gradient.shape)


def _cell(value: Sequence[int], shape: torch.Size, name: str, of: str) -> Cell:
    """A (row, column) inside `shape`, or the IndexError torch gives for an index out of range."""
    row, column = (int(v) for v in value)
    if not (0 <= row < shape[0] and 0 <= column < shape[1]):
        raise IndexError(f"{name} {(row, column)} is outside {of} of shape {tuple(shape)}; "
                         f"pick a row below {shape[0]} and a column below {shape[1]}")
    return row, column


def conv_gradient_flow(X: torch.Tensor, K: torch.Tensor, delta: torch.Tensor, input_cell: Sequence[int] = (1, 1),
                       weight: Sequence[int] = (0, 0)) -> ConvGradientFlow:
    """The gradients of H = X ⋆ K (2-D input and kernel, stride 1, no padding) for dL/dH = `delta`, with the
    input cell and the kernel weight whose gradients the figure explains."""
    for label, value in (("X", X), ("K", K), ("delta", delta)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"conv_gradient_flow() expects a tensor for {label}, got {type(value).__name__}")
        if value.dim() != 2:
            raise ValueError(f"conv_gradient_flow draws one channel: {label} must be 2-D, got shape "
                             f"{tuple(value.shape)}; select one channel first")
    if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise ValueError(f"the kernel {tuple(K.shape)} is larger than the input {tuple(X.shape)}")
    X, K, delta = (t.detach().to(torch.float64) for t in (X, K, delta))
    input_gradient, kernel_gradient = conv2d_backward(X[None, None], K[None, None], delta[None, None])
    return ConvGradientFlow(X, K, delta, input_gradient[0, 0], kernel_gradient[0, 0],
                            _cell(input_cell, X.shape, "input_cell", "X"), _cell(weight, K.shape, "weight", "K"))


def _panel(ax: Axes, matrix: torch.Tensor, title: str, size: Cell) -> None:
    """`show_matrix` centred in a panel of `size` cells, so that every panel's cells are the same size."""
    show_matrix(matrix, ax, title)
    rows, columns = matrix.shape
    top, left = (size[0] - rows) / 2, (size[1] - columns) / 2
    ax.set_xlim(-0.5 - left, columns - 0.5 + left)
    ax.set_ylim(rows - 0.5 + top, -0.5 - top)
    # show_matrix's grid would run across the empty margin: draw the cell borders of the matrix alone
    ax.set_xticks([], minor=True)
    ax.set_yticks([], minor=True)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.hlines([r - 0.5 for r in range(1, rows)], -0.5, columns - 0.5, color="0.75", lw=0.5)
    ax.vlines([c - 0.5 for c in range(1, columns)], -0.5, rows - 0.5, color="0.75", lw=0.5)
    _outline(ax, (0, 0), "0.6", (rows, columns), width=0.8)


def _outline(ax: Axes, top_left: Cell, colour: str, size: Cell = (1, 1), width: float = 3.0) -> None:
    """A frame around a block of cells of a `show_matrix` panel."""
    (row, column), (rows, columns) = top_left, size
    ax.add_patch(Rectangle((column - 0.5, row - 0.5), columns, rows, fill=False, ec=colour, lw=width))


def _arrow(fig: Figure, start: Tuple[Axes, Tuple[float, float]], end: Tuple[Axes, Tuple[float, float]],
           colour: str, style: str = "-") -> None:
    """An arrow from a point of one panel to a point of another, in cell coordinates (row, column)."""
    (ax_from, (row_from, col_from)), (ax_to, (row_to, col_to)) = start, end
    fig.add_artist(ConnectionPatch((col_from, row_from), (col_to, row_to), "data", "data", axesA=ax_from,
                                   axesB=ax_to, arrowstyle="-|>", color=colour, lw=1.4, ls=style,
                                   shrinkA=4, shrinkB=6, mutation_scale=12, alpha=0.85))


def _number(value: torch.Tensor) -> str:
    text = format_number(float(value))
    return f"({text})" if text.startswith("−") else text


def _input_row(fig: Figure, row: Sequence[Axes], flow: ConvGradientFlow) -> None:
    """δ, dL/dX and K: each output cell the chosen input cell fed, its weight, and their arrows into the cell."""
    ax_delta, ax_grad, ax_kernel = row
    s, t = flow.input_cell
    size = tuple(flow.input.shape)
    _panel(ax_delta, flow.output_gradient, r"output gradient $\delta = \partial L/\partial H$", size)
    _panel(ax_grad, flow.input_gradient, r"input gradient $\partial L/\partial X$", size)
    _panel(ax_kernel, flow.kernel, r"kernel $K$", size)
    _outline(ax_grad, (s, t), TOTAL_COLOUR, width=3.5)
    products = []
    for n, ((i, j), (a, b)) in enumerate(flow.input_cell_terms()):
        colour = TERM_COLOURS[n % len(TERM_COLOURS)]
        _outline(ax_delta, (i, j), colour)
        _outline(ax_kernel, (a, b), colour)
        _arrow(fig, (ax_delta, (i, j)), (ax_grad, (s, t)), colour)
        _arrow(fig, (ax_kernel, (a, b)), (ax_grad, (s, t)), colour, "--")
        products.append(f"{_number(flow.output_gradient[i, j])}·{_number(flow.kernel[a, b])}")
    lines = [" + ".join(products[n:n + 3]) for n in range(0, len(products), 3)]
    ax_grad.set_xlabel(f"$\\partial L/\\partial X_{{{s},{t}}} = \\sum\\, \\delta_{{i,j}} K_{{{s}-i,{t}-j}}$\n"
                       + " +\n".join(lines) + f" = {format_number(float(flow.input_gradient[s, t]))}", fontsize=9)


def _weight_row(fig: Figure, row: Sequence[Axes], flow: ConvGradientFlow) -> None:
    """X, dL/dK and δ: the block of X that one weight touched, correlated with δ, gives that weight's gradient."""
    ax_input, ax_grad, ax_delta = row
    (a, b), (m_h, m_w) = flow.weight_block()
    size = tuple(flow.input.shape)
    _panel(ax_input, flow.input, r"input $X$", size)
    _panel(ax_grad, flow.kernel_gradient, r"weight gradient $\partial L/\partial K$", size)
    _panel(ax_delta, flow.output_gradient, r"$\delta$, in the kernel's place", size)
    _outline(ax_input, (a, b), TOTAL_COLOUR, (m_h, m_w))
    _outline(ax_delta, (0, 0), TOTAL_COLOUR, (m_h, m_w))
    _outline(ax_grad, (a, b), TOTAL_COLOUR, width=3.5)
    centre = ((m_h - 1) / 2, (m_w - 1) / 2)
    _arrow(fig, (ax_input, (a + centre[0], b + centre[1])), (ax_grad, (a, b)), TOTAL_COLOUR)
    _arrow(fig, (ax_delta, centre), (ax_grad, (a, b)), TOTAL_COLOUR, "--")
    ax_grad.set_xlabel(f"$\\partial L/\\partial K_{{{a},{b}}} = \\sum\\, X_{{{a}+i,{b}+j}}\\, \\delta_{{i,j}}"
                       f" = (X \\star \\delta)_{{{a},{b}}}$ = {format_number(float(flow.kernel_gradient[a, b]))}",
                       fontsize=9)


def draw_conv_gradient_flow(X: torch.Tensor, K: torch.Tensor, delta: torch.Tensor,
                            input_cell: Sequence[int] = (1, 1), weight: Sequence[int] = (0, 0),
                            figsize: Optional[Tuple[float, float]] = None) -> Figure:
    """Draw the gradient of H = X ⋆ K flowing back from δ = `delta`; return the figure.

    Top row: δ, dL/dX and K. The cells of δ that `input_cell` fed and the weights they met are framed in matching
    colours, with arrows into dL/dX[input_cell], which is the sum of their products (written under it).
    Bottom row: X, dL/dK and δ. The block of X that `weight` touched and δ flow into dL/dK[weight], their
    correlation. Panels are row-major in `fig.axes`: δ, dL/dX, K, X, dL/dK, δ.
    """
    flow = conv_gradient_flow(X, K, delta, input_cell, weight)
    fig, axes = plt.subplots(2, 3, figsize=figsize or (10, 7), gridspec_kw=dict(wspace=0.45, hspace=0.55))
    _input_row(fig, axes[0], flow)
    _weight_row(fig, axes[1], flow)
    return fig
