"""Shared fixtures: the repository root, MNIST, the built site served on loopback, and headless Chromium.

Hypothesis runs under the profile named by $HYPOTHESIS_PROFILE: `full` (the default, `make test`) or `check`
(`make check`, the fast loop), which draws a tenth of the examples; see `contracts.examples`.

Browser tests drive Debian's Chromium through Playwright (`executable_path`, never a downloaded browser) and block
every request that does not go to this machine, so a page that needs the network fails its test.

Test modules share this file's constants with `from conftest import ROOT` (pytest puts tests/ on the path).
"""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path
from typing import Iterator, List

import pytest
from hypothesis import settings

from contracts import CHECK_FRACTION, PROFILE

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_PREFIXES = ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")

# No deadline: on a loaded machine one example can take seconds without anything being wrong. A test with no
# max_examples of its own draws Hypothesis's default 100, or a tenth of that under `check`.
settings.register_profile("full", deadline=None)
settings.register_profile("check", deadline=None, max_examples=100 // CHECK_FRACTION)
settings.load_profile(PROFILE)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run torch single-threaded: on tiny tensors, handing work between threads costs far more than the work,
    and on a busy machine it makes every call slow. Modules opt in with `pytestmark`."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the four MNIST files (`book.data.raw_dir()`); tests that need them skip when absent."""
    from book import data

    raw = data.raw_dir()
    missing = [name for name in data.FILES if not (raw / name).is_file()]
    if missing:
        pytest.skip(f"the MNIST files are not in {raw}: run `python -m book.data fetch` (make test does)")
    return raw


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path):
    """MNIST loaded once for the whole session (`book.data.load_mnist()`); read it, never change it."""
    from book import data

    return data.load_mnist()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def site_url() -> Iterator[str]:
    """The built site (`make book`) served over HTTP on a loopback port for the length of the session."""
    if not (SITE / "index.html").exists():
        pytest.skip("the site is not built: run `make book` first (make test does)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make browsers installs it as root); browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class PageProblems:
    """What went wrong while a page loaded: console errors, failed or blocked requests, HTTP errors."""

    def __init__(self) -> None:
        self.console_errors: List[str] = []
        self.blocked: List[str] = []
        self.failed: List[str] = []

    def __bool__(self) -> bool:
        return bool(self.console_errors or self.blocked or self.failed)

    def __str__(self) -> str:
        return f"console errors: {self.console_errors}; blocked: {self.blocked}; failed: {self.failed}"


def watched_page(context):
    """A new page of `context` whose non-local requests are blocked and recorded: `page.problems` lists what went
    wrong, `page.requested` every URL the page asked for."""
    problems = PageProblems()

    def route(request_route):
        url = request_route.request.url
        if url.startswith(LOCAL_PREFIXES):
            request_route.continue_()
        else:
            problems.blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: problems.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.console_errors.append(str(exc)))
    page.on("response", lambda r: problems.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.problems, page.requested = problems, []
    page.on("request", lambda request: page.requested.append(request.url))
    return page


@pytest.fixture
def page(browser):
    """A fresh 1280 px page (`watched_page`)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield watched_page(context)
    context.close()


@pytest.fixture(scope="session")
def visits(browser, site_url: str):
    """`visits(path, width, scheme)`: what one load of a built page showed (test_site.Visits), each page loaded
    once per width and scheme for the whole session, however many checks read it."""
    from test_site import Visits

    return Visits(browser, site_url)


@pytest.fixture(scope="session")
def sandbox_works() -> None:
    """Grading runs submissions under bubblewrap; where it cannot run here, the grading tests skip and say why."""
    from grading.sandbox import Sandbox, SandboxUnavailable
    try:
        Sandbox.open().close()
    except SandboxUnavailable as reason:
        text = str(reason)
        # Skip only where the machine cannot have one; a sandbox that breaks on a machine that can is a failure.
        if any(cause in text for cause in ("no bwrap found", "needs Linux namespaces", "namespace",
                                          "not permitted", "Permission denied", "(util-linux) is missing")):
            pytest.skip(f"no grading sandbox on this machine: {reason}")
        pytest.fail(f"the grading sandbox does not work here: {reason}")
