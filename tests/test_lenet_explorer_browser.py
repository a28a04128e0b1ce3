"""The static LeNet explorer in headless Chromium, with no kernel and no network: its forward pass gives torch's
numbers at every stage for every embedded digit, a digit drawn with the mouse or the keyboard is prepared as MNIST's
were and classified as torch classifies the same 28 x 28 array, and the page is usable from the keyboard, heard
through its live regions, fits a 390 px phone and passes axe-core in light and dark mode.

The page is written here from `render_explorer` over a LeNet trained for one short epoch on part of MNIST: equality
with torch needs no well-trained model, only a fixed one, and choosing the misclassified digits needs predictions.
"""
from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest
import torch

from book import train
from book.viz.draw import Picture
from book.viz.frames import format_number, slide_frames
from book.viz.lenet_explorer import STAGES, layer_outputs, pick_digits, render_explorer
from test_site import AXE, AXE_JS, DESKTOP, PHONE
from test_viz_browser import SNAPSHOT_JS

pytestmark = pytest.mark.browser

TOLERANCE = 1e-4
DARK = "html[data-theme=dark] body{background:#121212;color:#e3e3e3}"


@pytest.fixture(scope="module")
def lenet(mnist):
    """The LeNet chapter 7 trains, with batch norm, which the explorer shows folded (a short run of it)."""
    model = train.lenet(batch_norm=True)
    train.fit(model, mnist.subset(train=6000, test=500, seed=0), epochs=1, batch_size=64, seed=0, threads=1,
              channels_last=True,  # as the recipe trains it: weights stored pixel-major
              verbose=False, plot=False)
    return model.cpu().eval()


@pytest.fixture(scope="module")
def digits(lenet, mnist):
    images, labels = mnist.test_images[:2000], mnist.test_labels[:2000]
    chosen = pick_digits(lenet, images, labels)
    return images[chosen], labels[chosen]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def url(lenet, digits, tmp_path_factory):
    """The explorer on a page of its own, once as the light and once as the dark theme, served on loopback."""
    folder = tmp_path_factory.mktemp("explorer")
    body = render_explorer(lenet, *digits)
    for scheme in ("light", "dark"):
        (folder / f"{scheme}.html").write_text(
            f'<!doctype html><html lang="en" data-theme="{scheme}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>LeNet explorer</title>'
            f'<style>body{{max-width:780px;margin:0 auto;padding:8px}}{DARK}</style></head>'
            f'<body><main><h1>LeNet explorer</h1>{body}</main></body></html>', encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _explorer(page):
    return page.locator(".lx")


def _stages(page, values):
    """Every stage the page's forward pass computes for the 784 `values`, as lists."""
    return page.evaluate("([v]) => { const s = document.querySelector('.lx').lenet.forward(v); const out = {};"
                         " for (const k in s) out[k] = Array.from(s[k]); return out; }", [values])


def _assert_like_torch(computed, expected, what):
    for name, value in expected.items():
        got = torch.tensor(computed[name], dtype=torch.float64)
        difference = (got - value.double().flatten()).abs().max().item()
        assert difference <= TOLERANCE, f"{what}: stage {name} differs from torch by {difference:.2e}"


def test_every_stage_of_every_digit_equals_torch(page, url, lenet, digits):
    images, labels = digits
    assert len(images) >= 40 and (train.predict(lenet, images) != labels).sum() > 0
    page.goto(f"{url}/light.html")
    for i, image in enumerate(images):
        embedded = page.evaluate("i => document.querySelector('.lx').lenet.digit(i)", i)
        assert torch.equal(torch.tensor(embedded, dtype=torch.float32), image.flatten()), f"digit {i} embedded"
        _assert_like_torch(_stages(page, embedded), layer_outputs(lenet, image), f"digit {i}")
    assert not page.problems, str(page.problems)


def test_the_chosen_digit_shows_torchs_scores_and_verdict(page, url, lenet, digits):
    images, labels = digits
    page.goto(f"{url}/light.html")
    root = _explorer(page)
    wrong = int((train.predict(lenet, images) != labels).nonzero()[0])
    root.locator("select.lx-digit").select_option(index=wrong)
    expected = layer_outputs(lenet, images[wrong])
    with torch.no_grad():   # the folded network the page runs scores as the trained one does
        assert torch.allclose(expected["scores"], lenet(images[wrong:wrong + 1])[0], atol=TOLERANCE)
    shown = [float(t.replace("−", "-")) for t in root.locator(".lx-s").all_text_contents()]
    assert torch.allclose(torch.tensor(shown), expected["scores"], atol=0.005 + TOLERANCE)
    top = int(expected["scores"].argmax())
    status = root.locator(".lx-status").text_content()
    assert f"LeNet reads {top}" in status and f"wrong: the label is {int(labels[wrong])}" in status
    assert root.locator("tr.lx-top th").text_content() == str(top)
    assert root.locator("select.lx-digit option").nth(wrong).text_content() == \
        f"digit {wrong + 1}: label {int(labels[wrong])}, LeNet reads {top}"
    assert len(root.locator("canvas.lx-map").all()) == sum(
        expected[key].shape[0] for key, _caption, _scale in STAGES if expected[key].dim() == 3)
    assert not page.problems, str(page.problems)


@pytest.mark.parametrize("stage, channel, inputs, padding", [("conv1", 2, "input", 2), ("conv2", 11, "pool1", 0)])
def test_a_feature_map_opens_the_kernel_player_on_its_real_input_and_kernel(page, url, lenet, digits, stage, channel,
                                                                           inputs, padding, artifacts):
    """The player a map opens is, step by step, the one Python's `slide_frames` gives for the map's input channels
    (the page's own, which equal torch's) and the learned kernel, and its output plus the bias is the map."""
    page.goto(f"{url}/light.html")
    root = _explorer(page)
    root.locator("select.lx-digit").select_option(index=5)
    button = root.locator(f'[data-stage="{stage}"] button.lx-open').nth(channel)
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert "Opened the kernel-sliding player" in root.locator(".lx-status").text_content()
    player = root.locator(f'[data-stage="{stage}"] .ks-player')
    source = page.evaluate(f"Array.from(document.querySelector('.lx').lenet.shown().{inputs})")
    shown = train.fold_batch_norm(lenet)   # the network the page runs: batch norm folded into the convolutions
    layer = shown[0] if stage == "conv1" else shown[3]
    X = torch.tensor(source, dtype=torch.float64).reshape(layer.in_channels, *((28, 28) if stage == "conv1" else
                                                                               (14, 14)))
    frames = slide_frames(X, layer.weight[channel].detach().double(), padding=padding)
    expected_map = layer_outputs(lenet, digits[0][5])[stage][channel].double()
    torch.testing.assert_close(frames.output[0] + float(layer.bias[channel].detach()), expected_map, rtol=0,
                               atol=TOLERANCE)
    for step in (0, 1, 2, 3, frames.steps - 1):
        if step == frames.steps - 1:
            player.locator("[data-act=last]").click()
        live, reference = page.evaluate(SNAPSHOT_JS, [player.get_attribute("id"), Picture(frames).svg(step)])
        assert live == reference, f"{stage} map {channel}: the player's picture at step {step} differs from Python's"
        assert player.locator(".ks-eq").text_content() == "\n".join(frames.equation(step))
        assert player.locator(".ks-title").text_content() == frames.describe()
        if step < 3:
            player.locator("[data-act=next]").click()
    player.screenshot(path=str(artifacts / f"lenet-explorer-player-{stage}.png"))
    root.locator("select.lx-digit").select_option(index=6)          # the open player follows the chosen digit
    assert root.locator(f'[data-stage="{stage}"] .ks-player').count() == 1
    assert root.locator(".lx-status").text_content().startswith("digit 7: LeNet reads")
    assert "of digit 7:" in root.locator(".lx-kp-title").text_content()
    root.locator(".lx-close").click()
    assert root.locator(".ks-player").count() == 0 and button.get_attribute("aria-pressed") == "false"
    assert button.evaluate("e => e === document.activeElement"), "closing the player does not return focus to its map"
    assert not page.problems, str(page.problems)


def test_numbers_are_written_as_python_writes_them(page, url):
    page.goto(f"{url}/light.html")
    values = [0.125, 0.375, -0.125, -0.625, 2.675, 1 / 3, -0.004, -0.005, 0.005, 1e-9, 12.0, -7.5, 0.0, -0.0,
              123.456, 0.995, -1.005, 3.14159]
    values += torch.randn(500, generator=torch.Generator().manual_seed(3), dtype=torch.float64).mul(3).tolist()
    written = page.evaluate("v => v.map(document.querySelector('.lx').lenet.number)", values)
    assert written == [format_number(v) for v in values]


def _pixels(values):
    """The 784 standardised values back as MNIST's 28 x 28 pixel bytes (0 to 255), checked to be whole bytes."""
    scaled = (torch.tensor(values, dtype=torch.float64) * 0.3081 + 0.1307).reshape(28, 28) * 255
    assert torch.allclose(scaled, scaled.round(), atol=1e-3), "pixels are not whole bytes, as MNIST's are"
    return scaled.round()


def _check_drawn(page, lenet):
    """The page's prepared drawing is an MNIST-like digit and the page classifies it as torch does."""
    root = _explorer(page)
    values = page.evaluate("document.querySelector('.lx').lenet.drawn()")
    assert values is not None and len(values) == 784
    ink = _pixels(values)
    rows, columns = (ink > 0).nonzero(as_tuple=True)
    assert rows.max() - rows.min() < 20 and columns.max() - columns.min() < 20, "the digit is not in a 20 x 20 box"
    mass = ink.sum()
    centre = [(ink.sum(dim=1) * torch.arange(28.)).sum() / mass, (ink.sum(dim=0) * torch.arange(28.)).sum() / mass]
    assert all(abs(c - 13.5) <= 0.5 for c in centre), f"centre of mass {centre} is not at the centre"
    expected = layer_outputs(lenet, torch.tensor(values, dtype=torch.float32).reshape(28, 28))
    _assert_like_torch(_stages(page, values), expected, "the drawing")
    top = int(expected["scores"].argmax())
    assert root.locator(".lx-verdict").text_content().startswith(f"LeNet reads your drawing as {top} ")
    return top


def test_a_digit_drawn_with_the_mouse_is_classified_as_torch_classifies_it(page, url, lenet, artifacts):
    page.goto(f"{url}/light.html")
    root = _explorer(page)
    pad = root.locator("canvas.lx-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    for stroke in (((0.25, 0.2), (0.75, 0.2), (0.45, 0.85)), ((0.35, 0.5), (0.65, 0.5))):   # a crossed 7
        page.mouse.move(box["x"] + stroke[0][0] * box["width"], box["y"] + stroke[0][1] * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=12)
        page.mouse.up()
    top = _check_drawn(page, lenet)
    root.locator("[data-act=explore]").click()
    assert root.locator(".lx-status").text_content().startswith(f"your drawing: LeNet reads {top} ")
    root.screenshot(path=str(artifacts / "lenet-explorer-drawn.png"))
    root.locator("[data-act=clear]").click()
    assert root.locator(".lx-verdict").text_content() == "Nothing drawn yet."
    root.locator("[data-act=copy]").click()           # the chosen test digit, redrawn on the pad
    _check_drawn(page, lenet)
    assert not page.problems, str(page.problems)


def test_keyboard_chooses_digits_and_draws_and_live_regions_announce_it(page, url, lenet, digits):
    page.goto(f"{url}/light.html")
    root = _explorer(page)
    for region in (".lx-status", ".lx-verdict"):
        assert root.locator(region).get_attribute("aria-live") == "polite"
    reached = []
    for _ in range(3):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim().split('\\n')[0].slice(0, 16)"))
    assert reached == ["previous digit", "digit 1: label 0", "next digit"], reached
    status = root.locator(".lx-status")
    page.keyboard.press("Enter")                       # on "next digit"
    assert status.text_content().startswith("digit 2: ")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowDown")                   # the select, changed with an arrow key
    assert status.text_content().startswith("digit 3: ")
    page.keyboard.press("Tab")                         # "next digit", then conv 1's maps: one tab stop, arrows
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert root.locator('[data-stage="conv1"] button.lx-open').nth(1).get_attribute("aria-pressed") == "true"
    assert "conv 1, map 1" in status.text_content()
    page.keyboard.press("Tab")                         # the player's close button, then its first control
    assert page.evaluate("document.activeElement.textContent") == "close the kernel player"
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('.ks-player')")
    root.locator(".lx-close").click()
    pad = root.locator("canvas.lx-pad")
    pad.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Space")                       # pen down: a 1 from top to bottom, then a foot
    for key in ["ArrowDown"] * 6 + ["ArrowLeft"] * 2 + ["ArrowRight"] * 4:
        page.keyboard.press(key)
    page.keyboard.press("Space")
    _check_drawn(page, lenet)
    assert not page.problems, str(page.problems)


@pytest.mark.parametrize("scheme", ("light", "dark"))
@pytest.mark.parametrize("width", (DESKTOP, PHONE))
def test_fits_the_screen_and_axe_finds_no_serious_violation(browser, url, width, scheme, artifacts):
    if not AXE.is_file():
        pytest.skip("axe-core is not vendored: run make _build/axe/axe.min.js (make test does)")
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(f"{url}/{scheme}.html")
        page.locator('[data-stage="conv2"] button.lx-open').first.click()    # an open player is checked too
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"
        smallest = page.evaluate("Math.min(...Array.from(document.querySelectorAll('.lx *')).filter(e => "
                                 "e.childNodes.length && Array.from(e.childNodes).some(n => n.nodeType === 3 && "
                                 "n.textContent.trim())).map(e => parseFloat(getComputedStyle(e).fontSize)))")
        assert smallest >= 12, f"text of {smallest} px"
        page.screenshot(path=str(artifacts / f"lenet-explorer-{width}-{scheme}.png"), full_page=True)
        page.add_script_tag(path=str(AXE))
        blocking = [v for v in page.evaluate(AXE_JS) if v["impact"] in ("critical", "serious")]
        assert not blocking, "\n".join(json.dumps(v) for v in blocking)
    finally:
        context.close()


def test_a_finger_draws_on_a_phone(browser, url, lenet):
    context = browser.new_context(viewport={"width": PHONE, "height": 800}, has_touch=True, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(f"{url}/light.html")
        pad = page.locator("canvas.lx-pad")
        pad.scroll_into_view_if_needed()
        box = pad.bounding_box()
        assert box["width"] <= PHONE and box["x"] >= 0
        for y in (0.3, 0.5, 0.7):                       # three taps down the middle: a dotted 1
            page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + y * box["height"])
        _check_drawn(page, lenet)
    finally:
        context.close()
