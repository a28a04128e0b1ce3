"""`make lab` as a reader uses it: JupyterLab opens a chapter, runs it, and its kernel-sliding widget responds.

The test starts `make lab` itself (a loopback port, a token, --no-browser, temporary Jupyter runtime and config
directories, the repository as working directory), drives it with headless Chromium (conftest's `page`, which
blocks every non-local request), runs chapter 3 with Run > Run All Cells, moves the stride slider of the first
kernel-sliding widget and checks that the widget's drawing changes to the new stride. The server is shut down
through its API, and its whole process group is killed if it does not stop.

A second test, with no browser, starts a kernel through the same server and checks that a student's `!python` and
`!pip` reach the `.venv` the kernel runs on, as `%pip` does, rather than whatever interpreter comes first on PATH.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Optional

import pytest

pytestmark = pytest.mark.slow

NOTEBOOK = "chapters/03_padding_stride_dilation.ipynb"
SERVER_START_S = 180
KERNEL_START_S = 120
RUN_ALL_S = 480
UI_TIMEOUT_MS = 120_000
WIDGET_TIMEOUT_MS = 60_000


class LabServer(NamedTuple):
    url: str
    token: str
    log: Path


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(server: LabServer, path: str, method: str = "GET", body: Optional[dict] = None) -> bytes:
    request = urllib.request.Request(f"{server.url}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {server.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def _log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def _stop(process: subprocess.Popen, server: LabServer) -> None:
    """Ask the server to shut down (it stops its kernels), then make sure its whole process group is gone."""
    if process.poll() is None:
        try:
            _api(server, "/api/shutdown", method="POST")
            process.wait(timeout=30)
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def lab_server(root: Path, tmp_path: Path, browser) -> Iterator[LabServer]:
    """`make lab` for a browser (skipped, before the server starts, when there is no Chromium)."""
    yield from running_lab(root, tmp_path)


@pytest.fixture
def lab_without_browser(root: Path, tmp_path: Path) -> Iterator[LabServer]:
    yield from running_lab(root, tmp_path)


def running_lab(root: Path, tmp_path: Path) -> Iterator[LabServer]:
    """`make lab` on a free loopback port with a random token; always shut down afterwards."""
    config_dir = tmp_path / "jupyter-config"
    (config_dir / "labconfig").mkdir(parents=True)
    # No "would you like news?" prompt: the announcements plugin would cover the notebook and reach the internet.
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    # Never autosave: running the chapter must not write its outputs back into the repository's notebook.
    docmanager = config_dir / "lab" / "user-settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    # A shell that never activated .venv, as a student's: `make lab` alone must point PATH at it.
    venv_bin = (root / ".venv" / "bin").resolve()
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if Path(d).resolve() != venv_bin)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               IPYTHONDIR=str(tmp_path / "ipython"), PATH=path)
    env.pop("VIRTUAL_ENV", None)
    port, token = free_loopback_port(), secrets.token_hex(16)
    flags = " ".join([
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        f"--FileCheckpoints.checkpoint_dir={tmp_path / 'checkpoints'}",  # no .ipynb_checkpoints in the repo
    ] + (["--allow-root"] if os.geteuid() == 0 else []))  # containers often run as root; Jupyter refuses by default
    log = tmp_path / "lab.log"
    server = LabServer(f"http://127.0.0.1:{port}", token, log)
    with log.open("w") as out:
        process = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_FLAGS={flags}"], cwd=root, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"`make lab` exited with {process.returncode} before serving:\n{_log_tail(log)}")
            try:
                _api(server, "/api/status")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n{_log_tail(log)}")
                time.sleep(1)
        yield server
    finally:
        _stop(process, server)


def run_all_cells(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def kernel_state(server: LabServer) -> Optional[str]:
    """The execution state of the kernel the server runs for NOTEBOOK, or None when it has none."""
    for session in json.loads(_api(server, "/api/sessions")):
        if session.get("path") == NOTEBOOK and session.get("kernel"):
            return session["kernel"].get("execution_state")
    return None


def accept_kernel_dialog(page) -> None:
    """JupyterLab sometimes asks which kernel to start; the notebook's own (preselected) is the answer."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and "Select Kernel" in dialog.first.inner_text():
        dialog.first.locator(".jp-Dialog-button.jp-mod-accept").click()


def wait_until(page, server: LabServer, done: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `done` (answering any kernel dialog meanwhile) until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"JupyterLab: {what} did not happen within {timeout_s:.0f} s "
                        f"(kernel state {kernel_state(server)!r}):\n{_log_tail(server.log)}")
        accept_kernel_dialog(page)
        page.wait_for_timeout(1000)


def unexecuted_cells(page) -> int:
    """Code cells whose prompt shows no execution count yet (`[ ]:` or `[*]:`)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt'))
                  .filter(p => !/\\[\\d+\\]/.test(p.textContent)).length""")


def code_cells_with_outputs(notebook: Path) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(1 for cell in cells
               if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")))


def test_a_students_shell_commands_reach_the_kernels_environment(lab_without_browser: LabServer, root: Path,
                                                                 tmp_path: Path) -> None:
    from jupyter_client import BlockingKernelClient

    kernel = json.loads(_api(lab_without_browser, "/api/kernels", method="POST", body={"name": "python3"}))
    client = BlockingKernelClient()
    client.load_connection_file(str(tmp_path / "runtime" / f"kernel-{kernel['id']}.json"))
    client.start_channels()
    try:
        client.wait_for_ready(timeout=KERNEL_START_S)
        printed = []
        client.execute_interactive('import sys; print(sys.prefix)\n!python -c "import sys; print(sys.prefix)"\n'
                                   "!pip --version", timeout=KERNEL_START_S,
                                   output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
    finally:
        client.stop_channels()
    venv = str(root / ".venv")
    kernel_prefix, shell_prefix, pip = "".join(printed).splitlines()
    assert kernel_prefix == venv, f"the lab's kernel runs on {kernel_prefix}, not on {venv}"
    assert shell_prefix == venv, f"!python in the lab's kernel runs {shell_prefix}, not the kernel's {venv}"
    assert f"{venv}/" in pip, f"!pip in the lab's kernel is not the kernel's: {pip}"


@pytest.mark.browser
def test_lab_runs_chapter_3_and_its_kernel_slider_responds(lab_server: LabServer, page, root: Path,
                                                            artifacts: Path) -> None:
    notebook = root / NOTEBOOK
    assert notebook.is_file(), f"{NOTEBOOK} is missing"
    outputs_before = code_cells_with_outputs(notebook)
    (artifacts / "lab").mkdir(exist_ok=True)
    (artifacts / "lab" / "chapter3_failure.png").unlink(missing_ok=True)
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        check_kernel_slider_in_lab(page, lab_server, artifacts / "lab")
    except BaseException:
        page.screenshot(path=str(artifacts / "lab" / "chapter3_failure.png"))
        raise
    finally:
        assert code_cells_with_outputs(notebook) == outputs_before, f"JupyterLab saved outputs into {NOTEBOOK}"
    assert not page.problems.blocked, f"JupyterLab requested non-local resources: {page.problems.blocked}"


def check_kernel_slider_in_lab(page, server: LabServer, shots: Path) -> None:
    from playwright.sync_api import expect   # importable here: the `browser` fixture skipped otherwise

    page.goto(f"{server.url}/lab/tree/{NOTEBOOK}?token={server.token}", wait_until="load")
    page.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for(state="visible")
    wait_until(page, server, lambda: kernel_state(server) == "idle", KERNEL_START_S, "the kernel starting")

    run_all_cells(page)
    wait_until(page, server, lambda: unexecuted_cells(page) == 0 and kernel_state(server) == "idle",
               RUN_ALL_S, "Run All Cells finishing")
    page.screenshot(path=str(shots / "chapter3_ran.png"))
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, f"{NOTEBOOK} raised in JupyterLab: {errors.first.inner_text()[:2000]}"

    stride_label = page.locator(".widget-label", has_text=re.compile(r"^stride$"))
    widget = page.locator(".jp-OutputArea-output").filter(has=stride_label).first
    widget.wait_for(state="attached", timeout=WIDGET_TIMEOUT_MS)
    widget.scroll_into_view_if_needed()
    stride_slider = widget.locator(".widget-slider").filter(has=stride_label).first
    title = widget.locator(".ks-title").first
    title.wait_for(state="visible", timeout=WIDGET_TIMEOUT_MS)
    page.screenshot(path=str(shots / "chapter3_before.png"))
    before = title.inner_text()
    readout = stride_slider.locator(".widget-readout")
    old_stride = int(readout.inner_text())
    assert f"stride {old_stride}" in before, f"the widget's drawing does not show its stride: {before!r}"

    # Keyboard on the slider handle: the browser changes the value, the kernel recomputes and redraws.
    stride_slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    new_stride = old_stride + 1
    # The kernel replaces the drawing's HTML, so poll through locators (they re-resolve), not element handles.
    expect(readout).to_have_text(str(new_stride), timeout=WIDGET_TIMEOUT_MS)
    expect(title).to_contain_text(f"stride {new_stride}", timeout=WIDGET_TIMEOUT_MS)
    page.screenshot(path=str(shots / "chapter3_after.png"))
    assert title.inner_text() != before
