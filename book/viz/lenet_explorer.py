"""Inside a trained LeNet: every layer's output for a chosen digit, and a digit the reader draws.

`lenet_explorer(model, images, labels)` returns a `LenetExplorer`, an ipywidgets `VBox`, shown like `kernel_slider`:
in Jupyter a live widget (choose a digit, see each layer computed by torch; choose a feature map to open the
kernel-sliding player on the real input channels and the real learned kernel that produced it); on the static site,
as `text/html`, a self-contained explorer with no kernel and no network.

The static explorer embeds the model's weights (float32), the digits (MNIST's as their pixel bytes) and, for each
convolution, a template of the kernel-sliding player (`player_template`): its script (`static/lenet.js`) runs
LeNet's forward pass itself, so the digit a reader draws goes through the same code as the chosen test digits, and
the browser test holds every layer it computes to torch's. The layers are the ones `book.train.lenet()` builds;
`layer_outputs` is torch's side of that contract. The LeNet with batch norm that chapter 7 trains is shown folded
into those layers (`book.train.fold_batch_norm`): the same function, with each normalisation's scale and shift
inside the convolution or dense layer before it.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from importlib import resources
from typing import Dict, List, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from book.train import fold_batch_norm, predict
from book.viz import draw
from book.viz.frames import slide_frames
from book.viz.widget import kernel_slider

__all__ = ["STAGES", "LenetExplorer", "lenet_explorer", "pick_digits", "layer_outputs", "explorer_data",
           "render_explorer", "check_lenet", "digit_names", "player_template"]

STYLE = resources.files("book.viz").joinpath("static/lenet.css").read_text(encoding="utf-8")
SCRIPT = resources.files("book.viz").joinpath("static/lenet.js").read_text(encoding="utf-8")

# (key, caption, colour scale) of every stage shown, in the order of `book.train.lenet()`'s layers; "signed" maps
# blue (negative) through white to red, "ink" white to dark. The static page reads the same list from its data.
STAGES: Tuple[Tuple[str, str, str], ...] = (
    ("input", "input, 1 × 28 × 28 (standardised)", "ink"),
    ("conv1", "conv 1: 6 kernels 5 × 5, padding 2 → 6 × 28 × 28", "signed"),
    ("relu1", "ReLU → 6 × 28 × 28", "ink"),
    ("pool1", "max pool 2 × 2 → 6 × 14 × 14", "ink"),
    ("conv2", "conv 2: 16 kernels 6 × 5 × 5 → 16 × 10 × 10", "signed"),
    ("relu2", "ReLU → 16 × 10 × 10", "ink"),
    ("pool2", "max pool 2 × 2 → 16 × 5 × 5", "ink"),
    ("dense1", "dense 400 → 120, ReLU", "ink"),
    ("dense2", "dense 120 → 84, ReLU", "ink"),
    ("scores", "dense 84 → 10: class scores (logits)", "signed"),
)
COLOURS = {"signed": ("#2166ac", "#f7f7f7", "#b2182b"), "ink": ("#ffffff", "#ffffff", "#102a43")}
# The layer shapes `book.train.lenet()` builds, in order: what the page's forward pass implements.
_CONV = dict(kernel_size=(5, 5), stride=(1, 1), dilation=(1, 1), groups=1)
_POOL = dict(kernel_size=2, stride=2, padding=0, dilation=1)
_LAYOUT = ((nn.Conv2d, dict(in_channels=1, out_channels=6, padding=(2, 2), **_CONV)), (nn.ReLU, {}), (nn.MaxPool2d, _POOL),
           (nn.Conv2d, dict(in_channels=6, out_channels=16, padding=(0, 0), **_CONV)), (nn.ReLU, {}),
           (nn.MaxPool2d, _POOL), (nn.Flatten, {}),
           (nn.Linear, dict(in_features=400, out_features=120)), (nn.ReLU, {}),
           (nn.Linear, dict(in_features=120, out_features=84)), (nn.ReLU, {}),
           (nn.Linear, dict(in_features=84, out_features=10)))
_CONVS = {"conv1": 0, "conv2": 3}   # stage -> index of its convolution in the model
_CONV_INPUTS = {"conv1": (1, 28, 2), "conv2": (6, 14, 0)}   # stage -> its input's channels and size, its padding


def check_lenet(model: nn.Module) -> nn.Sequential:
    """`model` if it is the LeNet of `book.train.lenet()` (ReLU, max pooling); the LeNet of
    `lenet(batch_norm=True)` folded into those layers (`book.train.fold_batch_norm`, a copy for inference); else a
    one-line `ValueError`."""
    if isinstance(model, nn.Sequential) and any(isinstance(layer, nn.modules.batchnorm._BatchNorm)
                                                for layer in model):
        model = fold_batch_norm(model)
    layers = list(model) if isinstance(model, nn.Sequential) else []
    same = len(layers) == len(_LAYOUT) and all(
        type(layer) is kind and all(getattr(layer, name) == value for name, value in attributes.items())
        and getattr(layer, "bias", True) is not None for layer, (kind, attributes) in zip(layers, _LAYOUT))
    if not same:
        raise ValueError("the explorer shows the LeNet of book.train.lenet() (ReLU, max pooling); "
                         f"got {type(model).__name__} with another layout")
    return model


def as_digits(images: torch.Tensor) -> torch.Tensor:
    """(28, 28), (1, 28, 28) or (N, 1, 28, 28) as float32 (N, 1, 28, 28) on the CPU, or a one-line `ValueError`."""
    images = torch.as_tensor(images).detach().cpu().float()
    while images.dim() < 4:
        images = images.unsqueeze(0)
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28) or len(images) == 0:
        raise ValueError(f"images must be (28, 28), (1, 28, 28) or (N, 1, 28, 28), got {tuple(images.shape)}")
    return images


def pick_digits(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, wrong: int = 24,
                per_class: int = 2) -> torch.Tensor:
    """Indices into `images`: the first `per_class` correctly classified digits of each class (0 to 9), then the
    first `wrong` misclassified ones in order (those chapter 7's figure of mistakes shows)."""
    predicted = predict(model, images)
    labels = labels.cpu()
    right = predicted == labels
    chosen = [index for digit in range(10) for index in (right & (labels == digit)).nonzero().flatten()[:per_class]]
    chosen += list((~right).nonzero().flatten()[:wrong])
    return torch.stack(chosen) if chosen else torch.zeros(0, dtype=torch.int64)


@torch.no_grad()
def layer_outputs(model: nn.Module, image: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Every stage of `STAGES` for one digit (28 × 28 or 1 × 28 × 28) as torch computes it (float32, CPU), plus
    "probabilities", the softmax of the scores."""
    model = check_lenet(model)
    x = as_digits(image)[:1].to(next(model.parameters()).device)
    outputs = {"input": x}
    names = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2", None, None, "dense1", None, "dense2", "scores")
    was_training = model.training
    model.eval()
    try:
        for layer, name in zip(model, names):
            x = layer(x)
            if name is not None:
                outputs[name] = x
    finally:
        model.train(was_training)
    outputs = {name: value[0].cpu().float() for name, value in outputs.items()}
    outputs["probabilities"] = torch.softmax(outputs["scores"], dim=0)
    return outputs


def _packed(tensor: torch.Tensor) -> str:
    return base64.b64encode(tensor.detach().cpu().float().contiguous().numpy().astype("<f4").tobytes()).decode()


def _digits(images: torch.Tensor) -> Dict[str, str]:
    """The digits as the page reads them: MNIST's own (standardised bytes, as `book.data.load_mnist` gives them) as
    their pixel bytes, a quarter of the size, which the page standardises with the same float32 operations;
    any other tensor as float32."""
    from book.data import MNIST_MEAN, MNIST_STD, _normalise

    pixels = ((images[:, 0] * MNIST_STD + MNIST_MEAN) * 255).round().clamp(0, 255).to(torch.uint8)
    if torch.equal(_normalise(pixels), images):
        return {"pixels": base64.b64encode(pixels.numpy().tobytes()).decode()}
    return {"digits": _packed(images)}


def explorer_data(model: nn.Module, images: torch.Tensor, labels: Optional[Sequence[int]] = None) -> Dict:
    """What the static explorer embeds: LeNet's weights, the digits (see `_digits`), their labels, the MNIST
    standardisation (for drawn digits), the stages and their colours, and the kernel players' templates. Tensors are
    base64: float32 little-endian, or bytes for MNIST's pixels."""
    from book.data import MNIST_MEAN, MNIST_STD   # here: book.data loads torchvision, which the widget never needs

    model = check_lenet(model)
    images = as_digits(images)
    labels = [None] * len(images) if labels is None else [int(v) for v in torch.as_tensor(labels).flatten()]
    if len(labels) != len(images):
        raise ValueError(f"{len(labels)} labels for {len(images)} images")
    weights = {name: {"w": _packed(model[i].weight), "b": _packed(model[i].bias)}
               for name, i in (("conv1", 0), ("conv2", 3), ("dense1", 7), ("dense2", 9), ("scores", 11))}
    return {"weights": weights, **_digits(images), "labels": labels, "mean": MNIST_MEAN, "std": MNIST_STD,
            "stages": [list(stage) for stage in STAGES], "colours": COLOURS,
            "players": {stage: player_template(*shape) for stage, shape in _CONV_INPUTS.items()}}


def player_template(channels: int, size: int, padding: int) -> Dict:
    """`book.viz.draw.player_data` of a 5 × 5 kernel sliding over `channels` × `size` × `size` with `padding`, for the
    page to fill in with a digit's real values: the input's and the kernel's cells hold their own numbers (channel
    by channel, row by row), which the page swaps for the values; the output numbers and the arithmetic, which the
    page writes from the values, are left empty. The picture, moves and labels are the player's own."""
    X = torch.arange(channels * size * size, dtype=torch.float64).reshape(channels, size, size)
    K = torch.arange(channels * 25, dtype=torch.float64).reshape(channels, 5, 5)
    frames = slide_frames(X, K, padding=padding)
    data = draw.player_data([], [draw.Setting((), frames, kinds=set(draw.canvas_kinds(frames)))], ())
    lists, records = json.loads(data.pop("v")), json.loads(data.pop("s"))
    record = records[0]
    blank = list(lists[record["e"]]) + [i for part in record["p"] if isinstance(part, list) for i in lists[part[1]]]
    for index in blank:
        data["x"][index] = ""
    return dict(data, v=lists, s=records)


def digit_names(model: nn.Module, images: torch.Tensor, labels: Optional[Sequence[Optional[int]]] = None) -> List[str]:
    """The digit chooser's names: each digit's place, its label when known, and what the model reads (torch)."""
    predicted = predict(model, images).tolist()
    labels = [None] * len(predicted) if labels is None else labels
    return [f"digit {i + 1}: " + ("" if label is None else f"label {label}, ") + f"LeNet reads {guess}"
            for i, (label, guess) in enumerate(zip(labels, predicted))]


def _shell(names: Sequence[str]) -> str:
    """The explorer's markup; the script fills in the pictures and numbers for the chosen digit."""
    options = "".join(f"<option>{html.escape(name)}</option>" for name in names)
    stages = []
    for key, caption, _colours in STAGES[:-1]:
        player = '<div class="lx-kp"></div>' if key in _CONVS else ""
        stages.append(f'<figure class="lx-stage" data-stage="{key}"><figcaption>{html.escape(caption)}'
                      f' <span class="lx-range"></span></figcaption><div class="lx-maps"></div>{player}</figure>')
    scores = "".join(f'<tr><th scope="row">{d}</th><td class="lx-s"></td><td class="lx-p"></td>'
                     f'<td class="lx-barcell"><span class="lx-bar"></span></td></tr>' for d in range(10))
    table = (f'<table class="lx-scores"><caption>{html.escape(STAGES[-1][1])} and softmax probabilities</caption>'
             '<thead><tr><th scope="col">digit</th><th scope="col">score</th><th scope="col">probability</th>'
             f'<th scope="col"><span class="lx-hidden">bar</span></th></tr></thead><tbody>{scores}</tbody></table>')
    chooser = ('<div class="lx-ctl"><button type="button" data-act="prev">previous digit</button>'
               f'<label>digit <select class="lx-digit">{options}</select></label>'
               '<button type="button" data-act="next">next digit</button></div>')
    drawing = ('<section class="lx-draw" aria-label="draw your own digit"><h3 class="lx-h">Draw your own digit</h3>'
               '<p class="lx-help">Draw with the mouse or a finger. From the keyboard: focus the drawing area, move the pen '
               'with the arrow keys, press Space to lift or lower it. The drawing is scaled to fit 20 × 20 pixels and '
               'centred by its mass in 28 × 28, as MNIST\'s digits were.</p>'
               '<div class="lx-drawrow"><div class="lx-padbox"><canvas class="lx-pad" width="280" height="280" tabindex="0" '
               'role="img" aria-label="drawing area: arrow keys move the pen, Space lifts or lowers it"></canvas>'
               '<span class="lx-pen" aria-hidden="true"></span></div>'
               '<div class="lx-drawside"><canvas class="lx-seen" width="28" height="28" role="img" '
               'aria-label="the drawing as LeNet sees it, 28 × 28"></canvas>'
               '<button type="button" data-act="clear">clear</button>'
               '<button type="button" data-act="copy">start from the chosen digit</button>'
               '<button type="button" data-act="explore">show the drawing in every layer</button></div></div>'
               '<p class="lx-verdict" aria-live="polite">Nothing drawn yet.</p></section>')
    return (f'{chooser}<p class="lx-status" aria-live="polite"></p>{table}'
            '<p class="lx-help">Choose a map of conv 1 or conv 2 to watch its learned kernel slide over the '
            f'layer\'s input, with the arithmetic of every output cell.</p><div class="lx-stages">{"".join(stages)}</div>'
            f'{drawing}')


def render_explorer(model: nn.Module, images: torch.Tensor, labels: Optional[Sequence[int]] = None) -> str:
    """The self-contained static explorer (style, data, markup and script) for `images` through `model`."""
    data = explorer_data(model, images, labels)
    text = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    # Deterministic (re-executing a notebook changes nothing) yet unique when a page shows several explorers.
    element_id = f"lx-{hashlib.sha1(text.encode()).hexdigest()[:10]}-{next(_explorer_ids)}"
    # The kernel-sliding player's own style and script (_ext/static_players.py keeps one copy of each on a page).
    return (f'<style>{draw.STYLE}</style><style>{STYLE}</style><div class="lx" id="{element_id}">'
            f'<script type="application/json" class="lx-data">{text}</script>'
            f'{_shell(digit_names(model, as_digits(images), data["labels"]))}<script>{draw.PLAYER_JS}</script>'
            f'<script>{SCRIPT}window.bookLenetExplorer(document.getElementById({json.dumps(element_id)}));</script>'
            '</div>')


_explorer_ids = itertools.count()


# ---------------------------------------------------------------------------------------------------------------
# The live widget
# ---------------------------------------------------------------------------------------------------------------

def _colour(values: np.ndarray, scale: str, limit: float) -> np.ndarray:
    """(H, W) values as (H, W, 3) bytes on the stage's colour scale, the same interpolation as lenet.js's."""
    low, mid, high = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64) for c in COLOURS[scale])
    t = np.clip(values / limit, -1, 1) if limit > 0 else np.zeros_like(values)
    t = t[..., None]
    rgb = np.where(t < 0, mid + (low - mid) * -t, mid + (high - mid) * t)
    return np.round(rgb).astype(np.uint8)


def _map_image(values: torch.Tensor, scale: str, limit: float, width: int, height: int, label: str) -> str:
    from PIL import Image

    picture = Image.fromarray(_colour(values.numpy().astype(np.float64), scale, limit))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    source = base64.b64encode(buffer.getvalue()).decode()
    return (f'<img src="data:image/png;base64,{source}" width="{width}" height="{height}" alt="{html.escape(label)}" '
            'style="image-rendering:pixelated;border:1px solid #c9d2dc;margin:1px">')


def _limit(values: torch.Tensor, scale: str) -> float:
    return float(values.abs().max()) if scale == "signed" else float(values.max().clamp(min=0))


def render_layers(outputs: Dict[str, torch.Tensor]) -> str:
    """The live widget's view of one digit: every stage's maps as small images (a dense layer as a strip of
    units, 3 px each), and the scores with their probabilities."""
    parts = []
    for key, caption, scale in STAGES[:-1]:
        values = outputs[key]
        limit = _limit(values, scale)
        if values.dim() == 3:
            side = 84 if key == "input" else {28: 56, 14: 42, 10: 40, 5: 30}[values.shape[-1]]
            images = "".join(_map_image(m, scale, limit, side, side, f"{caption}, map {c}")
                             for c, m in enumerate(values))
        else:
            images = _map_image(values.reshape(1, -1), scale, limit, 3 * len(values), 18, caption)
        parts.append(f'<div><b>{html.escape(caption)}</b> (scale {limit:.2f})<br>{images}</div>')
    rows = "".join(f"<tr><td>{d}</td><td>{float(s):.4f}</td><td>{float(p):.2%}</td></tr>"
                   for d, (s, p) in enumerate(zip(outputs["scores"], outputs["probabilities"])))
    parts.append(f"<table><tr><th>digit</th><th>score</th><th>probability</th></tr>{rows}</table>")
    return "".join(parts)


class LenetExplorer(widgets.VBox):
    """LeNet's layers for one of `images` at a time, recomputed by torch whenever the digit changes.

    `digit` chooses the digit, `feature_map` one map of conv 1 or conv 2 whose kernel-sliding player (`slider`, a
    `KernelSlider` over the real input channels and the real learned kernel) shows below; `view` holds the layers.
    """

    def __init__(self, model: nn.Module, images: torch.Tensor, labels: Optional[Sequence[int]] = None):
        self.model = check_lenet(model)
        self.images = as_digits(images)
        self.labels = (None if labels is None else [int(v) for v in torch.as_tensor(labels).flatten()])
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError(f"{len(self.labels)} labels for {len(self.images)} images")
        names = digit_names(self.model, self.images, self.labels)
        self.digit = widgets.Dropdown(options=[(n, i) for i, n in enumerate(names)], value=0, description="digit")
        maps = [("none", None)] + [(f"conv {1 if key == 'conv1' else 2}, map {c}", (key, c))
                                   for key, count in (("conv1", 6), ("conv2", 16)) for c in range(count)]
        self.feature_map = widgets.Dropdown(options=maps, value=None, description="kernel player for",
                                            style={"description_width": "initial"})
        self.status = widgets.HTML()
        self.view = widgets.HTML()
        self.player = widgets.VBox()
        self.slider = None
        self.outputs: Dict[str, torch.Tensor] = {}
        self.digit.observe(lambda change: self._recompute(), names="value")
        self.feature_map.observe(lambda change: self._open_player(), names="value")
        super().__init__([widgets.HBox([self.digit, self.feature_map]), self.status, self.view, self.player])
        self._recompute()

    def _recompute(self) -> None:
        self.outputs = layer_outputs(self.model, self.images[self.digit.value])
        predicted = int(self.outputs["scores"].argmax())
        label = None if self.labels is None else self.labels[self.digit.value]
        truth = "" if label is None else f", label {label}" + ("" if label == predicted else " (wrong)")
        self.status.value = (f"predicted {predicted} with probability "
                             f"{float(self.outputs['probabilities'][predicted]):.1%}{html.escape(truth)}")
        self.view.value = render_layers(self.outputs)
        self._open_player()

    def player_arguments(self, stage: str, channel: int) -> Dict:
        """`kernel_slider` arguments for output map `channel` of `stage` ("conv1" or "conv2"): the stage's real
        input (the digit, or pool 1's six maps) and that map's learned kernel, with the layer's padding."""
        layer = self.model[_CONVS[stage]]
        source = self.outputs["input"] if stage == "conv1" else self.outputs["pool1"]
        return dict(X=source.double(), K=layer.weight[channel].detach().cpu().double(), padding=layer.padding)

    def _open_player(self) -> None:
        chosen = self.feature_map.value
        if chosen is None:
            self.slider, self.player.children = None, ()
            return
        self.slider = kernel_slider(**self.player_arguments(*chosen), choices={})
        bias = float(self.model[_CONVS[chosen[0]]].bias[chosen[1]].detach())
        note = widgets.HTML(f"The map is this output plus the kernel's bias, {bias:.4f}.")
        self.player.children = (note, self.slider)

    def static_html(self) -> str:
        return render_explorer(self.model, self.images, self.labels)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.static_html()
        return bundle


def lenet_explorer(model: nn.Module, images: torch.Tensor, labels: Optional[Sequence[int]] = None) -> LenetExplorer:
    """Explore `model` (the LeNet of `book.train.lenet()`, or of `lenet(batch_norm=True)` with its batch norms
    folded into those layers) on `images` (one 28 × 28 digit or a batch, standardised
    as `book.data.load_mnist` does): a live widget in Jupyter, a self-contained explorer with a drawing canvas on the
    static site. `labels` (optional) are shown beside the predictions.

    >>> lenet_explorer(model, mnist.test_images[:40], mnist.test_labels[:40])   # doctest: +SKIP
    """
    return LenetExplorer(model, images, labels)

