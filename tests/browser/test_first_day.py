"""The student's first day, in a real browser: JupyterLab, a chapter, its widget.

For every chapter whose notebook displays a widget, as a student would: start
``jupyter lab`` on 127.0.0.1 with a token, open the chapter in Chromium, see
that the notebook runs the course kernel ("Python 3 (regularization
course)"), run the cells the widget needs with the keyboard (Ctrl+Enter, cell
by cell), then move a slider and flip a toggle of the widget and check after
each move that both its readout and its picture (the PNG bytes of the
``Image`` widget) change; a checkbox, where a widget has one, is ticked too
and must change the picture. No request may leave this machine, and the page
may log no error.

Running every cell above a widget would train the chapter's experiments
first (up to a minute a chapter). The widget needs far less: the set-up cell,
the cell that builds the demo, and whatever cells define the names that one
uses (for Monte-Carlo dropout, the cell that trains its three small
regression networks). :func:`cells_to_run` finds them from the names each
cell defines and uses, so the test follows the notebook when it changes.

One JupyterLab server per pytest-xdist worker (session scope), serving a
temporary copy of notebooks/ (running cells marks a notebook changed, and
JupyterLab autosaves it; the repository's notebooks stay untouched), with its
own runtime, configuration, settings and workspace folders. Each test opens
its chapter in a workspace of its own and shuts its kernel down afterwards.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

import course_lib.widgets
from course_lib.book import load_book
from course_lib.execution import KERNEL_NAME, KERNELSPEC, ensure_kernel

from .conftest import describe_errors

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

BOOK = load_book()
NOTEBOOK_ROOT = BOOK.root / "notebooks"

# Generous limits, never assertions about speed: a cold kernel imports torch, scikit-learn and
# matplotlib (15-20 s on a busy 2-core machine), and JupyterLab's first page load takes seconds.
SERVER_START_SECONDS = 180
PAGE_LOAD_MS = 180_000
KERNEL_MS = 300_000
BROWSER_MS = 60_000
WIDGET_MS = 60_000  # a demo redraws in well under a second; minutes only on a machine starved of CPU

# Selectors of JupyterLab 4 and ipywidgets 8.
CELLS = ".jp-NotebookPanel .jp-Notebook .jp-Cell"
KERNEL_NAME_LABEL = ".jp-NotebookPanel-toolbar .jp-KernelName"
KERNEL_STATUS = ".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator"
DEMO_BOX = ".jp-OutputArea-output > .jupyter-widgets.widget-vbox"  # a demo's DemoBox (a VBox)
DEMO_IMAGE = ":scope > img.widget-image"
DEMO_READOUT = ":scope > .widget-html .widget-html-content"
SLIDERS = ".widget-slider"
TOGGLES = ".widget-toggle-buttons"
CHECKBOXES = ".widget-checkbox"

#: SHA-256 and length of the bytes behind an ``<img>`` (the ``Image`` widget's ``blob:`` URL).
IMAGE_DIGEST_JS = """async image => {
    const bytes = await (await fetch(image.src)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(digest, b => b.toString(16).padStart(2, "0")).join("") + " (" + bytes.byteLength + " bytes)";
}"""


# ---------------------------------------------------------------------------------------------
# Which cells a widget needs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellNames:
    """The names a code cell binds (assignments, imports, definitions, loop targets) and the free names it reads."""

    defined: frozenset[str]
    used: frozenset[str]


_BUILTINS = frozenset(dir(builtins))


def cell_names(source: str) -> CellNames:
    """The names of a code cell (IPython syntax such as ``%magic`` allowed).

    An over-approximation that errs on the side of running a cell too many:
    every name bound anywhere in the cell counts as defined (also inside a
    function, a comprehension or as a parameter), and a name counts as used
    only if the cell binds it nowhere and it is not a builtin.
    """
    tree = ast.parse(TransformerManager().transform_cell(source))
    defined: set[str] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
    return CellNames(frozenset(defined), frozenset(read - defined - _BUILTINS))


def displays_a_widget(source: str) -> bool:
    """Whether the cell is ``<demo>.widget`` alone: the cell that shows a chapter's interactive demo."""
    body = ast.parse(TransformerManager().transform_cell(source)).body
    return (len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Attribute)
            and body[0].value.attr == "widget" and isinstance(body[0].value.value, ast.Name))


def cells_to_run(sources: dict[int, str], target: int) -> tuple[int, ...]:
    """The code cells to run, in order, so that cell ``target`` runs: the set-up cell, ``target``, and its dependencies.

    ``sources`` maps the index of each code cell (in the notebook's list of
    cells) to its source, in notebook order; the first is the set-up cell,
    which every chapter runs first. A cell depends, for each name it uses, on
    the last cell before it that defines that name, and so on transitively.
    """
    if target not in sources:
        raise ValueError(f"target must be the index of a code cell, got {target!r}")
    names = {index: cell_names(source) for index, source in sources.items()}
    needed = {next(iter(sources)), target}
    pending = [target]
    while pending:
        cell = pending.pop()
        for name in names[cell].used:
            definitions = [index for index in sources if index < cell and name in names[index].defined]
            if definitions and definitions[-1] not in needed:
                needed.add(definitions[-1])
                pending.append(definitions[-1])
    return tuple(sorted(needed))


@dataclass(frozen=True)
class WidgetCells:
    """Where a chapter's first widget is and what to run for it; indices into the notebook's list of cells."""

    notebook: Path
    cell_count: int
    run: tuple[int, ...]

    @property
    def widget_cell(self) -> int:
        return self.run[-1]


def first_widget(notebook: nbformat.NotebookNode, path: Path) -> WidgetCells | None:
    """The first cell of ``notebook`` that displays a widget and the cells it needs, or ``None`` if none does."""
    sources = {index: cell.source for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"}
    widget_cell = next((index for index, source in sources.items() if displays_a_widget(source)), None)
    if widget_cell is None:
        return None
    return WidgetCells(path, len(notebook.cells), cells_to_run(sources, widget_cell))


WIDGET_CHAPTERS = {
    chapter.id: cells
    for chapter in BOOK.written_chapters
    if (cells := first_widget(nbformat.read(chapter.notebook, as_version=4), chapter.notebook)) is not None
}


# ---------------------------------------------------------------------------------------------
# Tests of the cell selection (no browser)
# ---------------------------------------------------------------------------------------------


def test_every_widget_module_is_displayed_by_its_chapter() -> None:
    """Each chapter module of course_lib.widgets has a written chapter (same id) whose notebook displays a widget."""
    modules = sorted(path.stem for path in Path(course_lib.widgets.__file__).parent.glob("*.py")
                     if not path.name.startswith("_"))
    assert modules, "no widget modules found"
    missing = [name for name in modules if name not in WIDGET_CHAPTERS]
    assert not missing, f"written chapters with a widget module but no cell showing `<demo>.widget`: {missing}"


def test_cells_to_run_takes_the_setup_the_demo_and_its_data_but_not_the_rest() -> None:
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell("import math\n%matplotlib inline\nrng = setup()"),  # 1: set-up
        nbformat.v4.new_code_cell("table = [train(seed) for seed in range(5)]"),  # 2: an experiment
        nbformat.v4.new_code_cell("data = [math.sqrt(k) for k in range(4)]\nunused = 1"),  # 3
        nbformat.v4.new_code_cell("def scale(x, factor=2):\n    return factor * x"),  # 4
        nbformat.v4.new_markdown_cell("Some prose."),
        nbformat.v4.new_code_cell("demo = Demo(scale(data), rng=rng)\ndemo.static_figure()"),  # 6
        nbformat.v4.new_code_cell("print(table)"),  # 7
        nbformat.v4.new_code_cell("demo.widget"),  # 8
        nbformat.v4.new_code_cell("other.widget"),  # 9: a second widget, not the first
    ])
    cells = first_widget(notebook, Path("chapter.ipynb"))
    assert cells == WidgetCells(Path("chapter.ipynb"), 10, (1, 3, 4, 6, 8))
    assert cells.widget_cell == 8
    assert first_widget(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("demo.widget()")]),
                        Path("x.ipynb")) is None
    with pytest.raises(ValueError, match="target must be the index of a code cell, got 5"):
        cells_to_run({1: "x = 1"}, 5)


def test_the_dependency_of_a_demo_on_a_training_cell_is_found() -> None:
    """Monte-Carlo dropout's demo needs the cell that trains its regression networks; the widget cell is last."""
    cells = WIDGET_CHAPTERS["mc_dropout"]
    notebook = nbformat.read(cells.notebook, as_version=4)
    sources = [notebook.cells[index].source for index in cells.run]
    assert "course_lib.setup_notebook()" in sources[0]
    assert any("regressors = {}" in source for source in sources[1:-1])
    assert displays_a_widget(sources[-1])


# ---------------------------------------------------------------------------------------------
# The JupyterLab server
# ---------------------------------------------------------------------------------------------


@dataclass
class LabServer:
    """A running ``jupyter lab`` on 127.0.0.1 serving ``root`` (a copy of notebooks/), reachable with ``token``."""

    process: subprocess.Popen
    base_url: str
    token: str
    root: Path
    log: Path

    def url(self, path: str) -> str:
        """The address of ``path`` (e.g. ``lab/tree/01_dropout.ipynb``) with the token, as a student's link has it."""
        return f"{self.base_url}/{path}?token={self.token}"

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.base_url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def sessions(self) -> list[dict]:
        return self.api("sessions")

    def shut_down_kernels(self) -> None:
        """End every session and its kernel (the next test starts from a fresh kernel)."""
        for session in self.sessions():
            self.api(f"sessions/{session['id']}", method="DELETE")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _lab_command(root: Path, token: str) -> list[str]:
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               "--port=0", "--ServerApp.port_retries=0",  # the system picks a free port; read back below
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        command.append("--allow-root")  # Jupyter refuses root without it (containers, CI)
    return command


def _lab_environment(state: Path) -> dict[str, str]:
    """The server's environment: its own runtime, configuration, settings and workspace folders under ``state``.

    Kernel specs still come from the usual data path (the course kernel is in
    the virtual environment's share/jupyter). The only setting written is the
    answer "no" to JupyterLab's first-start question whether to fetch Jupyter
    news from the web: its notification would otherwise cover part of the page.
    """
    folders = {name: state / name for name in ("runtime", "config", "settings", "workspaces")}
    notification = folders["settings"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return {**os.environ, "JUPYTER_RUNTIME_DIR": str(folders["runtime"]), "JUPYTER_CONFIG_DIR": str(folders["config"]),
            "JUPYTERLAB_SETTINGS_DIR": str(folders["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(folders["workspaces"])}


def _wait_until_up(process: subprocess.Popen, runtime: Path, token: str, log: Path) -> str:
    """The server's base URL, once its REST API answers; fails with the log if it exits or never answers."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    server_file = runtime / f"jpserver-{process.pid}.json"
    while True:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with status {process.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"jupyter lab did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()[-3000:]}")
        if server_file.is_file():
            try:
                base_url = f"http://127.0.0.1:{json.loads(server_file.read_text())['port']}"
                request = urllib.request.Request(f"{base_url}/api/status", headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(request, timeout=5):
                    return base_url
            except (ValueError, KeyError, OSError):  # the file half written, or the server not listening yet
                pass
        time.sleep(0.25)


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One JupyterLab server for this worker, on a copy of notebooks/; shut down (kernels included) at the end."""
    ensure_kernel()  # what `make venv` registers; a no-op when it is there
    state = tmp_path_factory.mktemp("jupyterlab")
    root = state / "notebooks"
    shutil.copytree(NOTEBOOK_ROOT, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    token = secrets.token_hex(16)
    env = _lab_environment(state)
    log = state / "lab.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(_lab_command(root, token), stdout=log_file, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL)
    try:
        base_url = _wait_until_up(process, Path(env["JUPYTER_RUNTIME_DIR"]), token, log)
        yield LabServer(process, base_url, token, root, log)
    finally:
        process.terminate()  # jupyter_server shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def lab(jupyter_lab: LabServer) -> Iterator[LabServer]:
    """The worker's server; the test's kernels are shut down after it (and after its browser context closed)."""
    yield jupyter_lab
    jupyter_lab.shut_down_kernels()


# ---------------------------------------------------------------------------------------------
# Driving the notebook and the widget
# ---------------------------------------------------------------------------------------------


def run_cell(cell: Locator, execution_count: int, label: str, *, wait: bool = True) -> None:
    """Run ``cell`` as a student does: select it, press Ctrl+Enter; with ``wait``, :func:`wait_for_cell` too."""
    cell.locator(".jp-InputPrompt").click()  # selects the cell (command mode)
    cell.page.keyboard.press("Control+Enter")  # run the selected cell, stay on it
    if wait:
        wait_for_cell(cell, execution_count, label)


def wait_for_cell(cell: Locator, execution_count: int, label: str) -> None:
    """Wait until ``cell`` shows the prompt ``[execution_count]:`` (it ran); fail if it wrote to stderr."""
    from playwright.sync_api import expect

    expect(cell.locator(".jp-InputPrompt"), f"{label}: the cell did not finish").to_have_text(
        f"[{execution_count}]:", timeout=KERNEL_MS)
    errors = cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, f"{label} wrote to stderr (an error or a warning):\n" + "\n".join(
        errors.all_inner_texts())[:3000]


def image_digest(image: Locator) -> str:
    return image.evaluate(IMAGE_DIGEST_JS)


def move_slider(slider: Locator) -> str:
    """Move ``slider`` one step with the keyboard (right, or left at its maximum); returns what was done."""
    from playwright.sync_api import expect

    handle = slider.locator("[role=slider]")
    value = slider.locator(".widget-readout")
    before = value.inner_text()
    at_maximum = float(handle.get_attribute("aria-valuenow")) >= float(handle.get_attribute("aria-valuemax"))
    handle.focus()
    handle.press("ArrowLeft" if at_maximum else "ArrowRight")
    expect(value, "the slider's value did not move").not_to_have_text(before)
    name = slider.locator(".widget-label").inner_text()
    return f"slider {name!r} moved from {before} to {value.inner_text()}"


def flip_toggle(toggle: Locator) -> str:
    """Select the first unselected button of a ``ToggleButtons``; returns what was done."""
    from playwright.sync_api import expect

    # Pin the button by its value: ":not(.mod-active)" would match the other button once this one is selected.
    value = toggle.locator("button.widget-toggle-button:not(.mod-active)").first.get_attribute("data-value")
    button = toggle.locator(f"button.widget-toggle-button[data-value={json.dumps(value)}]")
    label = button.inner_text()
    button.click()
    expect(button).to_have_class(re.compile(r"\bmod-active\b"))
    return f"toggle button {label!r} selected"


def tick_checkbox(checkbox: Locator) -> str:
    """Click a ``Checkbox`` widget's box; returns what was done."""
    from playwright.sync_api import expect

    box = checkbox.locator("input[type=checkbox]")
    was_checked = box.is_checked()
    box.click()
    expect(box).to_be_checked(checked=not was_checked)
    label = checkbox.inner_text().strip()
    return f"checkbox {label!r} {'un' if was_checked else ''}ticked"


def assert_demo_responds(page: Page, demo: Locator, interact, chapter_id: str, *, readout_changes: bool = True) -> None:
    """Run ``interact()`` (a slider move, a toggle flip, a tick) and check that the demo's picture (and readout) change."""
    from playwright.sync_api import expect

    image, readout = demo.locator(DEMO_IMAGE), demo.locator(DEMO_READOUT)
    text, source, digest = readout.inner_text(), image.get_attribute("src"), image_digest(image)
    action = interact()
    if readout_changes:
        expect(readout, f"{chapter_id}: {action}, but the readout did not change").not_to_have_text(
            text, timeout=WIDGET_MS)
    expect(image, f"{chapter_id}: {action}, but the picture was not redrawn").not_to_have_attribute(
        "src", source, timeout=WIDGET_MS)
    assert image_digest(image) != digest, f"{chapter_id}: {action}, but the picture's PNG bytes are the same"
    expect(page.locator(KERNEL_STATUS)).to_have_attribute("data-status", "idle", timeout=KERNEL_MS)


@pytest.mark.browser
@pytest.mark.parametrize("chapter_id", list(WIDGET_CHAPTERS))
def test_a_student_runs_a_chapter_widget_in_jupyterlab(
    chapter_id: str, lab: LabServer, page: Page, blocked_requests: list[str], page_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    cells = WIDGET_CHAPTERS[chapter_id]
    name = cells.notebook.relative_to(NOTEBOOK_ROOT).as_posix()
    page.set_default_timeout(BROWSER_MS)
    # A workspace of its own, so that JupyterLab restores no tab of another test.
    page.goto(lab.url(f"lab/workspaces/first-day-{chapter_id}/tree/{name}"), timeout=PAGE_LOAD_MS)
    expect(page.locator(KERNEL_NAME_LABEL), f"{name}: wrong kernel").to_have_text(
        KERNELSPEC["display_name"], timeout=PAGE_LOAD_MS)
    expect(page.locator(KERNEL_STATUS), f"{name}: the kernel never became idle").to_have_attribute(
        "data-status", "idle", timeout=PAGE_LOAD_MS)
    # JupyterLab adds the cells to the page in order while it renders their markdown and math. Like a
    # student who does not wait, run the set-up cell as soon as it is there: the kernel imports the
    # libraries while the browser renders the rest of the chapter.
    notebook_cells = page.locator(CELLS)
    setup_cell, *other_cells = cells.run
    expect(notebook_cells.nth(setup_cell)).to_be_attached(timeout=PAGE_LOAD_MS)
    run_cell(notebook_cells.nth(setup_cell), 1, f"{name}, cell {setup_cell}", wait=False)
    expect(notebook_cells, f"{name}: not every cell shown").to_have_count(cells.cell_count, timeout=PAGE_LOAD_MS)
    wait_for_cell(notebook_cells.nth(setup_cell), 1, f"{name}, cell {setup_cell}")
    for execution_count, index in enumerate(other_cells, start=2):
        run_cell(notebook_cells.nth(index), execution_count, f"{name}, cell {index}")

    demo = notebook_cells.nth(cells.widget_cell).locator(DEMO_BOX)
    expect(demo, f"{name}: cell {cells.widget_cell} shows no widget").to_have_count(1)
    page.wait_for_function("image => image.complete && image.naturalWidth > 0",
                           arg=demo.locator(DEMO_IMAGE).element_handle())
    sliders = demo.locator(SLIDERS).filter(has=page.locator(".noUi-target:not([disabled])"))
    toggles, checkboxes = demo.locator(TOGGLES), demo.locator(CHECKBOXES)
    assert sliders.count() >= 1, f"{name}: the widget has no slider"
    assert toggles.count() >= 1, f"{name}: the widget has no toggle"
    assert_demo_responds(page, demo, lambda: move_slider(sliders.first), chapter_id)
    assert_demo_responds(page, demo, lambda: flip_toggle(toggles.first), chapter_id)
    for index in range(checkboxes.count()):  # a display option such as "show the kept scale": the picture changes
        assert_demo_responds(page, demo, lambda: tick_checkbox(checkboxes.nth(index)), chapter_id, readout_changes=False)

    sessions = lab.sessions()
    assert [(s["path"], s["kernel"]["name"]) for s in sessions] == [(name, KERNEL_NAME)], (
        f"expected one session, {name} on the course kernel; got {sessions}")
    assert blocked_requests == [], f"JupyterLab asked for {len(blocked_requests)} address(es) off this machine"
    assert not page_errors, describe_errors(page_errors)
