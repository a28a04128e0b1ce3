"""The live widget: ipywidgets controls around the frames and their drawing.

`kernel_slider(...)` returns a `KernelSlider`, an ipywidgets `VBox`. Shown as a cell's last expression it offers
two representations: the live widget (JupyterLab, Notebook 7) and, as `text/html`, the self-contained player that
the static site shows instead (the site's `nb_mime_priority_overrides` prefers `text/html`). Every control change
recomputes the frames in Python and redraws at once; the step slider is `jslink`ed to a `Play` button.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import ipywidgets as widgets
import torch

from book._args import IntPair, Pair, non_negative_pair, pair, positive_pair
from book.viz.draw import Picture, render_message, render_player
from book.viz.frames import MODES, POOLING_MODES, Frames, slide_frames

__all__ = ["KernelSlider", "kernel_slider"]

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


def _as_chw(tensor, name: str) -> torch.Tensor:
    tensor = torch.as_tensor(tensor)
    if tensor.dim() not in (2, 3) or tensor.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 2D (H, W) or 3D (C, H, W) tensor, got shape {tuple(tensor.shape)}")
    return (tensor if tensor.dim() == 3 else tensor.unsqueeze(0)).detach().to(torch.float64)


class KernelSlider(widgets.VBox):
    """A kernel sliding over an input, step by step, with live controls for every setting.

    `frames` holds the current animation (None when the settings are impossible, `message` then says why);
    `view` is the HTML widget showing the current step; the controls are attributes named after the settings.
    """

    def __init__(self, X: Optional[torch.Tensor] = None, K: Optional[torch.Tensor] = None, *,
                 mode: str = "correlation", stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                 output_padding: IntPair = 0, input_size: IntPair = 5, kernel_size: IntPair = 3, seed: int = 0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
        if mode in POOLING_MODES and K is not None:
            raise ValueError(f"{mode} pooling has no kernel weights: pass K=None and the window as kernel_size")
        K = None if K is None else _as_chw(K, "K")
        channels = K.shape[0] if K is not None else 1
        X = (_as_chw(X, "X") if X is not None
             else _random_integers((channels, *positive_pair(input_size, "input_size")), INPUT_VALUES, seed))
        if K is None:
            K = _random_integers((X.shape[0], *positive_pair(kernel_size, "kernel_size")), KERNEL_VALUES, seed + 1)
        elif K.shape[0] != X.shape[0]:
            raise ValueError(f"K has {K.shape[0]} channel(s) but X has {X.shape[0]}; "
                             "give K one (kh, kw) slice per input channel")
        self._seed = seed
        self._X, self._K = X, K
        self._settings: Dict[str, Pair] = {
            "stride": pair(stride, "stride"), "padding": pair(padding, "padding"),
            "dilation": pair(dilation, "dilation"), "output_padding": pair(output_padding, "output_padding"),
            "input_size": tuple(X.shape[1:]), "kernel_size": tuple(K.shape[1:]),
        }
        self.frames: Optional[Frames] = None
        self.message: Optional[str] = None
        self._picture: Optional[Picture] = None
        self._build_controls(mode)
        super().__init__([self._controls, self.view])
        self._recompute()

    # -- controls ------------------------------------------------------------------------------------------------

    def _build_controls(self, mode: str) -> None:
        style = {"description_width": "initial"}
        self.mode = widgets.Dropdown(options=MODES, value=mode, description="mode", style=style,
                                     layout=widgets.Layout(width="190px"))
        for name, (low, high) in CONTROL_RANGES.items():
            value = min(max(self._settings[name][0], low), high)
            slider = widgets.IntSlider(value=value, min=low, max=high, description=name.replace("_", " "),
                                       style=style, continuous_update=True, layout=widgets.Layout(width="235px"))
            setattr(self, name, slider)
            slider.observe(lambda change, name=name: self._set(name, change["new"]), names="value")
        self.mode.observe(lambda change: self._recompute(), names="value")
        # Steps count from 1, as the picture's "step 3 / 9" does; Frames count from 0.
        self.step = widgets.IntSlider(value=1, min=1, max=1, description="step", style=style,
                                      layout=widgets.Layout(width="360px"))
        self.play = widgets.Play(value=1, min=1, max=1, interval=PLAY_INTERVAL_MS, description="play")
        # jslink: the browser moves the slider while playing, then the step observer redraws.
        self.play_link = widgets.jslink((self.play, "value"), (self.step, "value"))
        self.step.observe(self._on_step, names="value")
        self.view = widgets.HTML()
        rows = [[self.mode, self.input_size, self.kernel_size], [self.padding, self.stride, self.dilation],
                [self.output_padding, self.play, self.step]]
        self._controls = widgets.VBox([widgets.HBox(row) for row in rows])

    def _set(self, name: str, value: int) -> None:
        self._settings[name] = (value, value)
        self._recompute()

    def _on_step(self, change) -> None:
        if not self._updating:
            self._redraw()

    _updating = False

    # -- state -> picture ----------------------------------------------------------------------------------------

    def current_arguments(self) -> Dict:
        """The arguments of `slide_frames` for the controls' current values."""
        mode = self.mode.value
        X = _resized(self._X, self._settings["input_size"], INPUT_VALUES, self._seed)
        size = self._settings["kernel_size"]
        arguments = dict(mode=mode, stride=self._settings["stride"], padding=self._settings["padding"],
                         dilation=self._settings["dilation"])
        if mode in POOLING_MODES:
            return dict(X=X, K=None, kernel_size=size, **arguments)
        K = _resized(self._K, size, KERNEL_VALUES, self._seed + 1)
        if mode == "transposed":
            arguments["output_padding"] = self._settings["output_padding"]
        return dict(X=X, K=K, **arguments)

    def _recompute(self) -> None:
        mode = self.mode.value
        self.output_padding.disabled = mode != "transposed"
        self.dilation.disabled = mode == "avg"
        self.kernel_size.description = "window size" if mode in POOLING_MODES else "kernel size"
        try:
            self.frames, self.message = slide_frames(**self.current_arguments()), None
            self._picture = Picture(self.frames)
        except ValueError as error:
            self.frames, self.message, self._picture = None, str(error), None
        steps = self.frames.steps if self.frames is not None else 1
        self._updating = True
        try:
            for control in (self.step, self.play):
                control.value = min(control.value, steps)
                control.max = steps
            self.step.disabled = self.play.disabled = self.frames is None
        finally:
            self._updating = False
        self._redraw()

    def _redraw(self) -> None:
        if self.frames is None:
            self.view.value = render_message(self.message, "These settings give no output:")
        else:
            self.view.value = self._picture.html(self.step.value - 1)

    def static_html(self) -> str:
        """The self-contained animation of the current settings (what the static site shows)."""
        if self.frames is None:
            return render_message(self.message, "These settings give no output:")
        return render_player(self.frames, PLAY_INTERVAL_MS)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.static_html()
        return bundle


def kernel_slider(X: Optional[torch.Tensor] = None, K: Optional[torch.Tensor] = None, *, mode: str = "correlation",
                  stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1, output_padding: IntPair = 0,
                  input_size: IntPair = 5, kernel_size: IntPair = 3, seed: int = 0) -> KernelSlider:
    """Animate `mode` sliding over X (H, W) or (C, H, W): a live widget in Jupyter, a player on the static site.

    X=None draws `input_size` random small integers (seeded); K=None draws a `kernel_size` kernel. Pooling modes
    ("max", "avg") take no K: `kernel_size` is the window. Settings torch would refuse are shown as a message.

    >>> kernel_slider(torch.arange(9.).reshape(3, 3), torch.ones(2, 2), padding=1)   # doctest: +SKIP
    """
    return KernelSlider(X, K, mode=mode, stride=stride, padding=padding, dilation=dilation,
                        output_padding=output_padding, input_size=input_size, kernel_size=kernel_size, seed=seed)
