"""The static kernel_slider animation in headless Chromium: it plays, pauses and steps with no kernel and no network.

(1) A page written here from `static_html()`: after every step the player's picture equals `render_step` at that
step, element by element, and the arithmetic equals `Frames.equation`. (2) The built site's chapter 3 page: every
animation on it steps and plays. The `page` fixture blocks every non-local request and records console errors.
"""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
import torch

from book.viz import kernel_slider
from book.viz.draw import Picture

pytestmark = pytest.mark.browser

PLAYERS = {
    "correlation": dict(padding=1, stride=2),
    "channels": dict(X=torch.randint(0, 5, (2, 4, 4), generator=torch.Generator().manual_seed(1)),
                     K=torch.randint(-1, 3, (2, 2, 2), generator=torch.Generator().manual_seed(2)), padding=1),
    "convolution": dict(mode="convolution", input_size=4, dilation=2, padding=1),
    "transposed": dict(mode="transposed", input_size=3, kernel_size=2, stride=2, padding=1, output_padding=1),
    "max": dict(mode="max", input_size=5, kernel_size=2, padding=1, stride=2),
    "avg": dict(mode="avg", input_size=4, kernel_size=3, stride=1),
}

# Every element of the picture as (tag, classes, geometry, text): the state the player must reproduce.
SNAPSHOT_JS = """([rootId, reference]) => {
  const walk = svg => Array.from(svg.querySelectorAll('*')).map(e => [
    e.tagName.toLowerCase(), Array.from(e.classList).sort().join(' '),
    ['x', 'y', 'width', 'height'].map(a => e.hasAttribute(a) ? +e.getAttribute(a) : null).join(','),
    e.children.length ? '' : e.textContent]);
  const live = walk(document.querySelector('#' + rootId + ' svg.ks-svg'));
  const parsed = new DOMParser().parseFromString('<div>' + reference + '</div>', 'text/html');
  return [live, walk(parsed.querySelector('svg.ks-svg'))];
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
        f'<!doctype html><html><head><meta charset="utf-8"><title>players</title></head>'
        f'<body style="max-width:780px;margin:20px auto">{sections}</body></html>', encoding="utf-8")
    return f"{serve}/index.html", sliders


def _root(page, name: str):
    return page.locator(f'section[data-name="{name}"] .ks-player')


def _check_step(page, name: str, frames, step: int) -> None:
    root = _root(page, name)
    root_id = root.get_attribute("id")
    live, reference = page.evaluate(SNAPSHOT_JS, [root_id, Picture(frames).svg(step)])
    assert live == reference, f"{name}: the player's picture at step {step} differs from render_step"
    assert root.locator(".ks-eq").text_content() == "\n".join(frames.equation(step))
    assert root.locator(".ks-step").text_content().startswith(f"step {step + 1} / {frames.steps}")
    assert int(root.locator("input[type=range]").input_value()) == step


@pytest.mark.parametrize("name", list(PLAYERS))
def test_standalone_player_steps_exactly_like_render_step(page, standalone, artifacts, name):
    url, sliders = standalone
    frames = sliders[name].frames
    page.goto(url)
    root = _root(page, name)
    root.scroll_into_view_if_needed()
    _check_step(page, name, frames, 0)
    before = root.screenshot(path=str(artifacts / f"viz-{name}-step0.png"))
    forward = min(3, frames.steps - 1)
    for _ in range(forward):
        root.locator("[data-act=next]").click()
    _check_step(page, name, frames, forward)
    after = root.screenshot(path=str(artifacts / f"viz-{name}-step{forward}.png"))
    assert before != after, "stepping did not change the picture"
    root.locator("[data-act=back]").click()
    _check_step(page, name, frames, forward - 1)
    last = frames.steps - 1
    root.locator("input[type=range]").evaluate(
        f"el => {{ el.value = {last}; el.dispatchEvent(new Event('input')); }}")
    _check_step(page, name, frames, last)
    root.locator("[data-act=next]").click()          # past the end: stays on the last step
    _check_step(page, name, frames, last)
    root.locator("[data-act=first]").click()
    _check_step(page, name, frames, 0)
    assert not page.problems, str(page.problems)


def test_standalone_player_plays_to_the_end_and_pauses(page, standalone):
    url, sliders = standalone
    page.goto(url)
    root = _root(page, "max")                           # 3x3 output: 9 steps
    frames = sliders["max"].frames
    play = root.locator("[data-act=play]")
    play.click()
    assert root.get_attribute("data-playing") == "1" and play.get_attribute("aria-label") == "pause"
    page.wait_for_function("el => el.getAttribute('data-playing') === '0'", arg=root.element_handle(),
                           timeout=30_000)
    _check_step(page, "max", frames, frames.steps - 1)

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


def test_chapter_3_animations_play_on_the_built_site(page, site_url, root, artifacts):
    if not (root / "_build" / "html" / CHAPTER_3).exists():
        pytest.skip(f"{CHAPTER_3} is not in the built site: run `make book` first")
    _check_site_page(page, f"{site_url}/{CHAPTER_3}", artifacts, "ch03")


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
