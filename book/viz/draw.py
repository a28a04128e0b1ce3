"""Drawing the frames: the picture of one step, and a self-contained HTML player for pages without a kernel.

Python computes everything the reader sees. A `Picture` turns one `Frames` into HTML *fragments* (one panel per
grid: the input as the operator sees it, the kernel, the output) plus, for every step, the window's offset in
pixels, the written-out arithmetic and the step label. The live widget joins the fragments for the step it shows;
the static player (`render_player`) embeds the fragments and strings of every setting its controls offer, shared
where equal, and its script (`static/player.js`) only picks the setting the controls name and shows step t: it moves
the window groups by the given offset and marks the output cells up to t. Nothing is fetched, so it plays on a static
page with no kernel and no network, and no arithmetic or layout is written twice.
"""
from __future__ import annotations

import functools
import hashlib
import html
import itertools
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from book.viz.frames import PAD, ZERO, Frames, format_numbers

__all__ = ["Picture", "Setting", "render_step", "render_player", "render_message", "player_data", "STYLE", "PLAYER_JS",
           "cell_size", "NO_OUTPUT"]

STYLE = resources.files("book.viz").joinpath("static/player.css").read_text(encoding="utf-8")
PLAYER_JS = resources.files("book.viz").joinpath("static/player.js").read_text(encoding="utf-8")

MAX_PANEL = 340        # px: one grid fits a phone's column (390 px less the page's margins) without shrinking
MAX_CELL, MIN_CELL = 44, 28   # a 28 px cell still holds a 12 px "−12"
WEIGHTS_FROM = 40      # px: below this cell size the weights in the window's corners would crowd the numbers
# A cell's number is at most 40 % of the cell tall (12 px at least), and narrower than the cell by NUMBER_MARGIN on
# each side: the font shrinks to fit a grid's widest number, estimated from these advance widths in em (DejaVu Sans's,
# the widest of the usual UI fonts; unlisted characters are digits). Below MIN_FONT, the book's smallest text, a grid
# shows no numbers (they would be unreadable, on a phone half as large again) and the arithmetic lists the window's
# values. static/player.js applies the same rule to numbers a page writes into a player (the LeNet explorer's).
CHAR_EM, DIGIT_EM = {".": 0.32, "−": 0.84, "∞": 0.84}, 0.64
NUMBER_MARGIN, MIN_FONT = 1, 12
SHADE_ABOVE, SHADE_BELOW = "#2b6cb0", "#c53030"   # a dense grid's positive and negative values (static/player.js)
NO_OUTPUT = "These settings give no output:"

_KEYS = (("i", "input", "#e6f0fb", "#8fb0d6"), ("p", "padding", "#fff", "#9aa5b1"),
         ("z", "inserted zero", "#f5f1fc", "#b9a8dc"), ("u", "never read", "#eceef1", "#c9ced6"),
         ("win", "window", "#ffd27a", "#cf8a12"), ("o", "output", "#d3efe6", "#6bbfa5"))


def cell_size(columns: int) -> int:
    """The cell size in px for a grid `columns` wide (the widest grid of a player sets it for all its settings)."""
    return max(MIN_CELL, min(MAX_CELL, MAX_PANEL // max(1, columns)))


def number_font(u: int, texts: Iterable[str]) -> int:
    """The font size in px for the numbers `texts` in cells `u` px wide: as large as the cell allows, and small
    enough that the widest number fits inside its cell (so neighbours never touch); under MIN_FONT, illegible."""
    widest = max((sum(CHAR_EM.get(char, DIGIT_EM) for char in text) for text in texts), default=0.0)
    largest = max(12, round(u * 0.4))
    return largest if widest == 0 else min(largest, int((u - 2 * NUMBER_MARGIN) / widest))


def widest_grid(frames: Frames) -> int:
    return max(frames.canvas_size[1], frames.output_size[1], frames.kernel_size[1])


def _canvas_label(frames: Frames) -> str:
    if frames.mode == "transposed":
        return "input, zeros inserted, padded"
    return "input, padded" if max(frames.padding) > 0 else "input"


def canvas_kinds(frames: Frames) -> List[str]:
    """Per canvas cell: "p" padding, "z" inserted zero, "u" an input cell no window reads, "i" an input cell read."""
    unread = frames.unread_cells().flatten().tolist()
    return ["p" if code == PAD else "z" if code == ZERO else "u" if never_read else "i"
            for code, never_read in zip(frames.source.flatten().tolist(), unread)]


def _squares(width: int, u: int, indices: Sequence[int], kind: str) -> str:
    """One path of cell outlines for all `indices` of a grid `width` cells wide (far fewer bytes than <rect>s).

    Each block of adjacent cells is its outline plus the lines between its cells, O(rows + columns) per block
    rather than one square per cell. Dashed kinds (padding, inserted zeros) get a dash period that divides the cell,
    so the dashes meet at every cell's corner as they would on separate squares."""
    if not indices:
        return ""
    d = "".join(_block_path(u, *block) for block in _blocks(width, indices))
    dashes = _DASHES.get(kind)
    style = ""
    if dashes is not None:
        dash, gap = dashes
        scale = u / (max(1, round(u / (dash + gap))) * (dash + gap))
        style = f' style="stroke-dasharray:{dash * scale:.3g} {gap * scale:.3g}"'
    return f'<path class="c-{kind}"{style} d="{d}"/>'


# px: player.css's dash and gap for padding and inserted zeros; the inline style, stretched to divide the cell, wins.
_DASHES = {"p": (3, 2), "z": (2, 2)}


def _blocks(width: int, indices: Sequence[int]) -> List[Tuple[int, int, int, int]]:
    """The cells as blocks (first row, first column, rows, columns): runs along each row, merged down the rows
    while a run repeats exactly below."""
    runs: Dict[int, List[Tuple[int, int]]] = {}
    for i in sorted(set(indices)):
        row, column = divmod(i, width)
        row_runs = runs.setdefault(row, [])
        if row_runs and row_runs[-1][1] == column:
            row_runs[-1] = (row_runs[-1][0], column + 1)
        else:
            row_runs.append((column, column + 1))
    blocks: List[List[int]] = []
    open_blocks: Dict[Tuple[int, int], List[int]] = {}   # run -> its block, while it continues row by row
    for row in sorted(runs):
        continued = {}
        for start, stop in runs[row]:
            block = open_blocks.get((start, stop))
            if block is not None and block[0] + block[2] == row:
                block[2] += 1
            else:
                block = [row, start, 1, stop - start]
                blocks.append(block)
            continued[(start, stop)] = block
        open_blocks = continued
    return [tuple(block) for block in blocks]


def _block_path(u: int, row: int, column: int, rows: int, columns: int) -> str:
    x, y, w, h = column * u, row * u, columns * u, rows * u
    return (f"M{x} {y}h{w}v{h}h-{w}z" + "".join(f"M{x + j * u} {y}v{h}" for j in range(1, columns))
            + "".join(f"M{x} {y + i * u}h{w}" for i in range(1, rows)))


def _numbers(width: int, u: int, texts: Sequence[str], shown: Optional[Sequence[bool]] = None) -> str:
    """A centred <text> per cell, row-major (only the `shown` ones). Numbers need no escaping: digits, '.', '−', '∞'."""
    return "".join(f'<text x="{i % width * u + u / 2:g}" y="{i // width * u + u / 2:g}">{text}</text>'
                   for i, text in enumerate(texts) if shown is None or shown[i])


def _shades(width: int, u: int, texts: Sequence[str], shown: Optional[Sequence[bool]] = None) -> str:
    """A grid too fine for its numbers (`is_dense`) shows their values as shades: blue above zero, red below, the
    strongest the largest magnitude. static/player.js's `shade` gives numbers a page writes in the same."""
    cells = [(i, _value(text)) for i, text in enumerate(texts) if shown is None or shown[i]]
    top = max((abs(v) for _, v in cells if math.isfinite(v)), default=0.0)
    rects = "".join(f'<rect x="{i % width * u:g}" y="{i // width * u:g}" width="{u}" height="{u}" '
                    f'fill="{SHADE_ABOVE if v > 0 else SHADE_BELOW}" fill-opacity="{0.85 * abs(v) / top:.3f}"/>'
                    for i, v in cells if top and math.isfinite(v) and v)
    return f'<g class="ks-shade">{rects}</g>'


def _value(text: str) -> float:
    try:
        return float(text.replace("−", "-"))
    except ValueError:   # a label, not a number
        return math.nan


def is_dense(u: int, texts: Iterable[str]) -> bool:
    """Whether a grid of `u` px cells is too fine for its numbers `texts` (they would be under MIN_FONT)."""
    return number_font(u, texts) < MIN_FONT


def _panel_open(caption: str, columns: int, rows: int, u: int, texts: Iterable[str]) -> str:
    """A panel's opening tags; its numbers' font follows `number_font` (class ks-dense hides them when illegible)."""
    w, h, font = columns * u, rows * u, number_font(u, texts)
    dense = " ks-dense" if font < MIN_FONT else ""   # as is_dense
    font = max(font, MIN_FONT)   # a dense grid's hidden numbers keep a legible size: nothing on the page is smaller
    return (f'<figure class="ks-panel"><figcaption>{html.escape(caption)}</figcaption>'
            f'<svg class="ks-svg{dense}" viewBox="-2 -2 {w + 4} {h + 4}" width="{w + 4}" height="{h + 4}" '
            f'data-u="{u}" style="font-size:{font}px" role="img" aria-label="{html.escape(caption)}">')


_PANEL_CLOSE = "</svg></figure>"


def _translate(dx: int, dy: int) -> str:
    return f"translate({dx} {dy})"


class Picture:
    """The panels of one `Frames` with cells `u` px wide, as fragments, and what changes from step to step.

    `fragments(step)` is the list of HTML strings whose concatenation is the picture at `step`; only the window
    groups' and the current output cell's `transform` and the output numbers' classes depend on the step.
    `offsets`, `cells`, `equations` and `labels` hold, per step, the window's offset from step 0 in px, the current
    output cell's position in px, the arithmetic and the step counter.
    """

    def __init__(self, frames: Frames, u: Optional[int] = None) -> None:
        self.frames = frames
        self.u = u = u or cell_size(widest_grid(frames))
        (hc, wc), (kh, kw), (oh, ow) = frames.canvas_size, frames.kernel_size, frames.output_size
        self.kinds = kinds = canvas_kinds(frames)
        # Padding and inserted zeros stay blank, as in Dumoulin & Visin's figures: their cells say they hold 0.
        written = [kind in "iu" for kind in kinds]
        base = [int(i) for i in frames.windows[:, 0]]
        first = frames.windows[0].tolist()
        self.offsets = [((b % wc - base[0] % wc) * u, (b // wc - base[0] // wc) * u) for b in base]
        self.cells = [(x * u, y * u) for y, x in (divmod(step, ow) for step in range(frames.steps))]
        kernel_label = "kernel rotated 180°" if frames.mode in ("convolution", "transposed") else "kernel"
        multi = frames.channels > 1
        weights = [format_numbers(k) for k in frames.applied_kernel] if frames.applied_kernel is not None else []
        under = '<g class="ks-w win">' + "".join(
            f'<rect x="{i % wc * u}" y="{i // wc * u}" width="{u}" height="{u}"/>' for i in first) + "</g>"
        self._rows: List[List[Tuple[str, ...]]] = []   # per channel: its panels, each a tuple of fragments
        for c in range(frames.channels):
            caption = _canvas_label(frames) + (f", channel {c}" if multi else "")
            over = _window_over(first, wc, u, weights[c] if weights else None)
            values = format_numbers(frames.canvas[c])
            shades = (_shades(wc, u, values, written) if is_dense(u, itertools.compress(values, written)) else "")
            canvas = (_panel_open(caption, wc, hc, u, itertools.compress(values, written)),
                      "".join(_squares(wc, u, [i for i, k in enumerate(kinds) if k == kind], kind) for kind in "ipz"),
                      _squares(wc, u, [i for i, k in enumerate(kinds) if k == "u"], "u"),
                      under, shades + '<g class="ks-vals">' + _numbers(wc, u, values, written) + "</g>", over,
                      _PANEL_CLOSE)
            row = [canvas]
            if weights:
                kernel_shades = _shades(kw, u, weights[c]) if is_dense(u, weights[c]) else ""
                row.append((_panel_open(kernel_label + (f", channel {c}" if multi else ""), kw, kh, u, weights[c])
                            + _squares(kw, u, range(kh * kw), "k") + kernel_shades
                            + '<g class="ks-kernel">' + _numbers(kw, u, weights[c]) + "</g>" + _PANEL_CLOSE,))
            if c < frames.output.shape[0]:
                caption = "output" + (" (sum of channels)" if not frames.is_pooling and multi else
                                      f", channel {c}" if multi else "")
                outputs = format_numbers(frames.output[c])
                row.append((_panel_open(caption, ow, oh, u, outputs), _OutputCells(ow, u, outputs), _PANEL_CLOSE))
            self._rows.append(row)

    @functools.cached_property
    def equations(self) -> List[str]:
        """Every step's arithmetic (the live widget, showing one step at a time, never needs them all)."""
        return ["\n".join(self.frames.equation(step)) for step in range(self.frames.steps)]

    @functools.cached_property
    def labels(self) -> List[str]:
        return [_step_text(self.frames, step) for step in range(self.frames.steps)]

    def fragments(self, step: int = 0) -> List[str]:
        """The picture at `step` as HTML fragments, in order (the player shares equal fragments between settings)."""
        return ["".join(tag + text for tag, text in zip(*part)) if isinstance(part, tuple) else part
                for part in self.player_parts(step)]

    def player_parts(self, step: int = 0) -> List:
        """`fragments(step)`, but each output grid's numbers as a pair (their opening tags, the numbers with their
        closing tags): settings with the same output size share the tags, and the numbers are short strings that
        repeat, so the static player stores both as lists of references to strings stored once."""
        step = self.frames._checked(step)
        move = 'transform="' + _translate(*self.offsets[step]) + '"'
        parts: List = []
        for row in self._rows:
            parts.append('<div class="ks-row">')
            for panel in row:
                if len(panel) == 3 and isinstance(panel[1], _OutputCells):       # output: cells depend on the step
                    start, opening, texts, end = panel[1].parts(step, self.cells[step])
                    parts += [panel[0], start, (opening, texts), end, panel[2]]
                else:
                    parts += [fragment.replace('<g class="ks-w', f'<g {move} class="ks-w', 1)
                              if fragment.startswith('<g class="ks-w') else fragment for fragment in panel]
            parts.append("</div>")
        return [p for p in parts if p]

    def svg(self, step: int) -> str:
        """The panels at `step` (what the browser test compares the static player's picture with)."""
        return "".join(self.fragments(step))

    def body(self, step: int) -> str:
        return (f'<div class="ks-title">{html.escape(self.frames.describe())}</div>'
                f'<div class="ks-size">{html.escape(size_text(self.frames))}</div>'
                f'<div class="ks-pic">{self.svg(step)}</div>'
                f'<div class="ks-eq">{html.escape(chr(10).join(self.frames.equation(step)))}</div>')

    def legend(self) -> str:
        return legend(set(self.kinds))

    def html(self, step: int) -> str:
        """The picture, the arithmetic and the step counter at `step`, as an HTML fragment with its own style."""
        return (f'<style>{STYLE}</style><div class="ks">{self.body(step)}{self.legend()}'
                f'<div class="ks-foot"><span class="ks-step">{_step_text(self.frames, step)}</span></div></div>')


def legend(kinds: set) -> str:
    kinds = set(kinds) | {"win", "o"}
    keys = "".join(f'<span><span class="ks-key" style="background:{fill};border-color:{stroke}"></span>'
                   f'{name}</span>' for kind, name, fill, stroke in _KEYS if kind in kinds)
    return f'<div class="ks-foot">{keys}</div>'


def _window_over(taps: Sequence[int], width: int, u: int, weights: Optional[Sequence[str]]) -> str:
    """The window's outline and, if there is room, each tap's weight in its cell's corner (as Dumoulin & Visin do)."""
    xs, ys = [i % width * u for i in taps], [i // width * u for i in taps]
    outline = (f'<rect class="span" x="{min(xs)}" y="{min(ys)}" width="{max(xs) - min(xs) + u}" '
               f'height="{max(ys) - min(ys) + u}"/>')
    marks = ""
    if weights is not None and u >= WEIGHTS_FROM:
        marks = "".join(f'<text class="wt" x="{x + u - 2}" y="{y + u - 2}">×{html.escape(w)}</text>'
                        for x, y, w in zip(xs, ys, weights))
    return f'<g class="ks-w">{outline}{marks}</g>'


class _OutputCells:
    """The output grid at any step: numbers before the step shown ("v"), the step's own on the current cell, later
    ones hidden (present, so that a step changes classes only). Each cell's number and opening tags are formatted
    once; `parts` gives them apart, for the static player to store each setting's numbers without their markup."""

    def __init__(self, width: int, u: int, texts: Sequence[str]) -> None:
        heads = [f'<text x="{i % width * u + u / 2:g}" y="{i // width * u + u / 2:g}"' for i in range(len(texts))]
        self.shown = [f'{head} class="v">' for head in heads]
        self.current = [f'{head} class="on">' for head in heads]
        self.hidden = [f"{head}>" for head in heads]
        self.texts = [f"{text}</text>" for text in texts]
        self.cells = '<g class="ks-out">' + _squares(width, u, range(len(texts)), "o")
        self.u = u

    def parts(self, step: int, at: Tuple[int, int]) -> Tuple[str, List[str], List[str], str]:
        """(cells and current mark, each number's opening tag at `step`, each number with its closing tag, end)."""
        mark = f'<rect class="cur ks-c" transform="{_translate(*at)}" width="{self.u}" height="{self.u}"/>'
        opening = [*self.shown[:step], self.current[step], *self.hidden[step + 1:]]
        return self.cells + mark, opening, self.texts, "</g>"

    def at(self, step: int, at: Tuple[int, int]) -> str:
        start, opening, texts, end = self.parts(step, at)
        return start + "".join(tag + text for tag, text in zip(opening, texts)) + end


def _step_text(frames: Frames, step: int) -> str:
    y, x = frames.output_position(step)
    return f"step {step + 1} / {frames.steps} · output[{y}, {x}]"


def size_text(frames: Frames) -> str:
    """The output-size formula of `frames.mode`, evaluated with its settings (one line, or one per axis if they differ)."""
    n, k, s, p, d = (frames.input.shape[1:], frames.kernel_size, frames.stride, frames.padding, frames.dilation)
    op, out = frames.output_padding, frames.output_size
    lines = []
    for axis in ((0,) if len({(n[0], k[0], s[0], p[0], d[0], op[0])} | {(n[1], k[1], s[1], p[1], d[1], op[1])}) == 1
                 else (0, 1)):
        name = "output size" if len(lines) == 0 and axis == 0 and n[0] == n[1] and k[0] == k[1] and s[0] == s[1] \
            and p[0] == p[1] and d[0] == d[1] and op[0] == op[1] else ("output height", "output width")[axis]
        if frames.mode == "transposed":
            formula = "(n − 1)·s − 2p + d·(k − 1) + output_padding + 1"
            values = f"({n[axis]} − 1)·{s[axis]} − 2·{p[axis]} + {d[axis]}·({k[axis]} − 1) + {op[axis]} + 1"
        else:
            formula = "⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1"
            values = f"⌊({n[axis]} + 2·{p[axis]} − {d[axis]}·({k[axis]} − 1) − 1) / {s[axis]}⌋ + 1"
        lines.append(f"{name} = {formula} = {values} = {out[axis]}")
    return "\n".join(lines)


def render_step(frames: Frames, step: int) -> str:
    """The picture, the arithmetic and the step counter at `step` (for many steps of one Frames, keep a Picture)."""
    return Picture(frames).html(step)


def _message(message: str, title: Optional[str] = None) -> str:
    heading = f'<div class="ks-title">{html.escape(title)}</div>' if title else ""
    return f'{heading}<div class="ks-msg" role="status">⚠ {html.escape(message)}</div>'


def render_message(message: str, title: Optional[str] = NO_OUTPUT) -> str:
    """A settings problem, shown where the picture would be (the live widget and the static player say the same)."""
    return f'<style>{STYLE}</style><div class="ks">{_message(message, title)}</div>'


# ---------------------------------------------------------------------------------------------------------------
# The static player: every setting its controls offer, computed here
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Setting:
    """One combination of control values: its frames, or the one-line reason torch refuses it."""
    values: Tuple                       # one value per control, in the controls' order
    frames: Optional[Frames] = None
    message: Optional[str] = None
    off: Tuple[int, ...] = ()           # controls that do not apply to this setting (shown disabled)
    kernel_label: str = "kernel size"
    kinds: set = field(default_factory=set)


@dataclass
class Control:
    name: str                           # the slide_frames argument, as the live widget's control is named
    label: str
    values: Tuple
    texts: Tuple[str, ...]


_ICONS = {
    "first": '<path d="M2 2h2v12H2zM14 2v12L5 8z"/>',
    "back": '<path d="M12 2v12L3 8z"/>',
    "play": '<path d="M3 2v12l11-6z"/>',
    "pause": '<path d="M3 2h4v12H3zM9 2h4v12H9z"/>',
    "next": '<path d="M4 2v12l9-6zM13 2h2v12h-2z"/>',     # a bar after the triangle: not the play button's shape
    "last": '<path d="M2 2v12l9-6zM12 2h2v12h-2z"/>',
}
_BUTTONS = (("first", "first step"), ("back", "previous step"), ("play", "play"), ("next", "next step"),
            ("last", "last step"))


def _icon(name: str) -> str:
    return f'<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">{_ICONS[name]}</svg>'


class _Table:
    """Equal strings stored once: the player refers to each fragment by its index."""

    def __init__(self) -> None:
        self.items: List[str] = []
        self._index: Dict[str, int] = {}

    def add(self, item: str) -> int:
        if item not in self._index:
            self._index[item] = len(self.items)
            self.items.append(item)
        return self._index[item]


def player_data(controls: Sequence[Control], settings: Sequence[Setting], initial: Tuple,
                interval_ms: int = 900) -> Dict:
    """What the static player embeds: shared fragments, one record per distinct setting, and which record each
    combination of control values picks (mixed radix over the controls, first control most significant)."""
    widest = max((widest_grid(s.frames) for s in settings if s.frames is not None), default=1)
    u = cell_size(widest)
    fragments, records, pick = _Table(), _Table(), []
    # Settings share most of their per-step data (a padding of 1 or 2 gives the same arithmetic in the middle, the
    # same output size gives the same step labels and moves): strings and per-step lists are stored once each.
    strings, lists = _Table(), _Table()

    def listed(values: Iterable) -> int:
        return lists.add(json.dumps(list(values), separators=(",", ":")))
    kernel_control = next((i for i, c in enumerate(controls) if c.name == "kernel_size"), -1)
    for setting in settings:
        if setting.frames is None:
            record = {"t": strings.add(NO_OUTPUT), "z": strings.add(""), "m": _message(setting.message),
                      "l": strings.add("no steps")}
        else:
            picture = Picture(setting.frames, u)
            record = {"t": strings.add(setting.frames.describe()), "z": strings.add(size_text(setting.frames)),
                      "p": [[listed(strings.add(t) for t in part[0]), listed(strings.add(t) for t in part[1])]
                            if isinstance(part, tuple) else fragments.add(part) for part in picture.player_parts(0)],
                      "n": setting.frames.steps,
                      "w": listed(v for offset in picture.offsets for v in offset),
                      "o": listed(v for offset in picture.cells for v in offset),
                      "e": listed(strings.add(e) for e in picture.equations),
                      "l": listed(strings.add(label) for label in picture.labels)}
        record["off"] = list(setting.off)
        record["kl"] = setting.kernel_label
        pick.append(records.add(json.dumps(record, separators=(",", ":"), ensure_ascii=False, sort_keys=True)))
    sizes = [len(c.values) for c in controls]
    mul = [1] * len(sizes)
    for i in range(len(sizes) - 2, -1, -1):
        mul[i] = mul[i + 1] * sizes[i + 1]
    kinds = set().union(*(s.kinds for s in settings))
    return {"f": fragments.items, "x": strings.items, "v": "[" + ",".join(lists.items) + "]",
            "s": "[" + ",".join(records.items) + "]", "pick": pick, "mul": mul,
            "kc": kernel_control, "ms": interval_ms, "icons": {"play": _icon("play"), "pause": _icon("pause")},
            "html": _shell(controls, initial, kinds)}


def _shell(controls: Sequence[Control], initial: Tuple, kinds: set) -> str:
    """The player's controls and empty picture; the script fills the picture in for the chosen setting."""
    selects = []
    for i, control in enumerate(controls):
        options = "".join(f'<option{" selected" if value == initial[i] else ""}>{html.escape(text)}</option>'
                          for value, text in zip(control.values, control.texts))
        selects.append(f'<label><span data-c="{i}">{html.escape(control.label)}</span>'
                       f'<select aria-label="{html.escape(control.label)}">{options}</select></label>')
    controls_html = f'<div class="ks-ctl">{"".join(selects)}</div>' if selects else ""
    buttons = "".join(f'<button type="button" data-act="{act}" aria-label="{name}" title="{name}">{_icon(act)}'
                      f'</button>' for act, name in _BUTTONS)
    return (f'{controls_html}<div class="ks-title"></div><div class="ks-size" aria-live="polite"></div>'
            f'<div class="ks-pic"></div><div class="ks-eq" aria-live="polite"></div>'
            f'<div class="ks-bar">{buttons}<input type="range" min="0" max="0" value="0" aria-label="step">'
            f'<span class="ks-step" aria-live="polite"></span></div>{legend(kinds)}')


_player_ids = itertools.count()


def render_player(frames_or_settings, interval_ms: int = 900, controls: Sequence[Control] = (),
                  initial: Tuple = ()) -> str:
    """A self-contained HTML player: play, pause, step, drag the slider, and (with `controls`) pick a setting.

    Pass one `Frames` for a player without setting controls, or `Setting`s covering every combination of the
    `controls`' values (in mixed-radix order, first control most significant) with `initial` the values shown first.
    """
    if isinstance(frames_or_settings, Frames):
        settings = [Setting((), frames_or_settings, kinds=set(canvas_kinds(frames_or_settings)))]
    else:
        settings = list(frames_or_settings)
    data = player_data(controls, settings, tuple(initial), interval_ms)
    records, lists = data.pop("s"), data.pop("v")
    text = (json.dumps(data, separators=(",", ":"), ensure_ascii=False)[:-1] + ',"v":' + lists + ',"s":' + records
            + "}")
    text = text.replace("</", "<\\/")   # a data string can never close the script element early
    # Deterministic (re-executing a notebook changes nothing) yet unique when one page shows several players.
    element_id = f"ks-{hashlib.sha1(text.encode()).hexdigest()[:10]}-{next(_player_ids)}"
    return (f'<style>{STYLE}</style><div class="ks ks-player" id="{element_id}" data-playing="0">'
            f'<script type="application/json" class="ks-data">{text}</script>'
            f'<script>{PLAYER_JS}window.bookKsPlayer(document.getElementById({json.dumps(element_id)}));</script></div>')
