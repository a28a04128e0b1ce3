"""Drawing the frames: one SVG picture per step, and a self-contained HTML player for pages without a kernel.

The picture has two layers. The *grids* (cells and their numbers) never change while the kernel slides. The
*marks* (the window's cells, its outline, the kernel weights in their corners, the filled and current output cells
and the output numbers) move from step to step. `render_step` draws both for one step (the live widget shows it).
`render_player` draws the same picture at step 0 and adds a small inline script that moves the marks to any step,
using the window positions and outputs embedded as JSON; nothing is fetched, so it plays on a static page with no
kernel and no network, and its size grows with the number of cells, not with the number of steps times cells.
"""
from __future__ import annotations

import hashlib
import html
import itertools
import json
from typing import Dict, List, Optional, Sequence, Tuple

from book.viz.frames import PAD, ZERO, Frames, format_numbers

__all__ = ["Picture", "render_step", "render_player", "render_message", "STYLE"]

MAX_WIDTH = 740        # the book's content column, in CSS pixels
MAX_CELL, MIN_CELL = 40, 6
MARGIN, LABEL, GAP = 6, 22, 30   # px around the picture, above each grid for its label, between grids
LABEL_CHAR = 6.6                 # px per character of a 12 px label, to keep labels from running into each other

STYLE = """
.ks{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933;background:#fff;
 border:1px solid #e3e8ef;border-radius:8px;padding:10px 12px;margin:6px 0;max-width:100%;box-sizing:border-box}
.ks-title{font-size:13px;color:#52606d;margin:0 0 6px}
.ks svg{display:block;max-width:100%;height:auto}
.ks svg text{text-anchor:middle;dominant-baseline:central;font-variant-numeric:tabular-nums;fill:#1d3b5e}
.ks .lbl{font-size:12px;fill:#52606d;text-anchor:start;dominant-baseline:auto}
.ks .c-i{fill:#e6f0fb;stroke:#8fb0d6}.ks .c-u{fill:#f3f4f6;stroke:#c9ced6}
.ks .c-p{fill:#fff;stroke:#b8c0cc;stroke-dasharray:3 2}.ks .c-z{fill:#f5f1fc;stroke:#b9a8dc;stroke-dasharray:2 2}
.ks .c-k{fill:#ffe6ad;stroke:#cf8a12}.ks .c-o{fill:#fff;stroke:#c9d2dc}
.ks text.q{fill:#a3abb6}.ks .ks-kernel text{fill:#5a3800;font-weight:600}
.ks .win{fill:#ffd27a;stroke:#cf8a12}.ks text.on{fill:#3d2600;font-weight:600}
.ks .done{fill:#d3efe6;stroke:#6bbfa5}.ks .cur{fill:#3aa886;stroke:#1f7a60}
.ks .ks-out text{fill:#124d3d}.ks .ks-out text.on{fill:#fff;font-weight:700}
.ks .span{fill:none;stroke:#b86f00;stroke-width:2.5}
.ks text.wt{fill:#8a4b00;font-weight:600;text-anchor:end;dominant-baseline:auto}
.ks-eq{font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;background:#f7f9fb;
 border-radius:6px;padding:6px 8px;margin-top:6px;color:#1f2933;min-height:1.5em;overflow-wrap:anywhere}
.ks-foot{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#52606d;margin-top:6px;align-items:center}
.ks-key{display:inline-block;width:11px;height:11px;border-radius:2px;vertical-align:-1px;margin-right:4px;border:1px solid}
.ks-msg{background:#fff7e6;border:1px solid #f0b95b;color:#6b4100;border-radius:6px;padding:8px 10px;font-size:14px}
.ks-bar{display:flex;gap:6px;align-items:center;margin-top:8px}
.ks-bar button{display:inline-flex;align-items:center;justify-content:center;width:32px;height:28px;padding:0;
 border:1px solid #c9d2dc;border-radius:6px;background:#f7f9fb;color:#1f2933;cursor:pointer}
.ks-bar button:hover{background:#e8eef5}.ks-bar button svg{width:14px;height:14px;fill:currentColor}
.ks-bar input[type=range]{flex:1;min-width:80px;accent-color:#3aa886}
.ks-step{font-size:12px;color:#52606d;min-width:7.5em;text-align:right;font-variant-numeric:tabular-nums}
"""

_KEYS = (("i", "input", "#e6f0fb", "#8fb0d6"), ("p", "padding", "#fff", "#b8c0cc"),
         ("z", "inserted zero", "#f5f1fc", "#b9a8dc"), ("u", "never read", "#f3f4f6", "#c9ced6"),
         ("win", "window", "#ffd27a", "#cf8a12"), ("o", "output", "#d3efe6", "#6bbfa5"))


# ---------------------------------------------------------------------------------------------------------------
# Layout: where every grid sits
# ---------------------------------------------------------------------------------------------------------------

class _Layout:
    """Cell size, labels and the top-left corner of every grid, sized to fit the book's content width."""

    def __init__(self, frames: Frames) -> None:
        (hc, wc), (kh, kw), (oh, ow) = frames.canvas_size, frames.kernel_size, frames.output_size
        self.canvas_label = _canvas_label(frames)
        self.kernel_label = "kernel rotated 180°" if frames.mode in ("convolution", "transposed") else "kernel"
        self.output_label = "output" + (" (sum of channels)" if not frames.is_pooling and frames.channels > 1 else "")
        columns = [wc, ow] if frames.is_pooling else [wc, kw, ow]
        suffix = f", channel {frames.channels - 1}" if frames.channels > 1 else ""   # the longest label of a column
        labels = [self.canvas_label + suffix, self.output_label + suffix] if frames.is_pooling else \
            [self.canvas_label + suffix, self.kernel_label, self.output_label]
        gaps = (len(columns) - 1) * GAP + 2 * MARGIN
        self.cell = u = int(max(MIN_CELL, min(MAX_CELL, (MAX_WIDTH - gaps) / sum(columns))))
        widths = [max(n * u, len(label) * LABEL_CHAR) for n, label in zip(columns, labels)]
        xs = list(itertools.accumulate([MARGIN] + [w + GAP for w in widths[:-1]]))
        row_height = LABEL + max(hc, kh, oh) * u + 10
        tops = [MARGIN + c * row_height + LABEL for c in range(frames.channels)]
        self.canvas = [(xs[0], y) for y in tops]
        self.kernel = [] if frames.is_pooling else [(xs[1], y) for y in tops]
        self.output = [(xs[-1], y) for y in tops[:frames.output.shape[0]]]
        self.width = int(xs[-1] + widths[-1] + MARGIN)
        self.height = MARGIN + frames.channels * row_height


def _canvas_label(frames: Frames) -> str:
    if frames.mode == "transposed":
        return "input, zeros inserted, padded"
    return "input, padded" if max(frames.padding) > 0 else "input"


def _canvas_kinds(frames: Frames) -> List[str]:
    unread = frames.unread_cells().flatten().tolist()
    return ["p" if code == PAD else "z" if code == ZERO else "u" if never_read else "i"
            for code, never_read in zip(frames.source.flatten().tolist(), unread)]


# ---------------------------------------------------------------------------------------------------------------
# The picture: grids drawn once per set of frames, marks redrawn per step
# ---------------------------------------------------------------------------------------------------------------

def _grid_coordinates(origin: Tuple[float, float], width: int, count: int, u: int, offset: float):
    """The x of every column and y of every row of a grid, formatted once (a grid has far fewer of them than cells)."""
    rows = -(-count // width)
    return ([f"{origin[0] + (col + offset) * u:g}" for col in range(width)],
            [f"{origin[1] + (row + offset) * u:g}" for row in range(rows)])


def _squares(origin: Tuple[float, float], width: int, u: int, indices: Sequence[int], kind: str) -> str:
    """One path of cell outlines for all `indices` of a grid `width` cells wide (far fewer bytes than <rect>s)."""
    if not indices:
        return ""
    xs, ys = _grid_coordinates(origin, width, max(indices) + 1, u, 0)
    d = "".join([f"M{xs[i % width]} {ys[i // width]}h{u}v{u}h-{u}z" for i in indices])
    return f'<path class="c-{kind}" d="{d}"/>'


class _Numbers:
    """One <text> per cell, centred, in row-major order (the player finds them by index).

    `plain` holds every element with its resting classes; `variant(i, css)` gives cell i with extra classes, so a
    step re-formats only the few cells that change. Numbers need no escaping: digits, '.', '−' and '∞' only.
    """

    def __init__(self, origin: Tuple[float, float], width: int, u: int, texts: Sequence[str],
                 classes: Optional[Sequence[str]] = None) -> None:
        xs, ys = _grid_coordinates(origin, width, len(texts), u, 0.5)
        self.heads = [f'<text x="{xs[i % width]}" y="{ys[i // width]}"' for i in range(len(texts))]
        self.texts, self.classes = list(texts), list(classes) if classes else [""] * len(texts)
        self.plain = [self._element(i, self.classes[i]) for i in range(len(texts))]

    def _element(self, i: int, css: str, text: Optional[str] = None) -> str:
        attribute = f' class="{css}"' if css else ""
        return f"{self.heads[i]}{attribute}>{self.texts[i] if text is None else text}</text>"

    def variant(self, i: int, extra: str, text: Optional[str] = None) -> str:
        return self._element(i, f"{self.classes[i]} {extra}".strip(), text)

    def empty(self, i: int) -> str:
        return self._element(i, self.classes[i], "")


def _label(origin: Tuple[float, float], text: str) -> str:
    return f'<text class="lbl" x="{origin[0]:g}" y="{origin[1] - 7:g}">{html.escape(text)}</text>'


class Picture:
    """The SVG of one `Frames` at any step.

    Everything that stays put (cells, numbers, labels) is formatted once here; `svg(step)` only places the marks
    and picks, for the few cells that change, their highlighted or filled variant. That keeps a redraw fast.
    """

    def __init__(self, frames: Frames) -> None:
        self.frames = frames
        self.layout = layout = _Layout(frames)
        u = layout.cell
        (hc, wc), (kh, kw), (oh, ow) = frames.canvas_size, frames.kernel_size, frames.output_size
        self.kinds = kinds = _canvas_kinds(frames)
        self._head = (f'<svg class="ks-svg" viewBox="0 0 {layout.width} {layout.height}" width="{layout.width}" '
                      f'height="{layout.height}" role="img" aria-label="{html.escape(frames.describe())}" '
                      f'style="font-size:{max(5, round(u * 0.4))}px">')
        grey = ["q" if kind in "pz" else "" for kind in kinds]
        self._canvas = []    # per channel: (label + cells, numbers)
        for c, origin in enumerate(layout.canvas):
            label = layout.canvas_label + (f", channel {c}" if frames.channels > 1 else "")
            cells = _label(origin, label) + "".join(
                _squares(origin, wc, u, [i for i, k in enumerate(kinds) if k == kind], kind) for kind in "iupz")
            self._canvas.append((cells, _Numbers(origin, wc, u, format_numbers(frames.canvas[c]), grey)))
        self._weights = [format_numbers(kernel) for kernel in
                         (frames.applied_kernel if frames.applied_kernel is not None else [])]
        self._kernels = "".join(
            _label(origin, layout.kernel_label) + _squares(origin, kw, u, range(kh * kw), "k")
            + '<g class="ks-kernel">' + "".join(_Numbers(origin, kw, u, weights).plain) + "</g>"
            for origin, weights in zip(layout.kernel, self._weights))
        self._outputs = []   # per channel: (label + cells, numbers)
        for c, origin in enumerate(layout.output):
            label = layout.output_label + (f", channel {c}" if frames.is_pooling and frames.channels > 1 else "")
            self._outputs.append((_label(origin, label) + _squares(origin, ow, u, range(oh * ow), "o"),
                                  _Numbers(origin, ow, u, format_numbers(frames.output[c]))))

    def svg(self, step: int) -> str:
        frames, layout, u = self.frames, self.layout, self.layout.cell
        wc, ow = frames.canvas_size[1], frames.output_size[1]
        taps = frames.windows[step].tolist()
        parts = [self._head]
        for origin, (cells, numbers) in zip(layout.canvas, self._canvas):
            texts = list(numbers.plain)
            for i in taps:
                texts[i] = numbers.variant(i, "on")
            parts += [cells, _window_cells(origin, wc, u, taps), '<g class="ks-vals">', *texts, "</g>"]
        parts.append(self._kernels)
        for origin, (cells, numbers) in zip(layout.output, self._outputs):
            later = [numbers.empty(i) for i in range(step + 1, len(numbers.plain))]
            parts += [cells, _output_marks(origin, ow, u, step), '<g class="ks-out">', *numbers.plain[:step],
                      numbers.variant(step, "on"), *later, "</g>"]
        for c, origin in enumerate(layout.canvas):
            parts.append(_window_outline(origin, wc, u, taps))
            if not frames.is_pooling:
                parts.append(_window_weights(origin, wc, u, taps, self._weights[c]))
        parts.append("</svg>")
        return "".join(parts)

    def body(self, step: int) -> str:
        return (f'<div class="ks-title">{html.escape(self.frames.describe())}</div>{self.svg(step)}'
                f'<div class="ks-eq">{html.escape(chr(10).join(self.frames.equation(step)))}</div>')

    def legend(self) -> str:
        kinds = set(self.kinds) | {"win", "o"}
        keys = "".join(f'<span><span class="ks-key" style="background:{fill};border-color:{stroke}"></span>'
                       f'{name}</span>' for kind, name, fill, stroke in _KEYS if kind in kinds)
        return f'<div class="ks-foot">{keys}</div>'

    def html(self, step: int) -> str:
        """The picture, the arithmetic and the step counter at `step`, as an HTML fragment with its own style."""
        return (f'<style>{STYLE}</style><div class="ks">{self.body(step)}{self.legend()}'
                f'<div class="ks-foot"><span class="ks-step">{_step_text(self.frames, step)}</span></div></div>')


def _cell_corner(origin, width: int, u: int, index: int) -> Tuple[float, float]:
    return origin[0] + (index % width) * u, origin[1] + (index // width) * u


def _window_cells(origin, width: int, u: int, taps: Sequence[int]) -> str:
    rects = "".join(f'<rect x="{x:g}" y="{y:g}" width="{u}" height="{u}"/>'
                    for x, y in (_cell_corner(origin, width, u, i) for i in taps))
    return f'<g class="win">{rects}</g>'


def _window_outline(origin, width: int, u: int, taps: Sequence[int]) -> str:
    corners = [_cell_corner(origin, width, u, i) for i in taps]
    (left, top), (right, bottom) = map(min, zip(*corners)), map(max, zip(*corners))
    return f'<rect class="span" x="{left:g}" y="{top:g}" width="{right - left + u:g}" height="{bottom - top + u:g}"/>'


def _window_weights(origin, width: int, u: int, taps: Sequence[int], weights: Sequence[str]) -> str:
    """Each tap's weight in the bottom-right corner of its cell, as in Dumoulin & Visin's figures (if room)."""
    if u < 20:
        return '<g class="ks-wts"></g>'
    texts = "".join(f'<text class="wt" x="{x + u - 2:g}" y="{y + u - 2:g}">×{html.escape(w)}</text>'
                    for (x, y), w in zip((_cell_corner(origin, width, u, i) for i in taps), weights))
    return f'<g class="ks-wts" style="font-size:{max(7, round(u * 0.26))}px">{texts}</g>'


def _output_marks(origin, width: int, u: int, step: int) -> str:
    """The finished output cells (full rows above, then the start of the current row) and the current one."""
    row, col = divmod(step, width)
    x0, y0 = origin
    return (f'<rect class="done" x="{x0:g}" y="{y0:g}" width="{width * u}" height="{row * u}"/>'
            f'<rect class="done" x="{x0:g}" y="{y0 + row * u:g}" width="{col * u}" height="{u}"/>'
            f'<rect class="cur" x="{x0 + col * u:g}" y="{y0 + row * u:g}" width="{u}" height="{u}"/>')


def _step_text(frames: Frames, step: int) -> str:
    y, x = frames.output_position(step)
    return f"step {step + 1} / {frames.steps} · output[{y}, {x}]"


def render_step(frames: Frames, step: int) -> str:
    """The picture, the arithmetic and the step counter at `step` (for many steps of one Frames, keep a Picture)."""
    return Picture(frames).html(step)


def render_message(message: str, title: Optional[str] = None) -> str:
    """A settings problem, shown where the picture would be."""
    heading = f'<div class="ks-title">{html.escape(title)}</div>' if title else ""
    return f'<style>{STYLE}</style><div class="ks">{heading}<div class="ks-msg">⚠ {html.escape(message)}</div></div>'

# ---------------------------------------------------------------------------------------------------------------
# The static player
# ---------------------------------------------------------------------------------------------------------------

_ICONS = {
    "first": '<path d="M2 2h2v12H2zM14 2v12L5 8z"/>',
    "back": '<path d="M12 2v12L3 8z"/>',
    "play": '<path d="M4 2v12l10-6z"/>',
    "pause": '<path d="M3 2h4v12H3zM9 2h4v12H9z"/>',
    "next": '<path d="M4 2v12l9-6z"/>',
}

# Moves the marks exactly as Picture.svg places them for step t, and writes the arithmetic as Frames.equation does
# (reading the numbers from the picture's own text). ES5, no dependencies, scoped to its own root element.
_PLAYER_JS = r"""
(function(root){
var D=JSON.parse(root.querySelector('script.ks-data').textContent),u=D.u,t=0,timer=null;
var svg=root.querySelector('svg.ks-svg'),q=function(s){return svg.querySelectorAll(s);};
var vals=q('.ks-vals'),kern=q('.ks-kernel'),wins=q('g.win'),spans=q('.span'),wts=q('.ks-wts');
var outs=q('.ks-out'),dones=q('.done'),curs=q('.cur'),lit=[];
var slider=root.querySelector('input[type=range]'),playBtn=root.querySelector('[data-act=play]');
var eq=root.querySelector('.ks-eq'),label=root.querySelector('.ks-step');
function put(el,x,y,w,h){el.setAttribute('x',x);el.setAttribute('y',y);
 if(w!==undefined){el.setAttribute('width',w);el.setAttribute('height',h);}}
function texts(g){return g.querySelectorAll('text');}
function paren(s){return s.charAt(0)==='\u2212'?'('+s+')':s;}
function equation(taps){
 var lines=[],shares=[],pool=D.mode==='max'||D.mode==='avg';
 for(var c=0;c<vals.length;c++){
  var cells=texts(vals[c]),v=[],pre=vals.length>1?'channel '+c+': ':'';
  for(var j=0;j<taps.length;j++)v.push(cells[taps[j]].textContent);
  if(D.mode==='max')lines.push(pre+'max('+v.join(', ')+') = '+D.out[c][t]);
  else if(D.mode==='avg')lines.push(pre+'('+v.join(' + ')+') / '+v.length+' = '+D.out[c][t]);
  else{var w=texts(kern[c]),terms=[];
   for(j=0;j<v.length;j++)terms.push(v[j]+'\u00b7'+paren(w[j].textContent));
   lines.push(pre+terms.join(' + ')+' = '+D.share[c][t]);shares.push(D.share[c][t]);}}
 if(!pool&&vals.length>1)lines.push('sum over channels: '+shares.join(' + ')+' = '+D.out[0][t]);
 return lines.join('\n');}
function show(s){
 t=Math.max(0,Math.min(D.n-1,s));
 var taps=[],r,c,j,k;
 for(j=0;j<D.offs.length;j++)taps.push(D.base[t]+D.offs[j]);
 for(j=0;j<lit.length;j++)lit[j].classList.remove('on');lit=[];
 for(c=0;c<vals.length;c++){
  var o=D.canvas[c],cells=texts(vals[c]),rects=wins[c].children,x0=1e9,y0=1e9,x1=-1e9,y1=-1e9;
  for(j=0;j<taps.length;j++){
   var x=o[0]+(taps[j]%D.wc)*u,y=o[1]+Math.floor(taps[j]/D.wc)*u;
   put(rects[j],x,y);cells[taps[j]].classList.add('on');lit.push(cells[taps[j]]);
   x0=Math.min(x0,x);y0=Math.min(y0,y);x1=Math.max(x1,x);y1=Math.max(y1,y);
   if(wts[c]&&wts[c].children[j])put(wts[c].children[j],x+u-2,y+u-2);}
  put(spans[c],x0,y0,x1-x0+u,y1-y0+u);}
 r=Math.floor(t/D.ow);c=t%D.ow;
 for(k=0;k<outs.length;k++){
  var p=D.output[k],ot=texts(outs[k]);
  put(dones[2*k],p[0],p[1],D.ow*u,r*u);put(dones[2*k+1],p[0],p[1]+r*u,c*u,u);put(curs[k],p[0]+c*u,p[1]+r*u);
  for(j=0;j<ot.length;j++){ot[j].textContent=j<=t?D.out[k][j]:'';
   if(j===t)ot[j].classList.add('on');else ot[j].classList.remove('on');}}
 eq.textContent=equation(taps);slider.value=t;
 label.textContent='step '+(t+1)+' / '+D.n+' \u00b7 output['+r+', '+c+']';}
function setPlaying(on){
 if(timer){clearInterval(timer);timer=null;}
 if(on){if(t>=D.n-1)show(0);timer=setInterval(function(){if(t>=D.n-1)setPlaying(false);else show(t+1);},D.ms);}
 playBtn.innerHTML=on?D.icons.pause:D.icons.play;playBtn.setAttribute('aria-label',on?'pause':'play');
 playBtn.title=on?'pause':'play';root.setAttribute('data-playing',on?'1':'0');}
root.querySelector('[data-act=first]').onclick=function(){setPlaying(false);show(0);};
root.querySelector('[data-act=back]').onclick=function(){setPlaying(false);show(t-1);};
root.querySelector('[data-act=next]').onclick=function(){setPlaying(false);show(t+1);};
playBtn.onclick=function(){setPlaying(!timer);};
slider.oninput=function(){setPlaying(false);show(+slider.value);};
show(0);
})(document.getElementById(__ROOT__));
"""


def _icon(name: str) -> str:
    return f'<svg viewBox="0 0 16 16" aria-hidden="true">{_ICONS[name]}</svg>'


def player_data(frames: Frames, interval_ms: int = 900) -> Dict:
    """What the player needs beyond the picture: the window of every step as its first cell plus fixed offsets
    (a window is the same shape everywhere), the outputs, and each channel's share of each output."""
    layout = _Layout(frames)
    base = frames.windows[:, 0]
    data = {
        "n": frames.steps, "mode": frames.mode, "u": layout.cell, "wc": frames.canvas_size[1],
        "ow": frames.output_size[1], "ms": interval_ms, "canvas": layout.canvas, "output": layout.output,
        "base": base.tolist(), "offs": (frames.windows[0] - base[0]).tolist(),
        "out": [format_numbers(channel) for channel in frames.output],
        "icons": {"play": _icon("play"), "pause": _icon("pause")},
    }
    if not frames.is_pooling:
        data["share"] = [format_numbers(channel) for channel in frames.contributions]
    return data


_player_ids = itertools.count()


def render_player(frames: Frames, interval_ms: int = 900) -> str:
    """A self-contained HTML animation of every step: play, pause, step back and forth, or drag the slider."""
    data = json.dumps(player_data(frames, interval_ms), separators=(",", ":"), ensure_ascii=False)
    data = data.replace("</", "<\\/")   # a data string can never close the script element early
    # Deterministic (re-executing a notebook changes nothing) yet unique when one page shows several players.
    element_id = f"ks-{hashlib.sha1(data.encode()).hexdigest()[:10]}-{next(_player_ids)}"
    buttons = "".join(f'<button type="button" data-act="{act}" aria-label="{act}" title="{act}">{_icon(act)}</button>'
                      for act in ("first", "back", "play", "next"))
    picture = Picture(frames)
    return (f'<style>{STYLE}</style><div class="ks ks-player" id="{element_id}" data-playing="0">'
            f'{picture.body(0)}'
            f'<div class="ks-bar">{buttons}<input type="range" min="0" max="{frames.steps - 1}" value="0" '
            f'aria-label="step"><span class="ks-step">{_step_text(frames, 0)}</span></div>{picture.legend()}'
            f'<script type="application/json" class="ks-data">{data}</script>'
            f'<script>{_PLAYER_JS.replace("__ROOT__", json.dumps(element_id))}</script></div>')
