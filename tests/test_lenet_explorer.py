"""book.viz.lenet_explorer against torch: the stages it shows are LeNet's layers, the data it embeds decodes to the
model's weights and the digits bit for bit, the digits it picks are the ones its rule names, the live widget's kernel
player for a feature map reproduces that map from the real input channels and the real kernel, and the static
explorer stays within chapter 7's page budget. (The page's own forward pass is held to torch in
test_lenet_explorer_browser.py.)"""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from book import train
from book.viz import LenetExplorer, lenet_explorer, pick_digits
from book.viz.lenet_explorer import (COLOURS, STAGES, _colour, as_digits, check_lenet, digit_names, explorer_data,
                                     layer_outputs, player_template, render_explorer)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PAGE_BUDGET = 1_500_000    # bytes the explorer may add to chapter 7


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return train.lenet().eval()


@pytest.fixture(scope="module")
def images():
    return torch.randn(44, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def _decoded(text: str) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(base64.b64decode(text), dtype="<f4").copy())


def _same_id(page: str) -> str:
    """`page` with its explorer's id, unique per call, replaced by one name."""
    return re.sub(r"lx-[0-9a-f]{10}-[0-9]+", "lx-ID", page)


def test_only_the_lenet_of_book_train_is_accepted(model):
    assert check_lenet(model) is model
    no_bias = train.lenet()
    no_bias[3] = torch.nn.Conv2d(6, 16, 5, bias=False)
    dilated = train.lenet()
    dilated[2] = torch.nn.MaxPool2d(2, 2, dilation=2)
    for other in (train.lenet(classic=True), train.net2(), train.mlp(), torch.nn.Linear(2, 2), no_bias, dilated):
        with pytest.raises(ValueError, match="book.train.lenet"):
            check_lenet(other)


def test_the_lenet_with_batch_norm_is_shown_folded(images):
    torch.manual_seed(2)
    normalised = train.lenet(batch_norm=True)
    with torch.no_grad():   # statistics other than the initial ones, so that folding changes the weights
        normalised(images)
    normalised.eval()
    shown = check_lenet(normalised)
    assert shown is not normalised and [type(m) for m in shown] == [type(m) for m in train.lenet()]
    with torch.no_grad():
        expected = normalised(images[:1])[0]
    assert torch.allclose(layer_outputs(normalised, images[0])["scores"], expected, atol=1e-5)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in normalised)   # the trained model is left as it was


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (3, 1, 28, 28)])
def test_digits_come_in_any_of_the_usual_shapes(shape):
    assert as_digits(torch.zeros(shape)).shape == (shape[0] if len(shape) == 4 else 1, 1, 28, 28)


@pytest.mark.parametrize("shape", [(27, 28), (2, 28, 28), (1, 3, 28, 28), (0, 1, 28, 28)])
def test_other_shapes_are_refused_in_one_line(shape):
    with pytest.raises(ValueError, match="images must be"):
        as_digits(torch.zeros(shape))


def test_stages_are_lenets_layers_as_torch_computes_them(model, images):
    x = images[:1]
    outputs = layer_outputs(model, x[0])
    conv1 = F.conv2d(x, model[0].weight, model[0].bias, padding=2)
    pool1 = F.max_pool2d(F.relu(conv1), 2)
    conv2 = F.conv2d(pool1, model[3].weight, model[3].bias)
    pool2 = F.max_pool2d(F.relu(conv2), 2)
    dense1 = F.relu(F.linear(pool2.flatten(1), model[7].weight, model[7].bias))
    dense2 = F.relu(F.linear(dense1, model[9].weight, model[9].bias))
    expected = {"input": x, "conv1": conv1, "relu1": F.relu(conv1), "pool1": pool1, "conv2": conv2,
                "relu2": F.relu(conv2), "pool2": pool2, "dense1": dense1, "dense2": dense2, "scores": model(x)}
    assert [key for key, _caption, _scale in STAGES] == list(expected)
    for key, value in expected.items():
        torch.testing.assert_close(outputs[key], value[0].detach(), rtol=1e-5, atol=1e-5, msg=key)
    torch.testing.assert_close(outputs["probabilities"], torch.softmax(outputs["scores"], 0))
    assert model.training is False


def test_layer_outputs_leave_a_training_model_training(model, images):
    model.train()
    try:
        layer_outputs(model, images[0])
        assert model.training
    finally:
        model.eval()


def test_embedded_data_decodes_to_the_weights_and_digits_exactly(model, images):
    data = explorer_data(model, images, list(range(44)))
    for name, index in (("conv1", 0), ("conv2", 3), ("dense1", 7), ("dense2", 9), ("scores", 11)):
        assert torch.equal(_decoded(data["weights"][name]["w"]), model[index].weight.detach().flatten())
        assert torch.equal(_decoded(data["weights"][name]["b"]), model[index].bias.detach().flatten())
    assert torch.equal(_decoded(data["digits"]), images.flatten()) and "pixels" not in data   # not MNIST's: floats
    assert data["labels"] == list(range(44)) and (data["mean"], data["std"]) == (0.1307, 0.3081)
    assert explorer_data(model, images[0, 0])["labels"] == [None]
    with pytest.raises(ValueError, match="3 labels for 44 images"):
        explorer_data(model, images, [1, 2, 3])


def test_picked_digits_are_correct_ones_per_class_then_the_first_mistakes(model, images):
    predicted = train.predict(model, images)
    labels = predicted.clone()
    wrong = torch.tensor([3, 9, 17, 30, 41])
    labels[wrong] = (predicted[wrong] + 1) % 10
    chosen = pick_digits(model, images, labels, wrong=4, per_class=1)
    right = [int((labels == d).logical_and(labels == predicted).nonzero()[0]) for d in range(10)
             if ((labels == d) & (labels == predicted)).any()]
    assert chosen.tolist() == right + [3, 9, 17, 30]


def test_the_static_explorer_is_self_contained_and_within_the_page_budget(model, images):
    page = render_explorer(model, images, list(range(44)))
    assert len(page.encode()) <= PAGE_BUDGET
    assert not re.search(r"(src|href)=\"?(https?:)?//", page), "the explorer fetches something"
    data = re.search(r'<script type="application/json" class="lx-data">(.*?)</script>', page, re.S).group(1)
    assert json.loads(data.replace("<\\/", "</"))["stages"] == [list(stage) for stage in STAGES]
    assert page.count("<script") == page.count("</script>") == 3      # data, the kernel player's script, its own
    assert len(set(re.findall(r'id="(lx-[^"]+)"', page + render_explorer(model, images)))) == 2
    assert _same_id(lenet_explorer(model, images).static_html()) == _same_id(render_explorer(model, images))


@pytest.mark.parametrize("channels, size, padding", [(1, 28, 2), (6, 14, 0)])
def test_a_player_template_numbers_its_cells_and_leaves_the_arithmetic_to_the_page(channels, size, padding):
    """The page swaps each numbered input and kernel cell for its value and writes the outputs and arithmetic."""
    template = player_template(channels, size, padding)
    record = template["s"][0]

    def texts(marker):
        return [int(n) for q in record["p"] if isinstance(q, int) and marker in template["f"][q]
                for n in re.findall(r"<text[^>]*>(\d+)</text>", template["f"][q])]
    assert texts('<g class="ks-vals">') == list(range(channels * size * size))
    assert texts('class="ks-kernel"') == list(range(channels * 25))
    outputs = [q for q in record["p"] if isinstance(q, list)]
    assert len(outputs) == 1 and record["n"] == (size + 2 * padding - 4) ** 2
    assert {template["x"][i] for i in template["v"][record["e"]] + template["v"][outputs[0][1]]} == {""}
    assert template["x"][record["t"]].startswith(f"correlation · input {'6×' if channels > 1 else ''}{size}×{size}")


def test_colours_run_from_the_low_end_through_the_middle_to_the_high_end():
    values = np.array([[-2.0, 0.0, 1.0, 2.0, 5.0]])
    pixels = _colour(values, "signed", 2.0)[0]
    hexes = ["#" + "".join(f"{v:02x}" for v in pixel) for pixel in pixels]
    low, mid, high = COLOURS["signed"]
    assert (hexes[0], hexes[1], hexes[3], hexes[4]) == (low, mid, high, high)
    assert _colour(values, "ink", 0.0).tolist() == [[[255, 255, 255]] * 5]


def test_widget_recomputes_when_the_digit_changes(model, images):
    explorer = LenetExplorer(model, images[:3], [0, 1, 2])
    first = (explorer.status.value, explorer.view.value)
    explorer.digit.value = 2
    predicted = int(model(images[2:3]).argmax())
    assert explorer.status.value.startswith(f"predicted {predicted} with probability")
    assert (explorer.status.value, explorer.view.value) != first
    assert explorer.view.value.count("<img") == 1 + 6 + 6 + 6 + 16 + 16 + 16 + 1 + 1
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert _same_id(bundle["text/html"]) == _same_id(explorer.static_html())


@pytest.mark.parametrize("stage, channel", [("conv1", 4), ("conv2", 11)])
def test_a_feature_maps_kernel_player_slides_the_real_kernel_over_the_real_input(model, images, stage, channel):
    explorer = lenet_explorer(model, images[:2])
    explorer.digit.value = 1
    explorer.feature_map.value = (stage, channel)
    frames = explorer.slider.frames
    layer = model[0] if stage == "conv1" else model[3]
    assert torch.equal(frames.kernel, layer.weight[channel].detach().double())
    assert frames.input.shape[0] == layer.in_channels
    expected = layer_outputs(model, images[1])[stage][channel].double()
    torch.testing.assert_close(frames.output[0] + float(layer.bias[channel].detach()), expected, rtol=1e-5, atol=1e-5)
    explorer.feature_map.value = None
    assert explorer.slider is None and explorer.player.children == ()


def test_the_bench_measures_the_explorer_of_any_weights_and_digits(model, images, monkeypatch):
    """`python -m book.bench widget` measures an untrained LeNet on blank digits: the same bytes as any other."""
    import itertools
    import sys

    from book.bench.widget import EXPLORER_TARGET_BYTES, explorer_bytes
    lenet_explorer = sys.modules[render_explorer.__module__]   # book.viz.lenet_explorer names the module's function
    digits = _mnist_like(len(images))
    # Each explorer's element id ends in a counter of the explorers made so far: the same for both, as in two fresh runs
    monkeypatch.setattr(lenet_explorer, "_explorer_ids", itertools.count())
    measured = explorer_bytes(len(images))
    monkeypatch.setattr(lenet_explorer, "_explorer_ids", itertools.count())
    assert measured == len(render_explorer(model, digits, [7] * len(images)).encode())
    assert explorer_bytes() <= EXPLORER_TARGET_BYTES


def _mnist_like(n: int) -> torch.Tensor:
    """`n` digits of random bytes, standardised as `book.data.load_mnist` standardises MNIST's."""
    from book.data import _normalise
    return _normalise(torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(2)))


def test_mnist_digits_are_embedded_as_their_bytes(model):
    from book.data import MNIST_MEAN, MNIST_STD
    digits = _mnist_like(3)
    data = explorer_data(model, digits)
    assert "digits" not in data
    pixels = torch.frombuffer(bytearray(base64.b64decode(data["pixels"])), dtype=torch.uint8).reshape(3, 28, 28)
    assert torch.equal(pixels, ((digits[:, 0] * MNIST_STD + MNIST_MEAN) * 255).round().to(torch.uint8))
    assert len(render_explorer(model, digits)) < len(render_explorer(model, digits + 1e-3)) - 3 * 784 * 3


def test_the_bench_finds_the_whole_explorer_on_a_page(model, images, tmp_path):
    from book.bench.widget import page_player_bytes
    explorer = render_explorer(model, images[:3])
    (tmp_path / "chapter.html").write_text(f"<html><body><p>before</p>{explorer}<p>after</p></body></html>")
    assert page_player_bytes(tmp_path) == {"chapter.html": {"players": 0, "bytes": 0,
                                                            "explorer_bytes": len(explorer.encode())}}


def test_digits_are_named_by_place_label_and_what_lenet_reads(model, images):
    predicted = train.predict(model, images[:2]).tolist()
    assert digit_names(model, images[:2], [7, None]) == [f"digit 1: label 7, LeNet reads {predicted[0]}",
                                                         f"digit 2: LeNet reads {predicted[1]}"]
    assert digit_names(model, images[:1]) == [f"digit 1: LeNet reads {predicted[0]}"]


@pytest.mark.built
def test_a_built_chapter_7_keeps_its_explorer_within_the_budget(root):
    from book.bench.widget import EXPLORER_TARGET_BYTES, page_player_bytes
    pages = page_player_bytes(root / "_build" / "html")
    explorer = pages.get("chapters/07_lenet_mnist.html", {}).get("explorer_bytes", 0)
    if not explorer:
        pytest.skip("no built chapter 7 with a LeNet explorer: run `make book` first")
    assert explorer <= EXPLORER_TARGET_BYTES
