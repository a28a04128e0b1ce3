"""The static kernel_slider player in headless Chromium: it plays, pauses, steps and changes settings with no kernel
and no network, and it can be used from the keyboard and heard through its live regions.

(1) A page written here from `static_html()`: after every step and setting change the player's picture equals
`Picture.svg` of that setting at that step, element by element, and its strings are Python's. (2) The built site's
chapter 3, playground and gallery pages. The `page` fixture blocks every non-local request and records console errors.
"""
from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
import torch
from conftest import watched_page

from book.viz import GUIDE_CASES, draw, kernel_slider
from book.viz.draw import Picture, size_text

pytestmark = pytest.mark.browser

PLAYERS = {
    "correlation": dict(padding=1, stride=2),
    "channels": dict(X=torch.randint(0, 5, (2, 4, 4), generator=torch.Generator().manual_seed(1)),
                     K=torch.randint(-1, 3, (2, 2, 2), generator=torch.Generator().manual_seed(2)), padding=1),
    "convolution": dict(mode="convolution", input_size=4, dilation=2, padding=1),
    "transposed": dict(mode="transposed", input_size=3, kernel_size=2, stride=2, padding=1, output_padding=1),
    "max": dict(mode="max", input_size=5, kernel_size=2, padding=1, stride=2),
    "avg": dict(mode="avg", input_size=4, kernel_size=3, stride=1, modes=("max", "avg")),
}

# Every element of the picture as (tag, classes, geometry, transform, text): the state the player must reproduce.
SNAPSHOT_JS = """([rootId, reference]) => {
  const walk = el => Array.from(el.querySelectorAll('*')).map(e => [
    e.tagName.toLowerCase(), Array.from(e.classList).sort().join(' '),
    ['x', 'y', 'width', 'height', 'd'].map(a => e.getAttribute(a)).join(','),
    (e.getAttribute('transform') || '').replace(/\\s+/g, ' '),
    e.children.length ? '' : e.textContent]);
  const live = walk(document.querySelector('#' + rootId + ' .ks-pic'));
  const parsed = new DOMParser().parseFromString('<div>' + reference + '</div>', 'text/html');
  return [live, walk(parsed.body.firstChild)];
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def serve(tmp_path):
    """Serve `tmp_path` on loopback (the `page` fixture lets only local requests through)."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def standalone(tmp_path, serve):
    sliders = {name: kernel_slider(**kwargs) for name, kwargs in PLAYERS.items()}
    sections = "".join(f'<section data-name="{name}"><h2>{name}</h2>{slider.static_html()}</section>'
                       for name, slider in sliders.items())
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>players</title></head>'
        f'<body style="max-width:780px;margin:20px auto">{sections}</body></html>', encoding="utf-8")
    return f"{serve}/index.html", sliders


def _root(page, name: str):
    return page.locator(f'section[data-name="{name}"] .ks-player')


def _frames_for(slider, values: dict):
    """The frames (or message) and the cell size the static player uses for the setting with control `values`."""
    controls, settings, initial = slider.static_settings()
    names = [c.name for c in controls]
    wanted = tuple(values.get(n, v) for n, v in zip(names, initial))
    setting = next(s for s in settings if s.values == wanted)
    u = draw.cell_size(max(draw.widest_grid(s.frames) for s in settings if s.frames is not None))
    return setting, u


def _check_step(page, name: str, frames, step: int, u: int) -> None:
    root = _root(page, name)
    live, reference = page.evaluate(SNAPSHOT_JS, [root.get_attribute("id"), Picture(frames, u).svg(step)])
    assert live == reference, f"{name}: the player's picture at step {step} differs from Picture.svg"
    assert root.locator(".ks-eq").text_content() == "\n".join(frames.equation(step))
    assert root.locator(".ks-step").text_content().startswith(f"step {step + 1} / {frames.steps}")
    assert root.locator(".ks-title").text_content() == frames.describe()
    assert root.locator(".ks-size").text_content() == size_text(frames)
    assert int(root.locator("input[type=range]").input_value()) == step


@pytest.mark.parametrize("name", list(PLAYERS))
def test_standalone_player_steps_exactly_like_python(page, standalone, artifacts, name):
    url, sliders = standalone
    frames = sliders[name].frames
    _setting, u = _frames_for(sliders[name], {})
    page.goto(url)
    root = _root(page, name)
    root.scroll_into_view_if_needed()
    _check_step(page, name, frames, 0, u)
    before = root.screenshot(path=str(artifacts / f"viz-{name}-step0.png"))
    forward = min(3, frames.steps - 1)
    for _ in range(forward):
        root.locator("[data-act=next]").click()
    _check_step(page, name, frames, forward, u)
    after = root.screenshot(path=str(artifacts / f"viz-{name}-step{forward}.png"))
    assert before != after, "stepping did not change the picture"
    root.locator("[data-act=back]").click()
    _check_step(page, name, frames, forward - 1, u)
    last = frames.steps - 1
    root.locator("input[type=range]").evaluate(
        f"el => {{ el.value = {last}; el.dispatchEvent(new Event('input')); }}")
    _check_step(page, name, frames, last, u)
    root.locator("[data-act=next]").click()          # past the end: stays on the last step
    _check_step(page, name, frames, last, u)
    root.locator("[data-act=first]").click()
    _check_step(page, name, frames, 0, u)
    root.locator("[data-act=last]").click()
    _check_step(page, name, frames, last, u)
    assert not page.problems, str(page.problems)


def _select(root, label: str):
    return root.get_by_label(label, exact=True)


def test_changing_stride_and_padding_shows_that_settings_frames(page, standalone):
    url, sliders = standalone
    page.goto(url)
    root = _root(page, "correlation")                # 5x5, 3x3 kernel, padding 1, stride 2: output 3x3
    outputs = root.locator(".ks-out text")
    assert outputs.count() == 9
    for values in ({"stride": 1}, {"stride": 1, "padding": 0}, {"stride": 2, "padding": 2, "dilation": 2}):
        for name, value in values.items():
            _select(root, name).select_option(str(value))
        setting, u = _frames_for(sliders["correlation"], {"stride": 2, "padding": 1, **values})
        _check_step(page, "correlation", setting.frames, 0, u)
        assert outputs.count() == setting.frames.steps
        root.locator("[data-act=next]").click()
        _check_step(page, "correlation", setting.frames, 1, u)
    assert not page.problems, str(page.problems)


def test_a_setting_torch_refuses_shows_its_explanation(page, standalone):
    url, sliders = standalone
    page.goto(url)
    root = _root(page, "max")                        # window 2, padding 1; padding 2 is more than half the window
    _select(root, "padding").select_option("2")
    setting, _u = _frames_for(sliders["max"], {"padding": 2})
    assert setting.frames is None and "at most half" in setting.message
    assert root.locator(".ks-title").text_content() == "These settings give no output:"
    assert root.locator(".ks-msg").text_content() == f"⚠ {setting.message}"
    assert root.locator("[data-act=next]").is_disabled() and root.locator("input[type=range]").is_disabled()
    _select(root, "window size").select_option("3")    # a window of 3 allows padding 1 but not 2 either
    _select(root, "padding").select_option("1")
    assert root.locator(".ks-msg").count() == 0 and root.locator(".ks-out text").count() > 0
    assert not page.problems, str(page.problems)


def test_mode_control_switches_between_modes(page, standalone):
    url, sliders = standalone
    page.goto(url)
    root = _root(page, "avg")
    _select(root, "mode").select_option("max")
    setting, u = _frames_for(sliders["avg"], {"mode": "max"})
    _check_step(page, "avg", setting.frames, 0, u)
    assert root.locator(".ks-eq").text_content().startswith("max(")
    assert not page.problems, str(page.problems)


def test_keyboard_reaches_every_control_and_live_regions_announce_steps(page, standalone):
    url, _sliders = standalone
    page.goto(url)
    root = _root(page, "correlation")
    names = [b.get_attribute("aria-label") for b in root.locator("button").all()]
    assert names == ["first step", "previous step", "play", "next step", "last step"]
    assert root.locator(".ks-step").get_attribute("aria-live") == "polite"
    assert root.locator(".ks-eq").get_attribute("aria-live") == "polite"
    reached = []
    for _ in range(20):                               # Tab from the top of the page through the first player
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => { const e = document.activeElement;"
                                     " return e.getAttribute('aria-label') || e.tagName; }"))
        if reached[-1] == "step":
            break
    assert reached == ["kernel size", "padding", "stride", "dilation", "first step", "previous step", "play",
                       "next step", "last step", "step"]
    label = root.locator(".ks-step")
    before = label.text_content()
    page.keyboard.press("Shift+Tab")                  # back to "last step": Enter presses it
    page.keyboard.press("Enter")
    assert label.text_content() != before and label.text_content().startswith("step 9 / 9")
    page.keyboard.press("Shift+Tab")                  # "next step", then the select before the buttons
    for _ in range(4):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "dilation"
    page.keyboard.press("ArrowDown")                  # a select changes with the arrow keys
    assert root.locator(".ks-title").text_content().startswith("correlation") and "dilation 2" in \
        root.locator(".ks-title").text_content()
    assert not page.problems, str(page.problems)


def test_standalone_player_plays_to_the_end_and_pauses(page, standalone):
    url, sliders = standalone
    page.goto(url)
    root = _root(page, "max")                           # 3x3 output: 9 steps
    frames = sliders["max"].frames
    _setting, u = _frames_for(sliders["max"], {})
    play = root.locator("[data-act=play]")
    play.click()
    assert root.get_attribute("data-playing") == "1" and play.get_attribute("aria-label") == "pause"
    page.wait_for_function("el => el.getAttribute('data-playing') === '0'", arg=root.element_handle(),
                           timeout=30_000)
    _check_step(page, "max", frames, frames.steps - 1, u)

    other = _root(page, "correlation")
    label = other.locator(".ks-step")
    other.locator("[data-act=play]").click()          # at step 1: plays on from there
    page.wait_for_function("el => !el.textContent.startsWith('step 1 /')", arg=label.element_handle(),
                           timeout=10_000)
    other.locator("[data-act=play]").click()          # the same button pauses
    assert other.get_attribute("data-playing") == "0"
    paused_at = label.text_content()
    page.wait_for_timeout(2_500)                        # longer than two frames: nothing may move while paused
    assert label.text_content() == paused_at
    assert _root(page, "avg").locator(".ks-step").text_content().startswith("step 1 /"), "players are independent"
    assert not page.problems, str(page.problems)


CHAPTER_3 = "chapters/03_padding_stride_dilation.html"
PLAYGROUND = "chapters/playground.html"
GALLERY = "chapters/conv_arithmetic_gallery.html"


def _built(root, page_path: str) -> None:
    if not (root / "_build" / "html" / page_path).exists():
        pytest.skip(f"{page_path} is not in the built site: run `make book` first")


def test_chapter_3_animations_play_and_change_settings_on_the_built_site(page, site_url, root, artifacts):
    _built(root, CHAPTER_3)
    _check_site_page(page, f"{site_url}/{CHAPTER_3}", artifacts, "ch03")
    _check_stride_and_padding(page, page.locator(".ks-player").first)


def test_playground_changes_every_setting_on_the_built_site(page, site_url, root, artifacts):
    _built(root, PLAYGROUND)
    _check_site_page(page, f"{site_url}/{PLAYGROUND}", artifacts, "playground")
    player = page.locator(".ks-player").first
    _check_stride_and_padding(page, player)
    for label in ("mode", "input size", "kernel size", "padding", "stride", "dilation", "output padding"):
        assert _select(player, label).count() == 1, label
    _select(player, "mode").select_option("transposed")
    _select(player, "output padding").select_option("1")
    assert "output_padding 1" in player.locator(".ks-title").text_content()
    assert "output_padding" in player.locator(".ks-size").text_content()
    _select(player, "mode").select_option("avg")
    _select(player, "dilation").select_option("2")
    assert "no dilation" in player.locator(".ks-msg").text_content()     # torch's refusal, explained
    assert _select(player, "output padding").is_disabled()
    player.screenshot(path=str(artifacts / "viz-site-playground-refused.png"))
    assert not page.problems, str(page.problems)


def test_gallery_shows_every_case_of_the_guide(page, site_url, root, artifacts):
    _built(root, GALLERY)
    page.goto(f"{site_url}/{GALLERY}")
    headings = [h.strip().rstrip("#").strip() for h in page.locator("h3").all_text_contents()]
    assert headings == [case.name for case in GUIDE_CASES]
    players = page.locator(".ks-player")
    assert players.count() == len(GUIDE_CASES)
    for index, case in enumerate(GUIDE_CASES):
        player = players.nth(index)
        expected = kernel_slider(mode=case.mode, input_size=case.input_size, kernel_size=case.kernel_size,
                                 **case.settings).frames
        assert player.locator(".ks-size").text_content() == size_text(expected), case.name
        assert player.locator(".ks-title").text_content() == expected.describe(), case.name
    page.screenshot(path=str(artifacts / "viz-site-gallery.png"), full_page=True)
    assert not page.problems, str(page.problems)


def _check_stride_and_padding(page, player) -> None:
    """Changing stride, then padding, changes the output grid and the size text (the player's own numbers)."""
    sizes, grids = [player.locator(".ks-size").text_content()], [player.locator(".ks-out text").count()]
    for label in ("stride", "padding"):
        select = _select(player, label)
        options = select.locator("option").all_text_contents()
        current = select.input_value()
        select.select_option(next(o for o in options if o != current))
        sizes.append(player.locator(".ks-size").text_content())
        grids.append(player.locator(".ks-out text").count())
    assert len(set(sizes)) == 3 and grids[1] != grids[0] and grids[2] != grids[1], (sizes, grids)


def _check_site_page(page, url: str, artifacts: Path, tag: str) -> None:
    page.goto(url)
    players = page.locator(".ks-player")
    assert players.count() >= 1, f"{url} shows no kernel_slider animation"
    for index in range(players.count()):
        root = players.nth(index)
        root.scroll_into_view_if_needed()
        label, eq = root.locator(".ks-step"), root.locator(".ks-eq")
        start = (label.text_content(), eq.text_content(), root.screenshot())
        root.locator("[data-act=next]").click()
        stepped = (label.text_content(), eq.text_content(),
                   root.screenshot(path=str(artifacts / f"viz-site-{tag}-{index}.png")))
        assert stepped[0] != start[0] and stepped[2] != start[2], f"animation {index} did not step"
        root.locator("[data-act=play]").click()
        page.wait_for_function("([el, text]) => el.textContent !== text", arg=[label.element_handle(), stepped[0]],
                               timeout=10_000)
        root.locator("[data-act=play]").click()
        assert root.get_attribute("data-playing") == "0"
    # Live controls need a kernel: none may be left on the page as dead widgets.
    assert page.locator(".jupyter-widgets:visible, .widget-slider:visible").count() == 0
    assert not page.problems, str(page.problems)


# Per panel of a player: how many numbers it shows, the first pairs of them whose text boxes intersect, and the
# smallest font size any of its numbers has.
CLASHES_JS = """root => Array.from(root.querySelectorAll('.ks-pic svg')).map(svg => {
  const texts = Array.from(svg.querySelectorAll('text:not(.wt)'));
  const smallest = Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize)));
  const boxes = texts.filter(t => getComputedStyle(t).display !== 'none')
    .map(t => { const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, t.textContent]; });
  const clashes = [];
  for (let i = 0; i < boxes.length && clashes.length < 3; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      if (a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]) clashes.push([a[4], b[4]]);
    }
  const values = svg.querySelectorAll('.ks-vals text, .ks-kernel text');
  const nonzero = Array.from(values).filter(t => parseFloat(t.textContent.replace('\u2212', '-'))).length;
  return [svg.getAttribute('aria-label'), boxes.length, clashes, smallest, nonzero,
          svg.querySelectorAll('.ks-shade rect').length];
})"""


def _mnist_like(count: int, seed: int) -> torch.Tensor:
    """Standardised digits as MNIST's are (values −0.42 to 2.82, two decimals shown), from random pixels."""
    from book.data import _normalise
    pixels = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))
    return _normalise(pixels)


def _assert_no_number_overlaps(root, what: str) -> None:
    """Every grid's numbers are at least 12 px (the book's smallest text) and never overlap; a grid too fine for
    them shows none, and the arithmetic then lists the current window's values."""
    panels = root.evaluate(CLASHES_JS)
    assert panels, f"{what}: no grids"
    clashes = {label: pairs for label, _, pairs, *_ in panels if pairs}
    assert not clashes, f"{what}: numbers of neighbouring cells overlap: {clashes}"
    small = {label: size for label, _, _, size, *_ in panels if size < 12}
    assert not small, f"{what}: numbers smaller than 12 px: {small}"
    unshaded = {label: (nonzero, shades) for label, shown, _, _, nonzero, shades in panels
                if shown == 0 and nonzero != shades}
    assert not unshaded, f"{what}: a grid hides its numbers without a shade for each non-zero value: {unshaded}"
    if any(shown == 0 for _, shown, *_ in panels):
        arithmetic = root.locator(".ks-eq").inner_text()
        assert re.search(r"\d.*[×·].*\d", arithmetic), f"{what}: a grid hides its numbers and the arithmetic shows none"


@pytest.mark.parametrize("width", (390, 1280))
def test_numbers_of_a_28_by_28_grid_do_not_overlap(browser, tmp_path, serve, width):
    """A 28 x 28 digit under a learned-looking 5 x 5 kernel (the LeNet explorer's case), in Python's static player
    and in the explorer's, which writes a digit's values into the player's data: every number fits its cell."""
    from book.train import lenet
    from book.viz.lenet_explorer import render_explorer

    torch.manual_seed(0)
    digits = _mnist_like(2, seed=3)
    kernel = torch.randn(5, 5, generator=torch.Generator().manual_seed(4)) * 0.3
    player = kernel_slider(digits[0], kernel, padding=2, choices={}).static_html()
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>28 x 28</title></head>'
        f'<body style="max-width:780px;margin:20px auto"><section>{player}</section>'
        f'<section>{render_explorer(lenet(), digits, [0, 1])}</section></body></html>', encoding="utf-8")
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = watched_page(context)
        page.goto(f"{serve}/index.html")
        standalone = page.locator("section").first.locator(".ks-player")
        standalone.locator("[data-act=last]").click()          # every output number shown
        _assert_no_number_overlaps(standalone, f"the static player at {width} px")
        page.locator('[data-stage="conv1"] button.lx-open').first.click()
        explorer = page.locator('[data-stage="conv1"] .ks-player')
        explorer.locator("[data-act=last]").click()
        _assert_no_number_overlaps(explorer, f"the LeNet explorer's player at {width} px")
        assert not page.problems, str(page.problems)
    finally:
        context.close()
