"""book.viz: the frames equal PyTorch, the widget follows its controls, bad settings give a message, the static
animation is self-contained and small."""
from __future__ import annotations

import json
import random
import re

import ipywidgets as widgets
import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

import book
from book.viz import MODES, kernel_slider, render_player, slide_frames
from book.viz.frames import PAD, ZERO, format_number

SIZE_CAP = 1_000_000


def _torch_output(mode, X, K, kernel_size, s, p, d, op):
    """What PyTorch itself computes for these settings (the reference the animation must match)."""
    x = X.unsqueeze(0)
    if mode == "correlation":
        return F.conv2d(x, K.unsqueeze(0), stride=s, padding=p, dilation=d)[0]
    if mode == "convolution":
        return F.conv2d(x, K.flip(-2, -1).unsqueeze(0), stride=s, padding=p, dilation=d)[0]
    if mode == "transposed":
        return F.conv_transpose2d(x, K.unsqueeze(1), stride=s, padding=p, output_padding=op, dilation=d)[0]
    if mode == "max":
        return F.max_pool2d(x, kernel_size, stride=s, padding=p, dilation=d)[0]
    return F.avg_pool2d(x, kernel_size, stride=s, padding=p)[0]


def _random_settings(rng: random.Random):
    mode = rng.choice(MODES)
    C = rng.choice([1, 1, 2, 3])
    H, W = rng.randint(1, 8), rng.randint(1, 8)
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    s = (rng.randint(1, 4), rng.randint(1, 4))          # includes stride > kernel
    d = (rng.randint(1, 3), rng.randint(1, 3)) if mode != "avg" else (1, 1)
    p = (rng.randint(0, 3), rng.randint(0, 3))
    op = (rng.randint(0, 2), rng.randint(0, 2)) if mode == "transposed" else (0, 0)
    X = torch.randint(-4, 5, (C, H, W), generator=torch.Generator().manual_seed(rng.randint(0, 10**6))).double()
    K = torch.randint(-2, 3, (C, kh, kw), generator=torch.Generator().manual_seed(rng.randint(0, 10**6))).double()
    return mode, X, K, (kh, kw), s, p, d, op


def _frames_or_none(mode, X, K, kernel_size, s, p, d, op):
    pooling = mode in ("max", "avg")
    try:
        return slide_frames(X, None if pooling else K, mode=mode, kernel_size=kernel_size if pooling else None,
                            stride=s, padding=p, dilation=d, output_padding=op)
    except ValueError:
        return None


def _expected_tap(frames, step, i, j):
    """Canvas (row, col) of kernel tap (i, j) at `step`, from the definition of each operation."""
    y, x = frames.output_position(step)
    (sh, sw), (dh, dw) = frames.stride, frames.dilation
    if frames.mode == "transposed":
        sh = sw = 1                 # the transposed canvas is correlated with stride 1
    return y * sh + i * dh, x * sw + j * dw


def _expected_source(frames, row, col):
    """The input cell the canvas cell (row, col) shows, or PAD / ZERO, from the definition of padding/spreading."""
    H, W = frames.input.shape[1:]
    (ph, pw), (sh, sw), (dh, dw), (kh, kw) = frames.padding, frames.stride, frames.dilation, frames.kernel_size
    if frames.mode != "transposed":
        r, c = row - ph, col - pw
        return r * W + c if 0 <= r < H and 0 <= c < W else PAD
    r, c = row - (dh * (kh - 1) - ph), col - (dw * (kw - 1) - pw)
    if not (0 <= r <= (H - 1) * sh and 0 <= c <= (W - 1) * sw):
        return PAD
    if r % sh or c % sw:
        return ZERO
    return (r // sh) * W + c // sw


@pytest.mark.parametrize("seed", range(12))
def test_frames_match_torch_for_random_settings(seed):
    rng = random.Random(seed)
    checked = 0
    while checked < 25:
        mode, X, K, ks, s, p, d, op = _random_settings(rng)
        frames = _frames_or_none(mode, X, K, ks, s, p, d, op)
        try:
            expected = _torch_output(mode, X, K, ks, s, p, d, op)
        except RuntimeError:
            expected = None
        if mode == "transposed" and any(o >= max(a, b) for o, a, b in zip(op, s, d)):
            expected = None         # torch's C++ kernel does not always check this; its own docs forbid it
        assert (frames is None) == (expected is None), (mode, tuple(X.shape), ks, s, p, d, op)
        if frames is None:
            continue
        checked += 1
        torch.testing.assert_close(frames.output, expected)
        _check_frames(frames)


def _check_frames(frames):
    C = frames.channels
    hc, wc = frames.canvas_size
    for row in range(hc):
        for col in range(wc):
            code = int(frames.source[row, col])
            assert code == _expected_source(frames, row, col)
            expected_value = frames.input[:, code // frames.input.shape[2], code % frames.input.shape[2]] \
                if code >= 0 else None
            if expected_value is not None:
                torch.testing.assert_close(frames.canvas[:, row, col], expected_value)
            elif frames.mode == "max":
                assert torch.all(frames.canvas[:, row, col] == -torch.inf)
            else:
                assert torch.all(frames.canvas[:, row, col] == 0)
    kh, kw = frames.kernel_size
    assert frames.steps == frames.output_size[0] * frames.output_size[1]
    for step in range(frames.steps):
        cells = frames.window_cells(step)
        assert cells == [_expected_tap(frames, step, i, j) for i in range(kh) for j in range(kw)]
        y, x = frames.output_position(step)
        window = frames.canvas.reshape(C, -1)[:, frames.windows[step]]
        if frames.mode == "max":
            torch.testing.assert_close(window.amax(1), frames.output[:, y, x])
        elif frames.mode == "avg":
            torch.testing.assert_close(window.mean(1), frames.output[:, y, x])
        else:
            shares = (window * frames.applied_kernel.reshape(C, -1)).sum(1)
            torch.testing.assert_close(shares, frames.contributions[:, y, x])
            torch.testing.assert_close(shares.sum(), frames.output[0, y, x])
        _check_equation(frames, step)


def _number(text: str) -> float:
    text = text.strip().strip("()").replace("−", "-")
    return {"-∞": -np.inf, "∞": np.inf}.get(text, None) if "∞" in text else float(text)


def _check_equation(frames, step):
    """Every line of the written-out arithmetic is itself correct, and the last result is the output cell."""
    lines = frames.equation(step)
    y, x = frames.output_position(step)
    results = []
    for line in lines:
        body = line.split(": ", 1)[-1]
        left, right = body.rsplit(" = ", 1)
        result = _number(right)
        if left.startswith("max("):
            assert max(_number(v) for v in left[4:-1].split(", ")) == result
        elif left.startswith("("):
            terms, divisor = left.rsplit(" / ", 1)
            assert sum(_number(v) for v in terms[1:-1].split(" + ")) / int(divisor) == pytest.approx(result, abs=0.006)
        else:
            total = 0.0
            for term in left.split(" + "):
                parts = term.split("·")
                total += _number(parts[0]) * _number(parts[1]) if len(parts) == 2 else _number(parts[0])
            assert total == pytest.approx(result)
        results.append(result)
    for c, result in enumerate(results[:frames.output.shape[0]] if frames.is_pooling else results[-1:]):
        assert result == pytest.approx(float(frames.output[c, y, x]), abs=0.006)


def test_transposed_matches_d2l_example():
    """d2l's worked example: the 2x2 input [[0, 1], [2, 3]] and kernel [[0, 1], [2, 3]], stride 1."""
    X = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    frames = slide_frames(X, X, mode="transposed")
    assert frames.output[0].tolist() == [[0, 0, 1], [0, 4, 6], [4, 12, 9]]
    assert frames.canvas_size == (4, 4)           # padded by kernel - 1 on each side
    assert frames.applied_kernel[0].tolist() == [[3, 2], [1, 0]]


def test_convolution_mode_is_scipy_convolve2d():
    X = torch.randint(-3, 4, (6, 5)).double()
    K = torch.randint(-3, 4, (3, 2)).double()
    valid = slide_frames(X, K, mode="convolution")
    full = slide_frames(X, K, mode="convolution", padding=(2, 1))
    np.testing.assert_allclose(valid.output[0].numpy(), scipy.signal.convolve2d(X.numpy(), K.numpy(), "valid"))
    np.testing.assert_allclose(full.output[0].numpy(), scipy.signal.convolve2d(X.numpy(), K.numpy(), "full"))
    torch.testing.assert_close(valid.output[0], book.conv.convolve2d(X, K, "valid"))


def test_stride_larger_than_kernel_marks_unread_cells():
    frames = slide_frames(torch.ones(5, 5), torch.ones(1, 1), stride=3)
    unread = frames.unread_cells()
    assert unread.sum() == 25 - 4 and not unread[0, 0] and not unread[3, 3] and unread[1, 1]


def test_format_number():
    assert [format_number(v) for v in (19.0, -3.0, 0.5, 1 / 3, -float("inf"))] == ["19", "−3", "0.5", "0.33", "−∞"]


# ---------------------------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------------------------

def _shown_output_size(view_html: str):
    match = re.search(r"→ output (\d+)×(\d+)", view_html)
    return int(match.group(1)), int(match.group(2))


def test_defaults_are_seeded_small_integers():
    a, b = kernel_slider(), kernel_slider()
    assert torch.equal(a.frames.input, b.frames.input) and torch.equal(a.frames.kernel, b.frames.kernel)
    assert a.frames.input.shape == (1, 5, 5) and a.frames.kernel.shape == (1, 3, 3)
    assert set(a.frames.input.unique().tolist()) <= set(range(5))
    assert not torch.equal(kernel_slider(seed=1).frames.input, a.frames.input)


def test_controls_update_state_and_shape_agrees_with_book_shapes_and_torch():
    slider = kernel_slider(input_size=6, kernel_size=3)
    rng = random.Random(0)
    for _ in range(40):
        control = rng.choice(["input_size", "kernel_size", "padding", "stride", "dilation", "mode"])
        if control == "mode":
            slider.mode.value = rng.choice(MODES)
        else:
            widget = getattr(slider, control)
            widget.value = rng.randint(widget.min, widget.max)
        mode = slider.mode.value
        n, k, p, s, d = (getattr(slider, name).value for name in
                         ("input_size", "kernel_size", "padding", "stride", "dilation"))
        if slider.frames is None:
            assert slider.message and slider.message in slider.view.value.replace("&#x27;", "'")
            assert slider.step.disabled and slider.play.disabled
            continue
        X = torch.zeros(1, 1, n, n)
        if mode in ("max", "avg"):
            expected = book.shapes.pool_output_size(n, k, s, p, d if mode == "max" else 1)
            torch_shape = _torch_output(mode, X[0], None, k, s, p, d, 0).shape[-2:]
        elif mode == "transposed":
            expected = book.shapes.conv_transpose_output_size(n, k, s, p, 0, d)
            torch_shape = F.conv_transpose2d(X, torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-2:]
        else:
            expected = book.shapes.conv_output_size(n, k, s, p, d)
            torch_shape = F.conv2d(X, torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-2:]
        assert slider.frames.output_size == (expected, expected) == tuple(torch_shape)
        assert _shown_output_size(slider.view.value) == (expected, expected)
        assert slider.frames.mode == mode and slider.frames.padding == (p, p) and slider.frames.stride == (s, s)
        assert slider.frames.input.shape[1:] == (n, n) and slider.frames.kernel_size == (k, k)
        assert slider.step.max == slider.play.max == slider.frames.steps
        assert not slider.step.disabled


def test_step_control_moves_the_window_and_play_is_linked():
    slider = kernel_slider(padding=1)
    first = slider.view.value
    slider.step.value = 5                       # steps count from 1 in the controls, as in the picture
    assert slider.view.value != first
    assert "step 5 / 25 · output[0, 4]" in slider.view.value
    link = slider.play_link     # a jslink: the browser moves the slider while playing, no kernel round trip
    assert isinstance(link, widgets.widget_link.Link)
    assert link.source == (slider.play, "value") and link.target == (slider.step, "value")


def test_resizing_keeps_the_values_that_fit():
    X = torch.arange(16.0).reshape(4, 4)
    slider = kernel_slider(X, torch.ones(2, 2))
    slider.input_size.value = 6
    assert torch.equal(slider.frames.input[0, :4, :4], X)
    slider.input_size.value = 3
    assert torch.equal(slider.frames.input[0], X[:3, :3])


def test_output_padding_control_only_for_transposed():
    slider = kernel_slider(mode="transposed", stride=2, output_padding=1)
    assert slider.frames.output_size == (12, 12) and not slider.output_padding.disabled   # (5-1)·2 + 2 + 1 + 1
    slider.mode.value = "correlation"
    assert slider.output_padding.disabled and slider.frames.output_size == (2, 2)   # stride 2 kept


@pytest.mark.parametrize("settings, words", [
    (dict(input_size=2, kernel_size=5), "larger than the padded input"),
    (dict(mode="max", kernel_size=2, padding=2), "at most half"),
    (dict(mode="transposed", stride=1, output_padding=1), "smaller than either stride or dilation"),
    (dict(mode="avg", dilation=2), "no dilation"),
    (dict(stride=0), "stride must be positive"),
])
def test_invalid_settings_show_a_message_not_a_traceback(settings, words):
    slider = kernel_slider(**settings)
    assert slider.frames is None and words in slider.message
    assert "⚠" in slider.view.value and "Traceback" not in slider.view.value
    assert words in slider.static_html() and "<script" not in slider.static_html()


def test_an_invalid_control_change_shows_a_message_then_recovers():
    slider = kernel_slider(input_size=3, kernel_size=3)
    slider.kernel_size.value = 5
    assert slider.frames is None and "larger than the padded input" in slider.message
    slider.padding.value = 1
    assert slider.frames is not None and slider.frames.output_size == (1, 1)
    assert "⚠" not in slider.view.value


@pytest.mark.parametrize("call, words", [
    (lambda: kernel_slider(mode="sum"), "mode must be one of"),
    (lambda: kernel_slider(mode="max", K=torch.ones(2, 2)), "no kernel weights"),
    (lambda: kernel_slider(torch.ones(2, 4, 4), torch.ones(3, 2, 2)), "channel"),
    (lambda: kernel_slider(torch.ones(4)), "2D (H, W) or 3D"),
])
def test_wrong_arguments_raise_a_clear_value_error(call, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        call()


# ---------------------------------------------------------------------------------------------------------------
# The static animation
# ---------------------------------------------------------------------------------------------------------------

def _player_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" class="ks-data">(.*?)</script>', page, re.S)
                      .group(1).replace("<\\/", "</"))


def test_mime_bundle_has_widget_view_and_static_html():
    bundle = kernel_slider(padding=1)._repr_mimebundle_()
    assert "model_id" in bundle["application/vnd.jupyter.widget-view+json"]
    assert 'class="ks ks-player"' in bundle["text/html"]


@pytest.mark.parametrize("kwargs", [
    dict(padding=1, stride=2),
    dict(X=torch.randint(0, 5, (3, 4, 4)), K=torch.randint(0, 3, (3, 2, 2)), padding=1),
    dict(mode="transposed", stride=2, padding=1, output_padding=1),
    dict(mode="max", kernel_size=2, padding=1, input_size=4),
    dict(mode="avg", kernel_size=3, stride=2, input_size=7),
])
def test_static_player_data_equal_the_frames(kwargs):
    slider = kernel_slider(**kwargs)
    frames, page = slider.frames, slider.static_html()
    data = _player_data(page)
    windows = torch.tensor(data["base"])[:, None] + torch.tensor(data["offs"])[None, :]
    assert data["n"] == frames.steps and torch.equal(windows, frames.windows)
    assert data["out"] == [[format_number(v) for v in c.flatten().tolist()] for c in frames.output]
    if not frames.is_pooling:
        assert data["share"] == [[format_number(v) for v in c.flatten().tolist()] for c in frames.contributions]


def test_static_html_is_self_contained_and_small():
    biggest = kernel_slider(torch.randint(0, 5, (3, 16, 16)), torch.randint(0, 3, (3, 5, 5)), padding=4)
    for slider in (kernel_slider(), biggest, kernel_slider(input_size=16, kernel_size=5, mode="transposed", stride=4)):
        page = slider.static_html()
        assert not re.search(r"https?://", page)
        assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
        assert len(page.encode()) < SIZE_CAP
    assert len(kernel_slider().static_html().encode()) < 60_000     # a typical chapter figure: tens of KB


def test_two_players_on_one_page_get_different_ids():
    frames = slide_frames(torch.ones(3, 3), torch.ones(2, 2))
    ids = {re.search(r'id="(ks-[^"]+)"', render_player(frames)).group(1) for _ in range(2)}
    assert len(ids) == 2
