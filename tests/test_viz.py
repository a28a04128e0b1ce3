"""book.viz: the frames equal PyTorch, the widget follows its controls, bad settings give a message, the static
animation is self-contained and small."""
from __future__ import annotations

import asyncio
import html
import importlib
import json
import random
import re
import threading

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

import book
from book.viz import MODES, draw, kernel_slider, render_player, slide_frames
from book.viz.draw import Picture, size_text
from book.viz.frames import PAD, ZERO, format_number, one_thread

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


def test_one_thread_restores_the_thread_count_on_every_path():
    before = torch.get_num_threads()
    with pytest.raises(ZeroDivisionError):
        with one_thread():
            assert torch.get_num_threads() == 1
            _ = 1 / 0
    assert torch.get_num_threads() == before
    slide_frames(torch.ones(3, 3), torch.ones(2, 2))
    assert torch.get_num_threads() == before


def test_format_number():
    assert [format_number(v) for v in (19.0, -3.0, 0.5, 1 / 3, -float("inf"))] == ["19", "−3", "0.5", "0.33", "−∞"]
    # Regression: once "1." and "−0.": rounding to two decimals can leave neither a fraction nor a sign.
    assert [format_number(v) for v in (1.001, -0.001, -0.004, 2.999)] == ["1", "0", "0", "3"]


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
            assert slider.step.disabled and slider.play.disabled and slider.buttons["next"].disabled
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
        assert slider.step.max == slider.frames.steps and not slider.play.disabled
        assert not slider.step.disabled


def test_step_control_and_buttons_move_the_window():
    slider = kernel_slider(padding=1)
    first = slider.view.value
    slider.step.value = 5                       # steps count from 1 in the controls, as in the picture
    assert slider.view.value != first
    assert "step 5 / 25 · output[0, 4]" in slider.view.value
    for act, expected in (("next", 6), ("back", 5), ("last", 25), ("next", 25), ("first", 1), ("back", 1)):
        slider.buttons[act].click()
        assert slider.step.value == expected, act


def test_buttons_have_names_and_play_pauses():
    """Buttons with words (ipywidgets.Play's icon-only buttons have no accessible name), the static player's names."""
    slider = kernel_slider()
    assert [b.description for b in slider.buttons.values()] == ["first step", "previous step", "play", "next step",
                                                                "last step"]
    assert all(b.tooltip == b.description for b in slider.buttons.values())
    assert not slider.playing
    slider.step.value = slider.step.max
    slider._tick()                              # the last step: a tick stops instead of running past the end
    assert slider.step.value == slider.step.max and not slider.playing and slider.play.description == "play"


def test_play_steps_on_the_kernels_event_loop_to_the_end(monkeypatch):
    monkeypatch.setattr(importlib.import_module("book.viz.widget"), "PLAY_INTERVAL_MS", 5)
    slider = kernel_slider()
    seen = []

    async def play():
        slider.play.click()                     # at the last step it starts again from the first
        assert slider.playing and slider.play.description == "pause"
        while slider.playing:
            seen.append(slider.step.value)
            await asyncio.sleep(0.002)

    slider.step.value = slider.step.max
    # A thread of its own: in the full suite Playwright's sync API already runs an event loop in this one.
    errors = []
    thread = threading.Thread(target=lambda: _record_errors(errors, asyncio.run, asyncio.wait_for(play(), 20)))
    thread.start()
    thread.join()
    assert not errors, errors
    assert seen[0] == 1 and slider.step.value == slider.step.max and seen == sorted(seen)


def _record_errors(errors, function, *args):
    try:
        function(*args)
    except BaseException as error:   # re-raised by the test in the main thread
        errors.append(error)


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
    assert slider.step.max == 4 and not slider.step.disabled


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
    shown = _initial_record(slider.static_html())       # the static player opens on the same message
    assert shown["t"] == "These settings give no output:" and words in html.unescape(shown["m"])
    assert "n" not in shown


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


def _resolved(data: dict, record: dict) -> dict:
    """`record` with its references into the player's shared strings (x) and lists (v) looked up, as the script
    does: title, size, labels and equations as strings, the window's and current cell's moves as numbers."""
    strings, lists = data["x"], data["v"]
    shown = dict(record, t=strings[record["t"]], z=strings[record["z"]])
    if "n" in record:
        shown.update(e=[strings[i] for i in lists[record["e"]]], l=[strings[i] for i in lists[record["l"]]],
                     w=lists[record["w"]], o=lists[record["o"]])
    else:
        shown["l"] = strings[record["l"]]
    return shown


def _record(data: dict, values: dict, controls) -> dict:
    """The record the player shows when its selects hold `values` (name -> value; others at their first value)."""
    index = sum(data["mul"][i] * control.values.index(values.get(control.name, control.values[0]))
                for i, control in enumerate(controls))
    return data["s"][data["pick"][index]]


def _initial_record(page: str) -> dict:
    data = _player_data(page)
    selected = [re.findall(r"<option( selected)?>", select) for select in re.findall(r"<select.*?</select>",
                                                                                        data["html"])]
    index = sum(m * [bool(o) for o in options].index(True) for m, options in zip(data["mul"], selected))
    return _resolved(data, data["s"][data["pick"][index]])


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
def test_static_player_opens_on_the_live_setting_with_python_strings(kwargs):
    slider = kernel_slider(**kwargs)
    frames, page = slider.frames, slider.static_html()
    shown = _initial_record(page)
    picture = Picture(frames)
    assert shown["n"] == frames.steps and shown["t"] == frames.describe() and shown["z"] == size_text(frames)
    assert shown["e"] == ["\n".join(frames.equation(step)) for step in range(frames.steps)]
    assert shown["l"][-1].startswith(f"step {frames.steps} / {frames.steps}")
    # the window's offsets are the canvas moves of its first tap, in cells of the player's size
    u = _player_cell(slider)
    wc = frames.canvas_size[1]
    first = [divmod(int(i), wc) for i in frames.windows[:, 0]]
    expected = [v for (y, x) in first for v in ((x - first[0][1]) * u, (y - first[0][0]) * u)]
    assert shown["w"] == expected
    assert Picture(frames, u).equations == picture.equations


def _player_cell(slider) -> int:
    _controls, settings, _initial = slider.static_settings()
    return draw.cell_size(max(draw.widest_grid(s.frames) for s in settings if s.frames is not None))


def test_every_combination_of_the_controls_is_the_setting_torch_computes():
    slider = kernel_slider(mode="correlation", input_size=4, kernel_size=3, modes=("correlation", "transposed"))
    controls, settings, initial = slider.static_settings()
    assert [c.name for c in controls] == ["mode", "kernel_size", "padding", "stride", "dilation", "output_padding"]
    assert len(settings) == 2 * 2 * 3 * 2 * 2 * 2 and initial == ("correlation", 3, 0, 1, 1, 0)
    data = _player_data(slider.static_html())
    X = slider.frames.input
    for setting in settings:
        values = dict(zip([c.name for c in controls], setting.values))
        record = _resolved(data, _record(data, values, controls))
        n, k = X.shape[-1], values["kernel_size"]
        kwargs = dict(stride=values["stride"], padding=values["padding"], dilation=values["dilation"])
        if values["mode"] == "transposed":
            kwargs["output_padding"] = values["output_padding"]
        try:
            shape = (F.conv_transpose2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), **kwargs)
                     if values["mode"] == "transposed" else
                     F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), **kwargs)).shape[-2:]
            if values["mode"] == "transposed" and values["output_padding"] >= max(values["stride"], values["dilation"]):
                shape = None
        except RuntimeError:
            shape = None
        if shape is None:
            assert "m" in record and "n" not in record, values
        else:
            assert record["n"] == shape[0] * shape[1], values
            assert record["t"].endswith(f"→ output {shape[0]}×{shape[1]}"), values
            assert record["z"].endswith(f"= {shape[0]}"), values
        off = {controls[i].name for i in record["off"]}
        assert off == ({"output_padding"} if values["mode"] != "transposed" else set())


def test_equal_settings_and_fragments_are_stored_once():
    slider = kernel_slider(mode="correlation", input_size=4, modes=("correlation", "transposed"))
    controls, settings, _ = slider.static_settings()
    data = _player_data(slider.static_html())
    assert len(data["f"]) == len(set(data["f"])) and len(data["s"]) < len(settings)
    # a correlation has no output padding: both of its values pick one record, shown with the control disabled
    pick = [_record(data, dict(mode="correlation", output_padding=op), controls) for op in (0, 1)]
    assert pick[0] is pick[1] and [controls[i].name for i in pick[0]["off"]] == ["output_padding"]
    assert _record(data, dict(mode="transposed", output_padding=0), controls) is not \
        _record(data, dict(mode="transposed", output_padding=1), controls)


def test_size_text_evaluates_the_formula():
    frames = slide_frames(torch.ones(5, 5), torch.ones(3, 3), padding=1, stride=2)
    assert size_text(frames) == "output size = ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1 = ⌊(5 + 2·1 − 1·(3 − 1) − 1) / 2⌋ + 1 = 3"
    frames = slide_frames(torch.ones(3, 3), torch.ones(3, 3), mode="transposed", padding=1, stride=2, output_padding=1)
    assert size_text(frames).endswith("= (3 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 6")
    frames = slide_frames(torch.ones(4, 6), torch.ones(3, 3), stride=(1, 2))
    assert size_text(frames).splitlines()[1].startswith("output width") and size_text(frames).endswith("= 2")


def test_player_text_stays_out_of_the_search_index():
    """Sphinx indexes raw HTML with <script> and <style> removed: a player must leave no words or digits behind."""
    page = kernel_slider(padding=1).static_html()
    left = re.sub(r"<[^<]+?>", "", re.sub(r"<(script|style).*?</\1>", "", page, flags=re.S | re.I))
    assert left.strip() == ""


def test_static_html_is_self_contained_and_small():
    chapter_like = [kernel_slider(mode="correlation", input_size=7, kernel_size=3),
                    kernel_slider(mode="transposed", input_size=3, kernel_size=3, stride=2),
                    kernel_slider(torch.randint(0, 5, (3, 4, 4)), torch.randint(0, 3, (3, 2, 2)), padding=1)]
    for slider in chapter_like:
        page = slider.static_html()
        assert not re.search(r"https?://", page)
        assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
        assert len(page.encode()) < 350_000     # five such players stay within a chapter page's 1 MB
    assert len(kernel_slider(choices={}).static_html().encode()) < 40_000     # one setting: tens of KB


def test_two_players_on_one_page_get_different_ids():
    frames = slide_frames(torch.ones(3, 3), torch.ones(2, 2))
    ids = {re.search(r'id="(ks-[^"]+)"', render_player(frames)).group(1) for _ in range(2)}
    assert len(ids) == 2


def test_built_pages_keep_their_players_within_the_budget(root):
    """Player data per page: 1 MB on a chapter page, 3 MB on the playground (`python -m book.bench widget` prints
    the figures)."""
    from book.bench.widget import page_player_bytes, page_target
    pages = page_player_bytes(root / "_build" / "html")
    if not pages:
        pytest.skip("the site is not built: run `make book` first")
    assert "chapters/playground.html" in pages and "chapters/03_padding_stride_dilation.html" in pages
    over = {page: info["bytes"] for page, info in pages.items() if info["bytes"] > page_target(page)}
    assert not over, f"pages over their player budget: {over}"


def test_a_page_of_players_keeps_one_copy_of_their_style_and_script(root, monkeypatch):
    """The site (_ext/static_players.py) drops the repeats; each player still calls the shared script on its root."""
    monkeypatch.syspath_prepend(str(root / "_ext"))
    from static_players import without_repeats

    from book.viz.draw import PLAYER_JS, STYLE
    players = [kernel_slider(padding=1).static_html(), kernel_slider(stride=2).static_html()]
    page = without_repeats("<p>text</p>".join(players))
    assert page.count(f"<style>{STYLE}</style>") == 1 and page.count(PLAYER_JS) == 1
    assert page.index(PLAYER_JS) < page.index("window.bookKsPlayer(document.getElementById(")
    assert page.count("window.bookKsPlayer(document.getElementById(") == 2
    assert len(page) < sum(map(len, players)) - len(STYLE) - len(PLAYER_JS) + len("<p>text</p>")


# ---------------------------------------------------------------------------------------------------------------
# book.viz.gradients: the gradient of a convolution drawn as it flows back (chapter 4)
# ---------------------------------------------------------------------------------------------------------------

def _autograd_gradients(X: torch.Tensor, K: torch.Tensor, delta: torch.Tensor):
    """dL/dX and dL/dK by torch.autograd through F.conv2d, for the loss L = sum(delta * H) whose dL/dH is delta."""
    X = X.detach().double().requires_grad_()
    K = K.detach().double().requires_grad_()
    (delta.double() * F.conv2d(X[None, None], K[None, None])[0, 0]).sum().backward()
    return X.grad, K.grad


def _cell_numbers(ax) -> np.ndarray:
    """The numbers show_matrix wrote into a panel's cells, as floats in row-major order."""
    return np.array([float(t.get_text().replace("−", "-")) for t in ax.texts])


@pytest.mark.parametrize("seed, n, k, input_cell, weight", [
    (0, 4, 3, (1, 1), (0, 1)), (1, 5, 3, (2, 2), (2, 0)), (2, 5, 2, (0, 4), (1, 1)), (3, 6, 3, (5, 0), (1, 2))])
def test_conv_gradient_figure_writes_autograds_gradients_into_its_cells(seed, n, k, input_cell, weight):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import ConnectionPatch

    from book.viz.gradients import conv_gradient_flow, draw_conv_gradient_flow

    generator = torch.Generator().manual_seed(seed)
    X = torch.randint(-3, 4, (n, n), generator=generator).double()
    K = torch.randint(-2, 3, (k, k), generator=generator).double()
    delta = torch.randn(n - k + 1, n - k + 1, generator=generator, dtype=torch.float64)
    grad_X, grad_K = _autograd_gradients(X, K, delta)

    fig = draw_conv_gradient_flow(X, K, delta, input_cell, weight)
    try:
        panels = fig.axes
        assert len(panels) == 6
        np.testing.assert_allclose(_cell_numbers(panels[1]), grad_X.flatten().numpy(), atol=0.005)
        np.testing.assert_allclose(_cell_numbers(panels[4]), grad_K.flatten().numpy(), atol=0.005)
        np.testing.assert_allclose(_cell_numbers(panels[0]), delta.flatten().numpy(), atol=0.005)
        flow = conv_gradient_flow(X, K, delta, input_cell, weight)
        terms = flow.input_cell_terms()
        arrows = [a for a in fig.artists if isinstance(a, ConnectionPatch)]
        assert len(arrows) == 2 * len(terms) + 2  # one from δ and one from K per product; two into dL/dK
        s, t = input_cell
        assert format_number(float(grad_X[s, t])) in panels[1].get_xlabel()
        a, b = weight
        assert panels[4].get_xlabel().endswith(f"= {format_number(float(grad_K[a, b]))}")
    finally:
        plt.close(fig)


def test_conv_gradient_flow_names_the_outputs_an_input_cell_fed_as_autograd_finds_them():
    """The framed cells of δ are the outputs whose gradient reaches the input cell, each through weight
    K[s - i, t - j]: one-hot δ per output, autograd's dL/dX[s, t] is that weight or zero."""
    from book.viz.gradients import conv_gradient_flow

    X, K = torch.rand(5, 6, dtype=torch.float64), torch.rand(3, 2, dtype=torch.float64) + 1
    for s, t in [(0, 0), (2, 3), (4, 5), (1, 4)]:
        flow = conv_gradient_flow(X, K, torch.ones(3, 5, dtype=torch.float64), (s, t), (0, 0))
        expected = []
        for i in range(3):
            for j in range(5):
                one_hot = torch.zeros(3, 5, dtype=torch.float64)
                one_hot[i, j] = 1
                grad_X, _ = _autograd_gradients(X, K, one_hot)
                if grad_X[s, t] != 0:
                    expected.append(((i, j), (s - i, t - j)))
                    assert grad_X[s, t] == K[s - i, t - j]
        assert flow.input_cell_terms() == expected
        total = sum(flow.output_gradient[i, j] * flow.kernel[a, b] for (i, j), (a, b) in expected)
        torch.testing.assert_close(flow.input_gradient[s, t], total)
    assert conv_gradient_flow(X, K, torch.ones(3, 5), (0, 0), (2, 1)).weight_block() == ((2, 1), (3, 5))


@pytest.mark.parametrize("args, error, words", [
    ((torch.ones(1, 4, 4), torch.ones(3, 3), torch.ones(2, 2)), ValueError, "2-D"),
    ((torch.ones(4, 4), torch.ones(5, 3), torch.ones(2, 2)), ValueError, "larger than the input"),
    ((torch.ones(4, 4), torch.ones(3, 3), torch.ones(3, 3)), ValueError, "grad_out has shape"),
    ((torch.ones(4, 4), torch.ones(3, 3), torch.ones(2, 2), (4, 0)), IndexError, "input_cell (4, 0) is outside X"),
    ((torch.ones(4, 4), torch.ones(3, 3), torch.ones(2, 2), (0, 0), (0, 3)), IndexError, "weight (0, 3)"),
    (([[1.0]], torch.ones(1, 1), torch.ones(1, 1)), TypeError, "expects a tensor for X"),
])
def test_conv_gradient_flow_refuses_bad_input_in_one_line(args, error, words):
    from book.viz.gradients import conv_gradient_flow

    with pytest.raises(error) as raised:
        conv_gradient_flow(*args)
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_a_grid_s_numbers_shrink_to_fit_their_cells_and_hide_when_illegible():
    """40 % of the cell while the widest number fits (DejaVu Sans's advances: "−0.42" is 3.08 em); an illegibly
    small font hides the grid's numbers (class ks-dense), whose values the arithmetic still lists."""
    assert draw.number_font(44, ["1", "−3"]) == 18
    assert draw.number_font(28, ["−0.42", "2.8"]) == int(26 / 3.08) == 8 < draw.MIN_FONT
    assert draw.number_font(28, ["−12"]) == int(26 / 2.12) == 12 == draw.MIN_FONT   # a 28 px cell holds a 12 px "−12"
    assert draw.number_font(28, []) == 12
    wide = slide_frames(torch.full((28, 28), -123456.78, dtype=torch.float64), torch.ones(5, 5), padding=2)
    panels = re.findall(r'<svg class="([^"]*)"[^>]*style="font-size:(\d+)px"', Picture(wide).svg(0))
    assert [classes for classes, _ in panels] == ["ks-svg ks-dense", "ks-svg", "ks-svg ks-dense"]
    assert int(panels[1][1]) == draw.number_font(28, ["1"]) == 12                 # the kernel's ones stay large
    assert "−123456.78" in "\n".join(wide.equation(0))
