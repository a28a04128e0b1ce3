"""The live widget: ipywidgets controls around the frames and their drawing.

`kernel_slider(...)` returns a `KernelSlider`, an ipywidgets `VBox`. Shown as a cell's last expression it offers
two representations: the live widget (JupyterLab, Notebook 7) and, as `text/html`, the self-contained player that
the static site shows instead (the site's `nb_mime_priority_overrides` prefers `text/html`). Every control change
recomputes the frames in Python and redraws at once. The static player offers the same controls under the same
names, limited to a grid of values (`choices`) whose every setting is computed here, at build time.
"""
from __future__ import annotations

import asyncio
import itertools
from typing import Dict, Optional, Sequence, Tuple

import ipywidgets as widgets
import torch

from book._args import ArgumentError, IntPair, Pair, pair, positive_pair
from book.viz.draw import Control, Picture, Setting, canvas_kinds, render_message, render_player
from book.viz.frames import MODES, POOLING_MODES, Frames, _pair_text, as_chw, slide_frames

__all__ = ["KernelSlider", "kernel_slider", "CONTROL_LABELS", "default_choices"]

INPUT_VALUES = (0, 5)    # random inputs: small integers 0..4, so every sum can be checked by hand
KERNEL_VALUES = (0, 3)   # random kernels: 0..2, as in Dumoulin & Visin's figures
CONTROL_RANGES = {"input_size": (1, 16), "kernel_size": (1, 5), "padding": (0, 4), "stride": (1, 4),
                  "dilation": (1, 3), "output_padding": (0, 3)}
PLAY_INTERVAL_MS = 900


def _random_integers(shape: Tuple[int, ...], values: Tuple[int, int], seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(values[0], values[1], shape, generator=generator).to(torch.float64)


def _resized(tensor: torch.Tensor, size: Pair, values: Tuple[int, int], seed: int) -> torch.Tensor:
    """`tensor` (C, h, w) at spatial `size`: the values that still fit are kept, new cells get seeded random integers."""
    if tuple(tensor.shape[1:]) == tuple(size):
        return tensor
    result = _random_integers((tensor.shape[0], *size), values, seed + 7919 * size[0] + size[1])
    h, w = min(size[0], tensor.shape[1]), min(size[1], tensor.shape[2])
    result[:, :h, :w] = tensor[:, :h, :w]
    return result


CONTROL_LABELS = {"mode": "mode", "input_size": "input size", "kernel_size": "kernel size", "padding": "padding",
                  "stride": "stride", "dilation": "dilation", "output_padding": "output padding"}
# The static player's default grid: the values a reader would try first, plus the value the chapter chose.
DEFAULT_CHOICES = {"kernel_size": (2, 3), "padding": (0, 1, 2), "stride": (1, 2), "dilation": (1, 2),
                   "output_padding": (0, 1)}
_BUTTONS = (("first", "first step", "fast-backward"), ("back", "previous step", "step-backward"),
            ("play", "play", "play"), ("next", "next step", "step-forward"), ("last", "last step", "fast-forward"))


def _kernel_label(mode: str) -> str:
    return "window size" if mode in POOLING_MODES else "kernel size"


def _not_applying(mode: str) -> Tuple[str, ...]:
    """Controls that mean nothing in `mode`: only a transposed convolution has output padding. (Dilation stays on
    for average pooling: torch refuses it there, and the reader sees why.)"""
    return ("output_padding",) if mode != "transposed" else ()


def default_choices(settings: Dict, modes: Sequence[str], kernel_given: bool) -> Dict[str, Tuple]:
    """The static player's controls and values for a player showing `settings` (the chapter's values are kept)."""
    choices: Dict[str, Tuple] = {}
    if len(modes) > 1:
        choices["mode"] = tuple(modes)
    for name, values in DEFAULT_CHOICES.items():
        if name == "kernel_size" and kernel_given:
            continue        # the chapter's own kernel: its size is not a setting
        if name == "dilation" and all(m == "avg" for m in modes):
            continue
        if name == "output_padding" and "transposed" not in modes:
            continue
        chosen = settings[name]
        value = chosen[0] if chosen[0] == chosen[1] else chosen
        choices[name] = tuple(sorted(set(values) | {value}, key=lambda v: v if isinstance(v, int) else max(v)))
    return choices


class KernelSlider(widgets.VBox):
    """A kernel sliding over an input, step by step, with live controls for every setting.

    `frames` holds the current animation (None when the settings are impossible, `message` then says why);
    `view` is the HTML widget showing the current step; the controls are attributes named after the settings.
    `choices` (control name -> values) is the grid the static player offers; by default `default_choices`.
    """

    def __init__(self, X: Optional[torch.Tensor] = None, K: Optional[torch.Tensor] = None, *,
                 mode: str = "correlation", stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                 output_padding: IntPair = 0, input_size: IntPair = 5, kernel_size: IntPair = 3, seed: int = 0,
                 modes: Optional[Sequence[str]] = None, choices: Optional[Dict[str, Sequence]] = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
        modes = tuple(modes) if modes is not None else (mode,)
        if any(m not in MODES for m in modes) or mode not in modes:
            raise ValueError(f"modes must be taken from {', '.join(MODES)} and include mode {mode!r}; got {modes!r}")
        if mode in POOLING_MODES and K is not None:
            raise ValueError(f"{mode} pooling has no kernel weights: pass K=None and the window as kernel_size")
        K = None if K is None else as_chw(K, "K")
        channels = K.shape[0] if K is not None else 1
        X = (as_chw(X, "X") if X is not None
             else _random_integers((channels, *positive_pair(input_size, "input_size")), INPUT_VALUES, seed))
        kernel_given = K is not None
        if K is None:
            K = _random_integers((X.shape[0], *positive_pair(kernel_size, "kernel_size")), KERNEL_VALUES, seed + 1)
        elif K.shape[0] != X.shape[0]:
            raise ArgumentError(f"K has {K.shape[0]} channel(s) but X has {X.shape[0]}; "
                                "give K one (kh, kw) slice per input channel")
        self._seed = seed
        self._X, self._K = X, K
        self._settings: Dict[str, Pair] = {
            "stride": pair(stride, "stride"), "padding": pair(padding, "padding"),
            "dilation": pair(dilation, "dilation"), "output_padding": pair(output_padding, "output_padding"),
            "input_size": tuple(X.shape[1:]), "kernel_size": tuple(K.shape[1:]),
        }
        if choices is None:
            choices = default_choices(self._settings, modes, kernel_given)
        unknown = set(choices) - set(CONTROL_LABELS)
        if unknown:
            raise ValueError(f"choices can only name {', '.join(CONTROL_LABELS)}; got {', '.join(sorted(unknown))}")
        self.choices = {name: tuple(values) for name, values in choices.items()}
        self.frames: Optional[Frames] = None
        self.message: Optional[str] = None
        self._picture: Optional[Picture] = None
        self._timer = None
        self._build_controls(mode)
        super().__init__([self._controls, self.view])
        self._recompute()

    # -- controls ------------------------------------------------------------------------------------------------

    def _build_controls(self, mode: str) -> None:
        style = {"description_width": "initial"}
        self.mode = widgets.Dropdown(options=MODES, value=mode, description=CONTROL_LABELS["mode"], style=style,
                                     layout=widgets.Layout(width="190px"))
        for name, (low, high) in CONTROL_RANGES.items():
            value = min(max(self._settings[name][0], low), high)
            slider = widgets.IntSlider(value=value, min=low, max=high, description=CONTROL_LABELS[name],
                                       style=style, continuous_update=True, layout=widgets.Layout(width="235px"))
            setattr(self, name, slider)
            slider.observe(lambda change, name=name: self._set(name, change["new"]), names="value")
        self.mode.observe(lambda change: self._recompute(), names="value")
        # Steps count from 1, as the picture's "step 3 / 9" does; Frames count from 0.
        self.step = widgets.IntSlider(value=1, min=1, max=1, description="step", style=style,
                                      layout=widgets.Layout(width="360px"))
        self.step.observe(self._on_step, names="value")
        # Buttons with words, not ipywidgets.Play: its icon-only buttons have no accessible names.
        self.buttons = {act: widgets.Button(description=name, tooltip=name, icon=icon,
                                            layout=widgets.Layout(width="auto", min_height="44px"))
                        for act, name, icon in _BUTTONS}
        self.play = self.buttons["play"]
        moves = {"first": lambda: 1, "back": lambda: self.step.value - 1, "next": lambda: self.step.value + 1,
                 "last": lambda: self.step.max}
        for act, target in moves.items():
            self.buttons[act].on_click(lambda _button, target=target: self._go(target()))
        self.play.on_click(lambda _button: self._set_playing(self._timer is None))
        self.view = widgets.HTML()
        rows = [[self.mode, self.input_size, self.kernel_size], [self.padding, self.stride, self.dilation],
                [self.output_padding, self.step], list(self.buttons.values())]
        self._controls = widgets.VBox([widgets.HBox(row) for row in rows])

    def _go(self, step: int) -> None:
        self._set_playing(False)
        self.step.value = min(max(step, self.step.min), self.step.max)

    @property
    def playing(self) -> bool:
        return self._timer is not None

    def _set_playing(self, on: bool) -> None:
        """Play from the current step (from the first when at the end) on the kernel's event loop, or pause."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if on and self.frames is not None:
            if self.step.value >= self.step.max:
                self.step.value = 1
            self._schedule()
        playing = self._timer is not None
        self.play.description = self.play.tooltip = "pause" if playing else "play"
        self.play.icon = "pause" if playing else "play"

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()     # a Jupyter kernel handles widget messages on its asyncio loop
        except RuntimeError:
            return                                # no loop (plain Python): step with the buttons instead
        self._timer = loop.call_later(PLAY_INTERVAL_MS / 1000, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.frames is None or self.step.value >= self.step.max:
            self._set_playing(False)
            return
        self.step.value += 1
        self._schedule()

    def _set(self, name: str, value: int) -> None:
        self._settings[name] = (value, value)
        self._recompute()

    def _on_step(self, change) -> None:
        if not self._updating:
            self._redraw()

    _updating = False

    # -- state -> picture ----------------------------------------------------------------------------------------

    def _arguments(self, mode: str, settings: Dict[str, Pair]) -> Dict:
        """The arguments of `slide_frames` for `mode` and `settings`."""
        X = _resized(self._X, settings["input_size"], INPUT_VALUES, self._seed)
        size = settings["kernel_size"]
        arguments = dict(mode=mode, stride=settings["stride"], padding=settings["padding"],
                         dilation=settings["dilation"])
        if mode in POOLING_MODES:
            return dict(X=X, K=None, kernel_size=size, **arguments)
        K = _resized(self._K, size, KERNEL_VALUES, self._seed + 1)
        if mode == "transposed":
            arguments["output_padding"] = settings["output_padding"]
        return dict(X=X, K=K, **arguments)

    def current_arguments(self) -> Dict:
        """The arguments of `slide_frames` for the controls' current values."""
        return self._arguments(self.mode.value, self._settings)

    def _recompute(self) -> None:
        self._set_playing(False)
        mode = self.mode.value
        self.output_padding.disabled = "output_padding" in _not_applying(mode)
        self.kernel_size.description = _kernel_label(mode)
        try:
            self.frames, self.message = slide_frames(**self.current_arguments()), None
            self._picture = Picture(self.frames)
        except ValueError as error:
            self.frames, self.message, self._picture = None, str(error), None
        steps = self.frames.steps if self.frames is not None else 1
        self._updating = True
        try:
            self.step.value = min(self.step.value, steps)
            self.step.max = steps
            self.step.disabled = self.frames is None
            for button in self.buttons.values():
                button.disabled = self.frames is None
        finally:
            self._updating = False
        self._redraw()

    def _redraw(self) -> None:
        if self.frames is None:
            self.view.value = render_message(self.message)
        else:
            self.view.value = self._picture.html(self.step.value - 1)

    # -- the static player ---------------------------------------------------------------------------------------

    def static_settings(self) -> Tuple[list, list, tuple]:
        """The static player's controls, every combination of their values as a `Setting` (mixed-radix order), and
        the combination the live controls show now."""
        names = list(self.choices)
        current = {"mode": self.mode.value, **{n: self._settings[n] for n in CONTROL_RANGES}}
        controls = [Control(n, _kernel_label(self.mode.value) if n == "kernel_size" and "mode" not in names
                            else CONTROL_LABELS[n], self.choices[n],
                            tuple(str(v) if isinstance(v, str) else _pair_text(pair(v, n)) for v in self.choices[n]))
                    for n in names]
        initial = tuple(self._choice_value(n, current[n]) for n in names)
        settings = []
        for values in itertools.product(*(c.values for c in controls)):
            chosen = dict(current, **{n: (v if n == "mode" else pair(v, n)) for n, v in zip(names, values)})
            mode = chosen["mode"]
            for name in _not_applying(mode):        # one value stands for all: equal settings are stored once
                chosen[name] = (0, 0) if name == "output_padding" else (1, 1)
            setting = Setting(values, off=tuple(i for i, n in enumerate(names) if n in _not_applying(mode)),
                              kernel_label=_kernel_label(mode))
            try:
                setting.frames = slide_frames(**self._arguments(mode, chosen))
                setting.kinds = set(canvas_kinds(setting.frames))
            except ValueError as error:
                setting.message = str(error)
            settings.append(setting)
        return controls, settings, initial

    def _choice_value(self, name: str, value):
        values = self.choices[name]
        if value in values:
            return value
        if isinstance(value, tuple) and value[0] == value[1] and value[0] in values:
            return value[0]
        return values[0]

    def static_html(self) -> str:
        """The self-contained player: the current settings first, and every setting of `choices` one select away."""
        controls, settings, initial = self.static_settings()
        if not controls and self.frames is None:
            return render_message(self.message)
        return render_player(settings, PLAY_INTERVAL_MS, controls, initial)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.static_html()
        return bundle


def kernel_slider(X: Optional[torch.Tensor] = None, K: Optional[torch.Tensor] = None, *, mode: str = "correlation",
                  stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1, output_padding: IntPair = 0,
                  input_size: IntPair = 5, kernel_size: IntPair = 3, seed: int = 0,
                  modes: Optional[Sequence[str]] = None, choices: Optional[Dict[str, Sequence]] = None
                  ) -> KernelSlider:
    """Animate `mode` sliding over X (H, W) or (C, H, W): a live widget in Jupyter, a player on the static site.

    X=None draws `input_size` random small integers (seeded); K=None draws a `kernel_size` kernel. Pooling modes
    ("max", "avg") take no K: `kernel_size` is the window. Settings torch would refuse are shown as a message.
    The static player lets the reader pick `modes` (default: `mode` only) and the values in `choices`
    (control name -> values; default: `default_choices`), every one computed when the page is built.

    >>> kernel_slider(torch.arange(9.).reshape(3, 3), torch.ones(2, 2), padding=1)   # doctest: +SKIP
    """
    return KernelSlider(X, K, mode=mode, stride=stride, padding=padding, dilation=dilation,
                        output_padding=output_padding, input_size=input_size, kernel_size=kernel_size, seed=seed,
                        modes=modes, choices=choices)
