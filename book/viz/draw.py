"""Drawing the frames: one SVG picture per step, and a self-contained HTML player for pages without a kernel.

`render_step` draws the picture at one step (the live widget shows it). `render_player` draws the picture once and
adds the data of every step plus a small inline script that moves the highlight exactly as `render_step` places it;
nothing is fetched, so it plays on a static page with no kernel and no network.
"""
from __future__ import annotations

import hashlib
import html
import itertools
import json
from typing import Dict, List, Optional, Sequence, Tuple

from book.viz.frames import PAD, ZERO, Frames, format_number

__all__ = ["render_step", "render_player", "render_message", "STYLE"]

MAX_WIDTH = 740        # the book's content column, in CSS pixels
MAX_CELL, MIN_CELL = 40, 12
MARGIN, LABEL = 6, 22  # px around the picture; px above each grid for its label

STYLE = """
.ks{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933;background:#fff;
 border:1px solid #e3e8ef;border-radius:8px;padding:10px 12px;margin:6px 0;max-width:100%;box-sizing:border-box}
.ks-title{font-size:13px;color:#52606d;margin:0 0 6px}
.ks svg{display:block;max-width:100%;height:auto}
.ks svg text{text-anchor:middle;dominant-baseline:central;font-variant-numeric:tabular-nums}
.ks .lbl{font-size:12px;fill:#52606d;text-anchor:start;dominant-baseline:auto}
.ks .i rect{fill:#e6f0fb;stroke:#8fb0d6}.ks .i text{fill:#1d3b5e}
.ks .u rect{fill:#f3f4f6;stroke:#c9ced6}.ks .u text{fill:#9aa3ae}
.ks .p rect{fill:#fff;stroke:#b8c0cc;stroke-dasharray:3 2}.ks .p text{fill:#a3abb6}
.ks .z rect{fill:#fbfcfd;stroke:#c6ccd5;stroke-dasharray:1 2}.ks .z text{fill:#a3abb6}
.ks .k rect{fill:#ffe6ad;stroke:#cf8a12}.ks .k text{fill:#5a3800;font-weight:600}
.ks .win rect{fill:#ffd27a;stroke:#cf8a12}.ks .win text{fill:#3d2600;font-weight:600}
.ks .o rect{fill:#fff;stroke:#c9d2dc}
.ks .o.done rect{fill:#d3efe6;stroke:#6bbfa5}.ks .o.done text{fill:#124d3d}
.ks .o.cur rect{fill:#3aa886;stroke:#1f7a60}.ks .o.cur text{fill:#fff;font-weight:700}
.ks .span{fill:none;stroke:#b86f00;stroke-width:2.5;rx:3}
.ks .wt{fill:#8a4b00;font-weight:600;text-anchor:end;dominant-baseline:auto}
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
         ("z", "inserted zero", "#fbfcfd", "#c6ccd5"), ("u", "never read", "#f3f4f6", "#c9ced6"),
         ("win", "window", "#ffd27a", "#cf8a12"), ("o", "output", "#d3efe6", "#6bbfa5"))


# ---------------------------------------------------------------------------------------------------------------
# Layout: where every grid sits
# ---------------------------------------------------------------------------------------------------------------

class _Layout:
    """Cell size and the top-left corner of every grid, chosen so the picture fits the book's content width."""

    def __init__(self, frames: Frames) -> None:
        (hc, wc), (kh, kw), (oh, ow) = frames.canvas_size, frames.kernel_size, frames.output_size
        blocks = [wc, ow] if frames.is_pooling else [wc, kw, ow]
        gaps = (len(blocks) - 1) * 30 + 2 * MARGIN
        self.cell = int(max(MIN_CELL, min(MAX_CELL, (MAX_WIDTH - gaps) / sum(blocks))))
        u = self.cell
        self.gap = max(30, u)
        row_height = LABEL + max(hc, kh, oh) * u + 10
        xs = list(itertools.accumulate([MARGIN] + [b * u + self.gap for b in blocks[:-1]]))
        self.canvas = [(xs[0], MARGIN + c * row_height + LABEL) for c in range(frames.channels)]
        self.kernel = [] if frames.is_pooling else [(xs[1], y) for _, y in self.canvas]
        output_rows = frames.output.shape[0]
        self.output = [(xs[-1], MARGIN + c * row_height + LABEL) for c in range(output_rows)]
        self.width = xs[-1] + blocks[-1] * u + MARGIN
        self.height = MARGIN + frames.channels * row_height


def _cell(kind: str, x: float, y: float, u: int, text: str) -> str:
    return (f'<g class="{kind}"><rect x="{x:g}" y="{y:g}" width="{u}" height="{u}"/>'
            f'<text x="{x + u / 2:g}" y="{y + u / 2:g}">{html.escape(text)}</text></g>')


def _canvas_kinds(frames: Frames) -> List[str]:
    unread = frames.unread_cells().flatten().tolist()
    kinds = []
    for code, never_read in zip(frames.source.flatten().tolist(), unread):
        kinds.append("p" if code == PAD else "z" if code == ZERO else "u" if never_read else "i")
    return kinds


# ---------------------------------------------------------------------------------------------------------------
# The picture at one step
# ---------------------------------------------------------------------------------------------------------------

def _svg(frames: Frames, step: int) -> str:
    layout = _Layout(frames)
    u = layout.cell
    (hc, wc), (kh, kw), (oh, ow) = frames.canvas_size, frames.kernel_size, frames.output_size
    window = set(frames.windows[step].tolist())
    kinds = _canvas_kinds(frames)
    font = max(8, round(u * 0.4))
    parts = [f'<svg class="ks-svg" viewBox="0 0 {layout.width} {layout.height}" width="{layout.width}" '
             f'height="{layout.height}" role="img" aria-label="{html.escape(frames.describe())}" '
             f'style="font-size:{font}px">']
    what = _canvas_label(frames)
    for c, (x0, y0) in enumerate(layout.canvas):
        label = what + (f", channel {c}" if frames.channels > 1 else "")
        parts.append(f'<text class="lbl" x="{x0}" y="{y0 - 7}">{label}</text><g class="ks-canvas">')
        values = [format_number(v) for v in frames.canvas[c].flatten().tolist()]
        for index, (kind, text) in enumerate(zip(kinds, values)):
            row, col = divmod(index, wc)
            parts.append(_cell(kind + (" win" if index in window else ""), x0 + col * u, y0 + row * u, u, text))
        parts.append("</g>")
    for c, (x0, y0) in enumerate(layout.kernel):
        label = "kernel rotated 180°" if frames.mode in ("convolution", "transposed") else "kernel"
        parts.append(f'<text class="lbl" x="{x0}" y="{y0 - 7}">{label}</text><g class="ks-kernel">')
        for index, w in enumerate(frames.applied_kernel[c].flatten().tolist()):
            row, col = divmod(index, kw)
            parts.append(_cell("k", x0 + col * u, y0 + row * u, u, format_number(w)))
        parts.append("</g>")
    for c, (x0, y0) in enumerate(layout.output):
        label = "output" + (f", channel {c}" if frames.is_pooling and frames.channels > 1 else "")
        if not frames.is_pooling and frames.channels > 1:
            label += " (sum of channels)"
        parts.append(f'<text class="lbl" x="{x0}" y="{y0 - 7}">{label}</text><g class="ks-output">')
        for index, value in enumerate(frames.output[c].flatten().tolist()):
            row, col = divmod(index, ow)
            state = " done" if index < step else " cur" if index == step else ""
            parts.append(_cell("o" + state, x0 + col * u, y0 + row * u, u,
                               format_number(value) if index <= step else ""))
        parts.append("</g>")
    parts.append(_window_marks(frames, layout, step))
    parts.append("</svg>")
    return "".join(parts)


def _canvas_label(frames: Frames) -> str:
    if frames.mode == "transposed":
        return "input with zeros inserted and padded"
    return "input, padded" if max(frames.padding) > 0 else "input"


def _window_marks(frames: Frames, layout: _Layout, step: int) -> str:
    """The outline around the window's span and, for convolutions, each tap's weight in its corner.

    Drawn last so they sit on top; the player moves these same elements from step to step.
    """
    u = layout.cell
    cells = frames.window_cells(step)
    rows, cols = [r for r, _ in cells], [c for _, c in cells]
    parts = ['<g class="ks-marks">']
    for x0, y0 in layout.canvas:
        parts.append(f'<rect class="span" x="{x0 + min(cols) * u:g}" y="{y0 + min(rows) * u:g}" '
                     f'width="{(max(cols) - min(cols) + 1) * u}" height="{(max(rows) - min(rows) + 1) * u}"/>')
    if not frames.is_pooling and u >= 20:
        size = max(7, round(u * 0.26))
        for c, (x0, y0) in enumerate(layout.canvas):
            weights = [format_number(w) for w in frames.applied_kernel[c].flatten().tolist()]
            parts.append(f'<g class="ks-wts" style="font-size:{size}px">')
            for (row, col), w in zip(cells, weights):
                parts.append(f'<text class="wt" x="{x0 + (col + 1) * u - 2:g}" y="{y0 + (row + 1) * u - 2:g}">'
                             f'×{html.escape(w)}</text>')
            parts.append("</g>")
    parts.append("</g>")
    return "".join(parts)


def _legend(frames: Frames) -> str:
    kinds = set(_canvas_kinds(frames)) | {"win", "o"}
    keys = "".join(f'<span><span class="ks-key" style="background:{fill};border-color:{stroke}"></span>{name}</span>'
                   for kind, name, fill, stroke in _KEYS if kind in kinds)
    return f'<div class="ks-foot">{keys}</div>'


def _step_text(frames: Frames, step: int) -> str:
    y, x = frames.output_position(step)
    return f"step {step + 1} / {frames.steps} · output[{y}, {x}]"


def _body(frames: Frames, step: int) -> str:
    return (f'<div class="ks-title">{html.escape(frames.describe())}</div>{_svg(frames, step)}'
            f'<div class="ks-eq">{html.escape(chr(10).join(frames.equation(step)))}</div>')


def render_step(frames: Frames, step: int) -> str:
    """The picture, the arithmetic and the step counter at `step`, as an HTML fragment with its own style."""
    return (f'<style>{STYLE}</style><div class="ks">{_body(frames, step)}{_legend(frames)}'
            f'<div class="ks-foot"><span class="ks-step">{_step_text(frames, step)}</span></div></div>')


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

# Mirrors _svg/_window_marks: the same classes, texts and positions for step t. Kept in ES5 with no dependencies.
_PLAYER_JS = r"""
(function(root){
var D=JSON.parse(root.querySelector('script.ks-data').textContent);
var svg=root.querySelector('svg.ks-svg'),canvases=svg.querySelectorAll('.ks-canvas'),outs=svg.querySelectorAll('.ks-output');
var spans=svg.querySelectorAll('.span'),wts=svg.querySelectorAll('.ks-wts');
var slider=root.querySelector('input[type=range]'),playBtn=root.querySelector('[data-act=play]');
var eq=root.querySelector('.ks-eq'),label=root.querySelector('.ks-step'),lit=[],t=0,timer=null;
function at(el){var r=el.firstChild;return [+r.getAttribute('x'),+r.getAttribute('y')];}
function show(s){
 t=Math.max(0,Math.min(D.n-1,s));
 for(var i=0;i<lit.length;i++)lit[i].classList.remove('win');lit=[];
 var taps=D.win[t];
 for(var c=0;c<canvases.length;c++){
  var cells=canvases[c].children,x0=1e9,y0=1e9,x1=-1e9,y1=-1e9;
  for(var j=0;j<taps.length;j++){var el=cells[taps[j]];el.classList.add('win');lit.push(el);
   var p=at(el);x0=Math.min(x0,p[0]);y0=Math.min(y0,p[1]);x1=Math.max(x1,p[0]);y1=Math.max(y1,p[1]);
   if(wts[c]){var w=wts[c].children[j];w.setAttribute('x',p[0]+D.u-2);w.setAttribute('y',p[1]+D.u-2);}}
  spans[c].setAttribute('x',x0);spans[c].setAttribute('y',y0);
  spans[c].setAttribute('width',x1-x0+D.u);spans[c].setAttribute('height',y1-y0+D.u);}
 for(var o=0;o<outs.length;o++){var oc=outs[o].children;
  for(var k=0;k<oc.length;k++){oc[k].setAttribute('class',k<t?'o done':k===t?'o cur':'o');
   oc[k].lastChild.textContent=k<=t?D.out[o][k]:'';}}
 eq.textContent=D.eq[t];slider.value=t;
 label.textContent='step '+(t+1)+' / '+D.n+' \u00b7 output['+Math.floor(t/D.ow)+', '+(t%D.ow)+']';}
function setPlaying(on){
 if(timer){clearInterval(timer);timer=null;}
 if(on){if(t>=D.n-1)show(0);timer=setInterval(function(){if(t>=D.n-1)setPlaying(false);else show(t+1);},D.ms);}
 playBtn.innerHTML=on?D.icons.pause:D.icons.play;playBtn.setAttribute('aria-label',on?'pause':'play');
 root.setAttribute('data-playing',on?'1':'0');}
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


def _player_data(frames: Frames, interval_ms: int) -> Dict:
    return {
        "n": frames.steps, "u": _Layout(frames).cell, "ow": frames.output_size[1], "ms": interval_ms,
        "win": frames.windows.tolist(),
        "out": [[format_number(v) for v in channel.flatten().tolist()] for channel in frames.output],
        "eq": ["\n".join(frames.equation(t)) for t in range(frames.steps)],
        "icons": {"play": _icon("play"), "pause": _icon("pause")},
    }


_player_ids = itertools.count()


def render_player(frames: Frames, interval_ms: int = 900) -> str:
    """A self-contained HTML animation of every step: play, pause, step back and forth, or drag the slider."""
    data = json.dumps(_player_data(frames, interval_ms), separators=(",", ":"), ensure_ascii=False)
    data = data.replace("</", "<\\/")   # a data string can never close the script element early
    # Deterministic (re-executing a notebook changes nothing) yet unique when one page shows several players.
    element_id = f"ks-{hashlib.sha1(data.encode()).hexdigest()[:10]}-{next(_player_ids)}"
    buttons = "".join(f'<button type="button" data-act="{act}" aria-label="{act}" title="{act}">{_icon(act)}</button>'
                      for act in ("first", "back", "play", "next"))
    return (f'<style>{STYLE}</style><div class="ks ks-player" id="{element_id}" data-playing="0">'
            f'{_body(frames, 0)}'
            f'<div class="ks-bar">{buttons}<input type="range" min="0" max="{frames.steps - 1}" value="0" '
            f'aria-label="step"><span class="ks-step">{_step_text(frames, 0)}</span></div>{_legend(frames)}'
            f'<script type="application/json" class="ks-data">{data}</script>'
            f'<script>{_PLAYER_JS.replace("__ROOT__", json.dumps(element_id))}</script></div>')
