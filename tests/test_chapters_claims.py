"""The claims chapters 1-6 make in prose, checked against what the executed chapters compute, and the textbook
structure every chapter shares.

A chapter's prose states rules ("the full result has n + k - 1 entries", "output_padding rows get zero gradient
only when ...") that its cells illustrate. The claim tests execute each chapter once per session, read the values
its cells computed from the kernel's namespace (`PROBES`), and check the prose's rule on them, so a cell whose
result changes fails the claim it illustrates; they are `slow`, as every test that executes notebooks. The
structural tests read the committed notebooks: learning objectives, check-your-understanding answers, an exercise
link, every figure referenced by number, no heading buried inside a cell.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch import nn
import yaml
from nbclient import NotebookClient

from conftest import ROOT, SITE
from book.cost import conv2d_macs
from book.shapes import conv_output_remainder, conv_output_size, conv_transpose_output_size

CHAPTERS = sorted((ROOT / "chapters").glob("0[1-7]_*.ipynb"))
APPENDICES = sorted((ROOT / "chapters").glob("appendix_*.ipynb"))


def _markdown(path: Path) -> List[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"]


def _id(path: Path) -> str:
    return path.stem


def _executed(stem: str) -> nbformat.NotebookNode:
    """The build's executed copy of chapters/<stem>.ipynb (from its jupyter-cache), to check what the page shows."""
    cache_dir = ROOT / yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["execute"]["cache"]
    if not cache_dir.is_dir():
        pytest.skip("the site is not built: run `make book` first (make test does)")
    from jupyter_cache import get_cache

    try:
        return get_cache(cache_dir).merge_match_into_notebook(
            nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4))[1]
    except KeyError:
        pytest.fail(f"{stem}: the build's cache holds no run of its current code; run `make book`")


def _glued(stem: str) -> Dict[str, Any]:
    """Every value the executed chapter glued, by name (numbers as numbers, strings as strings)."""
    values = {}
    for cell in _executed(stem).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                values[name] = ast.literal_eval(output["data"]["application/papermill.record/text/plain"])
    return values


# ---------------------------------------------------------------------------------------------------------------
# Computed claims, read from the executed chapters
# ---------------------------------------------------------------------------------------------------------------

# What each chapter computed, read from its kernel right after the first cell whose source contains the anchor:
# {stem: {anchor: {name: expression evaluated in the chapter's namespace}}}. A cell that changes its result changes
# these values, so the claim its prose makes is checked against what the page shows.
PROBES: Dict[str, Dict[str, Dict[str, str]]] = {
    "01_convolution_math": {
        "full = convolve1d(eaten, undigested": {
            "full": "len(full)", "f": "len(eaten)", "g": "len(undigested)"},
        "y = convolve1d(x, w)": {"y": "y.tolist()", "x": "len(x)", "w": "len(w)"},
        "smooth = convolve1d(close, average": {"smooth": "len(smooth)", "close": "len(close)", "window": "window"},
        "combined = convolve1d(average, first)": {"combined": "len(combined)", "average": "len(average)",
                                                  "first": "len(first)"},
        "print(\"wide convolution commutes": {
            "X": "list(X.shape)", "K": "list(K.shape)",
            "commutes": "bool(torch.allclose(convolve2d(X, K, mode='full'), convolve2d(K, X, mode='full')))",
            "rot180_swaps": "bool(torch.allclose(wide_corr(rot180(K), X), wide_corr(rot180(X), K)))",
            "rot180_of_swap": "bool(torch.allclose(wide_corr(X, K), rot180(wide_corr(K, X))))",
            "same_XK": "list(convolve2d(X, K, mode='same').shape)",
            "same_KX": "list(convolve2d(K, X, mode='same').shape)"},
    },
    "02_fc_to_conv": {
        "dense = nn.Linear(pixels * colours, hidden": {
            "weights": "weights", "inputs": "pixels * colours", "hidden": "hidden"},
        "conv = nn.Conv2d(colours, hidden, kernel_size=3)": {
            "conv_params": "conv_params", "dense_params": "dense_params", "colours": "colours", "hidden": "hidden"},
        "shifted_then_filtered = corr2d": {
            "equivariant": "bool(torch.allclose(shifted_then_filtered, filtered_then_shifted))"},
        "blind = corr2d(X.t(), K)": {"Y": "Y.tolist()", "blind": "float(blind)"},
        "learned = conv2d.weight.data": {"distance": "float(torch.dist(learned, K))"},
        "stacks = {": {"fields": "{name: measured_receptive_field(layers)[0] for name, layers in stacks.items()}"},
        "channels, size = 64, 56": {"stacked": "weight_count(stacked)", "single": "weight_count(single)"},
        "def is_additive": {"linear": "is_additive(linear_stack)", "relu": "is_additive(relu_stack)"},
    },
    "03_padding_stride_dilation": {
        "size, sizes = 240, [240]": {"sizes": "sizes"},
        "d2l_p = k - 1": {"k": "k", "d2l_p": "d2l_p", "d2l_rows": "d2l_rows", "ours": "ours"},
        "Y = trans_conv(X, K)": {"Y": "Y.tolist()"},
        "for output_padding in (0, 1):": {"n": "n", "m": "m", "r": "r", "size": "size",
                                          "output_padding": "output_padding"},
        "CtC = C.T @ C": {"rank": "rank", "inputs": "n * n", "outputs": "C.shape[0]",
                          "identity": "bool(torch.allclose(CtC, torch.eye(n * n, dtype=torch.float64)))"},
    },
    "05_1x1_convolution": {
        "differing = int((Y1 != Y2).sum())": {"differing": "differing", "largest": "gaps.max().item()"},
        "columns = views.reshape": {"columns": "list(columns.shape)", "inputs": "X.numel()", "c_i": "c_i",
                                    "k_h": "k_h", "k_w": "k_w", "Y": "list(Y.shape)"},
        "one_by_one = conv2d_macs": {"one_by_one": "one_by_one", "three_by_three": "three_by_three"},
        "bottleneck = nn.Sequential": {
            "bottleneck": "parameters(bottleneck)", "basic": "parameters(basic)", "wide": "parameters(wide_basic)",
            "bottleneck_macs": "bottleneck_macs", "basic_macs": "basic_macs", "wide_macs": "wide_macs"},
        "per_pixel = linear(": {"per_pixel": "bool(torch.allclose(conv(batch), per_pixel.permute(0, 3, 1, 2)))"},
        "unshuffled3[..., shuffle]": {"change_1x1": "(unshuffled.reshape(2, 4, 5, 7) - conv(batch)).abs().max().item()",
                                      "change_3x3": "change"},
    },
    "04_channels": {
        "for groups in (1, 2, 8, 32):": {"groups": "groups", "c_in": "c_in", "c_out": "c_out",
                                         "shape": "list(layer.weight.shape)", "weights": "layer.weight.numel()"},
        "NOTES_CPU, NOTES_GPU = ": {"forward": "forward_epoch", "flops": "epoch_flops", "cpu": "NOTES_CPU",
                                    "gpu": "NOTES_GPU"},
        "y = F.conv2d(x, K, stride=stride, padding=padding)": {
            "n": "x.shape[-1]", "reached": "reached", "remainder": "remainder", "padding": "padding",
            "last_row": "x.grad[..., -1, :].abs().max().item()",
            "equals_grad": "bool(torch.allclose(x.grad, conv_transpose2d(grad_y, K, **settings)))"},
        "def unread_rows": {"unread": "[[n, k, s, p, unread_rows(n, k, s, p)] for n in range(5, 13) for k, s, p in "
                                      "((3, 2, 1), (3, 3, 0), (3, 3, 1), (2, 3, 0), (5, 4, 2), (1, 2, 0))]"},
    },
    "06_pooling": {
        "maps = {name: edge_maps(": {
            "columns": "columns", "width": "width",
            "pooled_right": "maps['one pixel right']['max pool 2x2, stride 2'][0].tolist()",
            "kept": "{stage: [kept(before, maps['one pixel right'][stage]).strip(), "
                    "kept(before, maps['one pixel left'][stage]).strip()] for stage, before in maps['original'].items()}"},
    },
}


def _ask(client: NotebookClient, notebook: nbformat.NotebookNode, expressions: Dict[str, str]) -> Dict[str, Any]:
    """The values of `expressions` in the kernel's namespace, through a cell run after the chapter's (never saved)."""
    pairs = ", ".join(f"{name!r}: {expression}" for name, expression in expressions.items())
    probe = nbformat.v4.new_code_cell(f"print(__import__('json').dumps({{{pairs}}}))")
    notebook.cells.append(probe)
    try:
        client.execute_cell(probe, len(notebook.cells) - 1, store_history=False)
    finally:
        notebook.cells.pop()
    return json.loads("".join(o.text for o in probe.outputs if o.output_type == "stream" and o.name == "stdout"))


def _execute(stem: str) -> Dict[str, Dict[str, Any]]:
    """Run chapters/<stem>.ipynb top to bottom in a fresh kernel and read `PROBES[stem]` as its cells run."""
    notebook = nbformat.read(ROOT / "chapters" / f"{stem}.ipynb", as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(ROOT / "chapters")}})
    probes, values = PROBES[stem], {}
    with client.setup_kernel():
        for index, cell in enumerate(list(notebook.cells)):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            for anchor in [a for a in probes if a in cell.source and a not in values]:
                values[anchor] = _ask(client, notebook, probes[anchor])
    missing = sorted(set(probes) - set(values))
    assert not missing, f"{stem}: no code cell contains {missing}; the chapter changed, update PROBES"
    return values


@pytest.fixture(scope="session")
def chapter():
    """`chapter(stem)[anchor][name]`: a value chapters/<stem>.ipynb computed, each chapter executed once per session."""
    runs: Dict[str, Dict[str, Dict[str, Any]]] = {}

    def values(stem: str) -> Dict[str, Dict[str, Any]]:
        if stem not in runs:
            runs[stem] = _execute(stem)
        return runs[stem]
    return values


@pytest.mark.slow
def test_chapter_1_full_convolutions_have_n_plus_k_minus_1_entries_and_the_echo_has_zeros(chapter) -> None:
    """A full convolution has n+k-1 entries, not n+k-1 non-zero ones: the chapter's own echo example has zeros."""
    ch1 = chapter("01_convolution_math")
    meals = ch1["full = convolve1d(eaten, undigested"]
    assert meals["full"] == meals["f"] + meals["g"] - 1
    echo = ch1["y = convolve1d(x, w)"]
    assert len(echo["y"]) == echo["x"] + echo["w"] - 1 and 0 in echo["y"]


@pytest.mark.slow
def test_chapter_1_valid_mode_has_n_minus_k_plus_1_entries_and_kernels_combine_to_k1_plus_k2_minus_1(chapter) -> None:
    ch1 = chapter("01_convolution_math")
    average = ch1["smooth = convolve1d(close, average"]
    assert average["smooth"] == average["close"] - average["window"] + 1
    combined = ch1["combined = convolve1d(average, first)"]
    assert combined["combined"] == combined["average"] + combined["first"] - 1


@pytest.mark.slow
def test_chapter_1_wide_convolution_commutes_so_rot180_swaps_the_arguments_and_same_keeps_the_first_shape(
        chapter) -> None:
    wide = chapter("01_convolution_math")["print(\"wide convolution commutes"]
    assert wide["commutes"] and wide["rot180_swaps"] and wide["rot180_of_swap"]
    assert wide["same_XK"] == wide["X"] and wide["same_KX"] == wide["K"] and wide["X"] != wide["K"]


@pytest.mark.slow
def test_chapter_2_dense_layer_needs_billions_of_weights_and_the_convolution_a_few_thousand(chapter) -> None:
    ch2 = chapter("02_fc_to_conv")
    dense = ch2["dense = nn.Linear(pixels * colours, hidden"]
    assert dense["weights"] == dense["inputs"] * dense["hidden"] >= 1e9   # the summary: "billions of weights"
    conv = ch2["conv = nn.Conv2d(colours, hidden, kernel_size=3)"]
    assert conv["conv_params"] == conv["hidden"] * (conv["colours"] * 3 * 3 + 1)
    assert conv["dense_params"] == dense["weights"] + dense["hidden"] > 1e5 * conv["conv_params"]


@pytest.mark.slow
def test_chapter_2_shifting_commutes_with_the_layer_and_the_edge_detector_sees_only_vertical_edges(chapter) -> None:
    ch2 = chapter("02_fc_to_conv")
    assert ch2["shifted_then_filtered = corr2d"]["equivariant"]
    edges = ch2["blind = corr2d(X.t(), K)"]
    assert edges["blind"] == 0   # the transposed image's edges are horizontal: [1, -1] finds none
    assert all(row == [0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0] for row in edges["Y"])
    assert ch2["learned = conv2d.weight.data"]["distance"] < 0.5   # gradient descent heads for [1, -1]


@pytest.mark.slow
def test_chapter_2_receptive_fields_and_the_cost_of_one_5x5_against_two_3x3(chapter) -> None:
    ch2 = chapter("02_fc_to_conv")
    fields = ch2["stacks = {"]["fields"]
    assert fields["two 3x3"] == fields["one 5x5"] == 5 and fields["three 3x3"] == 7   # k - 1 per layer
    assert fields["3x3 stride 2, then 3x3"] == 7 and fields["three 3x3, stride 2 each"] == 15
    weights = ch2["channels, size = 64, 56"]
    assert weights["stacked"] / weights["single"] == pytest.approx(2 * 9 / 25)   # fewer parameters
    additive = ch2["def is_additive"]
    assert additive["linear"] and not additive["relu"]


@pytest.mark.slow
def test_chapter_3_unpadded_layers_trim_k_minus_1_and_d2l_padding_is_the_per_side_half(chapter) -> None:
    ch3 = chapter("03_padding_stride_dilation")
    sizes = ch3["size, sizes = 240, [240]"]["sizes"]
    assert sizes[0] == 240 and all(a - b == 5 - 1 for a, b in zip(sizes, sizes[1:])) and len(sizes) == 11
    d2l = ch3["d2l_p = k - 1"]
    out = F.conv2d(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, d2l["k"], d2l["k"]), padding=d2l["d2l_p"] // 2)
    assert d2l["d2l_p"] == d2l["k"] - 1 and d2l["ours"] == d2l["d2l_rows"] == out.shape[-1] == 8


@pytest.mark.slow
def test_chapter_3_transposed_convolution_example_and_output_padding_restore_the_size(chapter) -> None:
    ch3 = chapter("03_padding_stride_dilation")
    assert ch3["Y = trans_conv(X, K)"]["Y"] == [[0.0, 0.0, 1.0], [0.0, 4.0, 6.0], [4.0, 12.0, 9.0]]   # d2l's
    restore = ch3["for output_padding in (0, 1):"]
    assert restore["r"] == restore["output_padding"] == 1 and restore["size"] == restore["n"] == 8
    assert conv_transpose_output_size(restore["m"], 3, stride=2, padding=1) == restore["n"] - restore["r"]


@pytest.mark.slow
def test_chapter_3_a_strided_convolution_loses_directions_so_its_transpose_is_no_inverse(chapter) -> None:
    """Chapter 3's note: C^T C is singular for the page's 5x5 input, 3x3 kernel, stride 2, padding 1."""
    matrix = chapter("03_padding_stride_dilation")["CtC = C.T @ C"]
    assert matrix["outputs"] < matrix["inputs"] and matrix["rank"] <= matrix["outputs"] < matrix["inputs"]
    assert not matrix["identity"]


@pytest.mark.slow
def test_chapter_5_two_correct_sums_differ_in_the_last_bits_only(chapter) -> None:
    sums = chapter("05_1x1_convolution")["differing = int((Y1 != Y2).sum())"]
    assert sums["largest"] < 1e-6   # the page's tolerance
    assert (sums["differing"] == 0) == (sums["largest"] == 0)


@pytest.mark.slow
def test_chapter_5_im2col_shapes_cost_and_the_bottleneck(chapter) -> None:
    ch5 = chapter("05_1x1_convolution")
    im2col = ch5["columns = views.reshape"]
    c_o, m_h, m_w = im2col["Y"]
    assert im2col["columns"] == [im2col["c_i"] * im2col["k_h"] * im2col["k_w"], m_h * m_w]
    assert im2col["columns"][0] * im2col["columns"][1] > im2col["inputs"]   # "the price is memory"
    costs = ch5["one_by_one = conv2d_macs"]
    assert costs["three_by_three"] == 9 * costs["one_by_one"]   # "nine times as much"
    blocks = ch5["bottleneck = nn.Sequential"]
    # He et al.'s pair costs "about the same"; a basic block as wide as the bottleneck costs many times more.
    assert 0.9 < blocks["bottleneck_macs"] / blocks["basic_macs"] < 1.1
    assert 0.9 < blocks["bottleneck"] / blocks["basic"] < 1.1
    assert blocks["wide_macs"] > 10 * blocks["bottleneck_macs"] and blocks["wide"] > 10 * blocks["bottleneck"]


@pytest.mark.slow
def test_chapter_5_a_1x1_convolution_is_a_linear_layer_per_pixel_that_commutes_with_shuffling(chapter) -> None:
    ch5 = chapter("05_1x1_convolution")
    assert ch5["per_pixel = linear("]["per_pixel"]
    shuffled = ch5["unshuffled3[..., shuffle]"]
    assert shuffled["change_1x1"] < 1e-6 < shuffled["change_3x3"]


@pytest.mark.slow
def test_chapter_4_depthwise_answer_states_the_weights_the_page_builds(chapter) -> None:
    """The check-your-understanding answer (32 channels, multiplier 2) against the layer the page's loop builds."""
    layer = chapter("04_channels")["for groups in (1, 2, 8, 32):"]
    assert layer["groups"] == layer["c_in"] == 32 and layer["c_out"] == 2 * layer["c_in"]
    assert layer["shape"] == [layer["c_out"], 1, 3, 3] and layer["weights"] == 576
    answer = next(cell for cell in _markdown(ROOT / "chapters" / "04_channels.ipynb") if "channel multiplier of 2" in cell)
    assert f"weight shape $({', '.join(map(str, layer['shape']))})$: ${layer['weights']}$ weights" in answer


@pytest.mark.slow
def test_chapter_4_counts_the_notes_epoch_in_flops_so_their_estimate_doubles(chapter) -> None:
    """Seed 002 counts 10 P multiply-adds as '10P FLOPs' and divides by FLOP/s rates: 18 h and 14 min. In FLOPs
    (two per multiply-add) the same epoch takes twice that at the same rates."""
    epoch = chapter("04_channels")["NOTES_CPU, NOTES_GPU = "]
    assert round(epoch["forward"] / 1e15) == 10 and epoch["flops"] == 2 * epoch["forward"]
    assert 18 <= epoch["forward"] / epoch["cpu"] / 3600 < 19.5 and 13.5 <= epoch["forward"] / epoch["gpu"] / 60 < 14.5
    assert 36 <= epoch["flops"] / epoch["cpu"] / 3600 < 39 and 27 <= epoch["flops"] / epoch["gpu"] / 60 < 29


@pytest.mark.slow
def test_chapter_4_example_row_supplied_by_output_padding_gets_a_gradient(chapter) -> None:
    example = chapter("04_channels")["y = F.conv2d(x, K, stride=stride, padding=padding)"]
    assert example["equals_grad"] and example["reached"] + example["remainder"] == example["n"]
    assert example["remainder"] - example["padding"] <= 0 < example["last_row"]   # max(0, r - p) = 0 rows unread


@pytest.mark.slow
def test_chapter_6_floor_mode_pooling_drops_the_right_shifted_edge_instead_of_moving_it(chapter) -> None:
    """6:c27: shifting the band image right puts an edge in a column no stride-2 window reads."""
    shifted = chapter("06_pooling")["maps = {name: edge_maps("]
    read = 2 * (shifted["width"] // 2)
    assert shifted["width"] % 2 == 1 and shifted["columns"][-1] >= read
    assert sum(v > 0 for v in shifted["pooled_right"]) == len([c for c in shifted["columns"] if c < read])
    kept = shifted["kept"]
    assert kept["edges"] == ["0%", "0%"]   # "the raw edge map keeps none of its responses"
    assert kept["max pool 2x2, stride 2"][1] == "100%"   # "the shift to the left ... changes nothing"


@pytest.mark.slow
def test_output_padding_restores_the_floor_remainder_and_only_rows_beyond_the_padding_get_zero_gradient(
        chapter) -> None:
    """The rule chapter 4's backpropagation section states (it replaced 3:c43's 'they get zero gradient'), with the
    page's own `unread_rows` measuring the rows autograd gives no gradient, on more layers than the page prints."""
    cases = chapter("04_channels")["def unread_rows"]["unread"]
    for n, k, stride, padding, unread in cases:
        remainder = (n + 2 * padding - k) % stride
        assert conv_output_remainder(n, k, stride=stride, padding=padding) == remainder
        m = conv_output_size(n, k, stride=stride, padding=padding)
        assert conv_transpose_output_size(m, k, stride=stride, padding=padding, output_padding=remainder) == n
        assert unread == max(0, remainder - padding), (n, k, stride, padding)


def test_backpropagation_through_a_convolution_is_taught_in_chapter_4_and_chapter_6_links_back() -> None:
    """The issue: the convolution's gradients sat in the pooling chapter, four chapters after the layer."""
    channels = "\n".join(_markdown(ROOT / "chapters" / "04_channels.ipynb"))
    pooling = "\n".join(_markdown(ROOT / "chapters" / "06_pooling.ipynb"))
    assert "(sec-ch4-backprop)=\n## Backpropagation through a convolution" in channels
    for label in ("eq-grad-kernel", "eq-grad-input"):
        assert f"$$ ({label})" in channels and f"$$ ({label})" not in pooling
    assert "### Through a convolution" not in pooling and "{ref}`sec-ch4-backprop`" in pooling


def test_chapter_4_glues_the_cost_estimate_instead_of_typing_it() -> None:
    prose = "\n".join(_markdown(ROOT / "chapters" / "04_channels.ipynb"))
    for name in ("ch4_forward_peta", "ch4_forward_petaflop", "ch4_notes_cpu_hours", "ch4_notes_gpu_minutes",
                 "ch4_measured_hours"):
        assert f"{{glue:text}}`{name}" in prose
    assert not re.search(r"\b(18|19|37|38) ?h(ours)?\b|\b(14|28) ?min", prose)
    assert "multiply-adds/s" not in prose and "multiply-adds per second" not in prose


@pytest.mark.built
def test_chapter_4_divides_flops_not_multiply_adds_by_the_notes_flop_rates() -> None:
    """The notes' rates are FLOP/s and a multiply-add is two FLOPs: dividing multiply-adds by them halves the time."""
    glued = _glued("04_channels")
    macs = glued["ch4_forward_peta"] * 1e15
    assert glued["ch4_forward_petaflop"] * 1e15 == pytest.approx(2 * macs)
    assert glued["ch4_notes_cpu_hours"] == pytest.approx(2 * macs / glued["ch4_notes_cpu_tera"] / 1e12 / 3600)
    assert glued["ch4_notes_gpu_minutes"] == pytest.approx(2 * macs / glued["ch4_notes_gpu_tera"] / 1e12 / 60)


# ---------------------------------------------------------------------------------------------------------------
# Structure shared by every chapter
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_chapter_opens_with_objectives_and_ends_with_questions_and_its_exercises(path: Path) -> None:
    cells = _markdown(path)
    assert "Learning objectives and prerequisites" in cells[1], f"{path.name}: no objectives right after the title"
    questions = [cell for cell in cells if cell.startswith("## Check your understanding")]
    assert questions and questions[0].count(":class: dropdown") >= 2, f"{path.name}: no revealable questions"
    assert cells[-1].startswith("## Exercises") and f"{{doc}}`../exercises/{path.stem}`" in cells[-1]


@pytest.mark.parametrize("path", CHAPTERS + APPENDICES, ids=_id)
def test_no_heading_is_buried_inside_a_cell(path: Path) -> None:
    """A heading opens its cell; only a MyST target such as `(sec-ch4-backprop)=`, which names it, may precede it."""
    def lines(cell: str) -> List[str]:
        return cell.splitlines()[1:] if re.fullmatch(r"\([\w-]+\)=", cell.split("\n", 1)[0]) else cell.splitlines()

    buried = [cell.splitlines()[0] for cell in _markdown(path)
              if any(re.match(r"#{1,6} ", line) for line in lines(cell)[1:])]
    assert not buried, f"{path.name}: cells with a heading after their first line: {buried}"


@pytest.mark.parametrize("path", CHAPTERS + APPENDICES, ids=_id)
def test_every_figure_is_named_captioned_and_referenced(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    for cell in notebook.cells:
        figure = cell.metadata.get("mystnb", {}).get("figure")
        if figure:
            assert figure.get("caption") and figure.get("name"), f"{path.name}: figure without caption or name"
            assert f"{{numref}}`{figure['name']}`" in text, f"{path.name}: {figure['name']} is never referenced"


@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_one_notation(path: Path) -> None:
    """Padding per side, the kernel is K (the fully connected weights are the sans-serif W and V), windows are k."""
    text = "\n".join(_markdown(path))
    for wrong in (r"\mathbf V", r"\mathbf{V}", r"\mathbf W", r"\mathbf{W}", "p_h p_w", r"p_h \times p_w",
                  "total padding", "in total (top plus bottom)"):
        assert wrong not in text, f"{path.name}: {wrong!r}"


@pytest.mark.parametrize("path", sorted((ROOT / "chapters").glob("*.ipynb")), ids=_id)
def test_chapters_use_only_public_torch_api(path: Path) -> None:
    code = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    assert not re.search(r"torch(\.\w+)*\._(?!_)\w", code), f"{path.name} imports a private torch module"


def _appendix_letters() -> Dict[str, str]:
    """chapters/<stem>.ipynb's letter, by _config.yml's `appendices` order (what _ext/appendix_numbers.py reads)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return {Path(docname).name: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]
            for index, docname in enumerate(config["sphinx"]["config"]["appendices"])}


def test_every_appendix_is_lettered_and_in_the_table_of_contents() -> None:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert sorted(_appendix_letters()) == [path.stem for path in APPENDICES]
    assert all(f"file: chapters/{path.stem}" in toc for path in APPENDICES)


@pytest.mark.built
@pytest.mark.parametrize("path", APPENDICES, ids=_id)
def test_appendix_figures_and_equations_carry_its_letter(path: Path) -> None:
    page = SITE / "chapters" / f"{path.stem}.html"
    if not page.is_file():
        pytest.skip("the site is not built: run `make book` first (make test does)")
    letter = _appendix_letters()[path.stem]
    html = page.read_text(encoding="utf-8")
    numbers = re.findall(r"Fig\. ([A-Z0-9][\w.]*)", html)
    assert numbers and all(n.startswith(f"{letter}.") for n in numbers), numbers
    # Each appendix counts its own figures from 1 (Sphinx counts on across the unnumbered back matter).
    captions = [int(n) for n in re.findall(r'caption-number">Fig\. [A-Z]\.(\d+)', html)]
    assert captions == list(range(1, len(captions) + 1)), captions
    assert f"Appendix {letter}:" in nbformat.read(path, as_version=4).cells[1].source


LENET_PAGES = ["07_lenet_mnist", "appendix_lenet_fast"]


@pytest.mark.parametrize("stem", LENET_PAGES)
def test_lenet_pages_glue_every_run_result_and_ratio_instead_of_typing_it(stem: str) -> None:
    # Run results (accuracies, seconds, speed-ups) vary by seed and machine, and ratios of parameter counts follow
    # from the models: the prose must take them from the page's cells (MyST-NB's glue). Typed numbers may only be
    # the recipe's targets and definitions: the 99 % goal and label smoothing's 90 % / 10 % split.
    prose = "\n".join(_markdown(ROOT / "chapters" / f"{stem}.ipynb"))
    prose = re.sub(r"\{glue:text\}`[^`]*`|`[^`]*`|\$[^$]*\$|\{cite:p\}`[^`]*`", " ", prose)
    percentages = set(re.findall(r"\d[\d.,]*\s*%", prose))
    assert percentages <= {"99 %", "90 %", "10 %"}, percentages
    assert not re.findall(r"(?<![\w.])\d[\d.,]*\s+(?:s|seconds?|minutes?|times)\b(?![-×])", prose)
    spelled = r"\b(?:(?:two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|hundred) times" \
              r"|one (?:half|third|quarter|fifth|sixth|seventh|eighth|ninth|tenth)|two thirds)\b"
    assert not re.findall(spelled, prose, flags=re.IGNORECASE)
    assert not re.search(r"\d{1,3}(?:,\d{3})+ (?:parameters|weights)", prose), "a typed parameter count"


def test_the_weight_average_is_not_called_polyak_averaging() -> None:
    """7:c48 called the recipe's exponential moving average Polyak averaging, which is a uniform mean."""
    for stem in LENET_PAGES:
        cells = _markdown(ROOT / "chapters" / f"{stem}.ipynb")
        for cell in cells:
            if "Polyak" in cell:
                assert "not Polyak" in cell and "uniform" in cell, cell
        if any("Polyak" in cell for cell in cells):
            assert any("get_ema_multi_avg_fn" in cell for cell in cells)


def test_d2l_lenet_is_sigmoid_and_average_pooling_and_the_book_classic_form_matches_it() -> None:
    """7:c20 said d2l's LeNet uses ReLU and max pooling; d2l 1.0.3's uses nn.Sigmoid and nn.AvgPool2d."""
    from d2l import torch as d2l
    from book import train

    def kinds(model):
        return [type(m).__name__.replace("Lazy", "") for m in model]

    assert kinds(d2l.LeNet().net) == kinds(train.lenet(classic=True))
    assert {"Sigmoid", "AvgPool2d"} <= set(kinds(d2l.LeNet().net)) and "ReLU" not in kinds(d2l.LeNet().net)
    assert {"ReLU", "MaxPool2d"} <= set(kinds(train.lenet()))


class _RecordingOneCycle(torch.optim.lr_scheduler.OneCycleLR):
    """OneCycleLR that keeps its keyword arguments and the learning rate and momentum of every step."""
    made: List["_RecordingOneCycle"] = []

    def __init__(self, optimizer, **kwargs):
        self.kwargs, self.rates, self.momenta = kwargs, [], []
        super().__init__(optimizer, **kwargs)
        self.rates, self.momenta = [], []  # the constructor's own first step() sets up; training steps follow
        _RecordingOneCycle.made.append(self)

    def step(self, *args, **kwargs):
        group = self.optimizer.param_groups[0]
        self.rates.append(group["lr"])
        self.momenta.append(group["momentum"])
        super().step(*args, **kwargs)


def _fit_schedules(monkeypatch) -> List[_RecordingOneCycle]:
    """The schedules `fit` really runs with the recipe's settings, one per cycle, on a tiny fake data set (an epoch
    per cycle)."""
    from types import SimpleNamespace
    from book import train

    monkeypatch.setattr(torch.optim.lr_scheduler, "OneCycleLR", _RecordingOneCycle)
    _RecordingOneCycle.made.clear()
    generator = torch.Generator().manual_seed(0)
    fake = SimpleNamespace(train_images=torch.randn(640, 1, 28, 28, generator=generator),
                           train_labels=torch.randint(0, 10, (640,), generator=generator),
                           test_images=torch.randn(20, 1, 28, 28), test_labels=torch.randint(0, 10, (20,)))
    cycles = len(train.RECIPE["cycles"])
    settings = {**train.RECIPE, "batch_size": 16, "epochs": cycles, "cycles": [1] * cycles}
    train.fit(train.lenet(batch_norm=True), fake, **settings, plot=False, verbose=False, threads=1)
    return list(_RecordingOneCycle.made)


def test_fit_runs_each_onecycle_with_its_defaults_but_the_warmup(monkeypatch) -> None:
    """7:c39/c45 said 'Nesterov momentum 0.9' and 'warming up over the first quarter'; OneCycleLR's defaults cycle
    the momentum 0.95 -> 0.85 -> 0.95, and the recipe's `warmup` places the peak. Appendix B draws the schedule by
    building the same schedulers with the same arguments, which holds only while fit passes no others."""
    from book import train

    schedules = _fit_schedules(monkeypatch)
    assert len(schedules) == len(train.RECIPE["cycles"]) == len(train.RECIPE["lr"])
    for schedule, peak_lr in zip(schedules, train.RECIPE["lr"]):
        total = len(schedule.rates)
        assert schedule.kwargs == {"max_lr": peak_lr, "pct_start": train.RECIPE["warmup"], "total_steps": total}
        peak = schedule.rates.index(max(schedule.rates))
        assert abs(peak / total - train.RECIPE["warmup"]) <= 1 / total + 1e-9
        assert max(schedule.momenta) == pytest.approx(0.95) and min(schedule.momenta) == pytest.approx(0.85)
        assert schedule.momenta[peak] == pytest.approx(0.85) and train.RECIPE["momentum"] not in schedule.momenta


@pytest.mark.built
def test_appendix_states_the_schedule_fit_runs(monkeypatch) -> None:
    from book import train

    glued, schedule = _glued("appendix_lenet_fast"), _fit_schedules(monkeypatch)[0]
    total = len(schedule.rates)
    assert glued["momentum_max"] == pytest.approx(max(schedule.momenta))
    assert glued["momentum_min"] == pytest.approx(min(schedule.momenta))
    assert abs(glued["onecycle_peak"] - schedule.rates.index(max(schedule.rates)) / total) <= 2 / total
    assert glued["momentum_given"] not in schedule.momenta
    assert (glued["cycle_peaks"], glued["cycle_epochs"]) == (str(train.RECIPE["lr"]), str(train.RECIPE["cycles"]))


@pytest.mark.built
def test_appendix_weight_average_conclusion_follows_its_own_numbers() -> None:
    """7:c50 concluded the average reached 99 % earlier while its own numbers had both reach it in epoch 3."""
    glued = _glued("appendix_lenet_fast")
    averaged = None if glued["averaged_99"] == "None" else int(glued["averaged_99"])
    latest = None if glued["latest_99"] == "None" else int(glued["latest_99"])
    verdict = glued["average_verdict"]
    if averaged == latest:
        assert "same epoch" in verdict
    elif averaged is not None and (latest is None or averaged < latest):
        assert "average reached 99 % sooner" in verdict
    else:
        assert "latest weights reached 99 % first" in verdict


@pytest.mark.built
def test_chapter_7_ratios_and_the_layers_it_names_come_from_the_models() -> None:
    from d2l import torch as d2l
    from book import train
    from book.bench.lenet import PytorchExampleNet

    def count(model):
        return sum(p.numel() for p in model.parameters())

    chapter, appendix = _glued("07_lenet_mnist"), _glued("appendix_lenet_fast")
    d2l_layers = [type(m).__name__ for m in d2l.LeNet().net]
    assert (chapter["d2l_activation"], chapter["d2l_pool"]) == (d2l_layers[1], d2l_layers[2])
    assert (chapter["book_activation"], chapter["book_pool"]) == ("ReLU", "MaxPool2d")
    assert chapter["lenet_params"] == f"{count(train.lenet()):,}"
    net = train.lenet()
    convolutions = sum(count(m) for m in net if isinstance(m, nn.Conv2d))
    assert chapter["conv_params_share"] == pytest.approx(convolutions / count(net))
    assert chapter["fc1_share_of_rest"] == pytest.approx(count(net[7]) / (count(net) - convolutions))
    assert 0.5 < chapter["conv_macs_share"] < 1   # "most of its arithmetic", in the questions at the end
    settings = ("batch_size", "weight_decay", "label_smoothing", "warmup")
    assert {name: chapter[f"recipe_{name}"] for name in settings} == {name: train.RECIPE[name] for name in settings}
    assert [chapter["recipe_lr_first"], chapter["recipe_lr_restart"]] == train.RECIPE["lr"]
    assert chapter["recipe_restart_epochs"] == train.RECIPE["cycles"][1] and len(train.RECIPE["cycles"]) == 2
    assert chapter["bn_params"] == f"{count(train.lenet(batch_norm=True)):,}"
    assert chapter["bn_channels"] == 6 + 16 + 120 + 84
    assert chapter["fold_gap"] < 1e-4   # "computes the same scores, up to rounding"
    assert chapter["mlp_param_ratio"] == pytest.approx(count(train.mlp()) / count(train.lenet()))
    assert appendix["lenet_over_net2"] == pytest.approx(count(train.lenet()) / count(train.net2()))
    assert appendix["example_over_lenet"] == pytest.approx(count(PytorchExampleNet()) / count(train.lenet()))
    assert appendix["example_fc1"] == "9,216 × 128"


@pytest.mark.built
def test_chapter_7_stride_two_layer_is_the_notes_and_costs_a_quarter() -> None:
    """Seed 003: nn.Conv2d(3, 10, kernel_size=3, padding=1, stride=2) takes (7, 3, 60, 60) to (7, 10, 30, 30)."""
    glued = _glued("07_lenet_mnist")
    assert glued["strided_out"] == str(tuple(F.conv2d(torch.zeros(7, 3, 60, 60), torch.zeros(10, 3, 3, 3),
                                                      stride=2, padding=1).shape)) == "(7, 10, 30, 30)"
    layer = dict(in_channels=3, out_channels=10, kernel_size=3, input_size=60, padding=1)
    assert glued["stride_macs_share"] == pytest.approx(conv2d_macs(**layer, stride=2).forward
                                                       / conv2d_macs(**layer).forward) == 0.25
