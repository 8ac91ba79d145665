"""Stored notebooks: executed top to bottom, no errors, nothing volatile, budgets kept.

nbval (run by `make test` over notebooks/) checks that the stored outputs are
what the code computes; it lets a never-executed cell pass silently, so these
tests check what nbval does not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from conftest import NOTEBOOK_TIMING
from course_lib.book import load_book
from course_lib.execution import KERNELSPEC, WIDGET_VIEW, book_notebooks, execute_notebook

BOOK = load_book()
NOTEBOOKS = sorted(p for p in (BOOK.root / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
VOLATILE = {
    "an object address": re.compile(r"0x[0-9a-fA-F]{6,}"),
    "a machine path": re.compile(r"/(tmp|work|root|home|Users)/[\w./-]+"),
    "a progress-bar rate": re.compile(r"\d+(\.\d+)?\s*(it/s|s/it)"),
    "a traceback": re.compile(r"Traceback \(most recent call last\)"),
}


def relative(path: Path) -> str:
    return str(path.relative_to(BOOK.root))


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    notebook = nbformat.read(path, as_version=4)
    return [c for c in notebook.cells if c.cell_type == "code" and c.source.strip()]


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=relative)
def test_every_code_cell_executed_once_in_order(path: Path) -> None:
    counts = [c.execution_count for c in code_cells(path)]
    assert None not in counts, f"{counts.count(None)} code cell(s) never executed: run `make execute`"
    assert counts == list(range(1, len(counts) + 1)), "not one clean top-to-bottom run: run `make execute`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=relative)
def test_no_error_or_warning_outputs(path: Path) -> None:
    for index, cell in enumerate(code_cells(path)):
        for output in cell.outputs:
            assert output.output_type != "error", f"code cell {index} stores an error ({output.get('ename')})"
            if output.output_type == "stream":
                assert output.name != "stderr", f"code cell {index} writes to stderr: {output.text[:200]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=relative)
def test_no_volatile_text_in_outputs(path: Path) -> None:
    for index, cell in enumerate(code_cells(path)):
        text = json.dumps([o.get("text", "") for o in cell.outputs] + [o.get("data", {}).get("text/plain", "") for o in cell.outputs])
        for what, pattern in VOLATILE.items():
            match = pattern.search(text)
            assert match is None, f"code cell {index} output contains {what}: {match.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=relative)
def test_metadata_is_clean(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata.get("kernelspec") == KERNELSPEC
    assert "widgets" not in notebook.metadata, "widget state stored: run `make execute`"
    for cell in notebook.cells:
        assert "execution" not in cell.metadata, "per-cell timing metadata stored: run `make execute`"
        for output in cell.get("outputs", []):
            assert WIDGET_VIEW not in output.get("data", {}), "a widget view (random model id) stored: run `make execute`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=relative)
def test_first_code_cell_calls_the_setup(path: Path) -> None:
    first = code_cells(path)[0].source
    assert "course_lib.setup_notebook(" in first


@pytest.mark.parametrize(("path", "budget"), book_notebooks(BOOK), ids=lambda v: relative(v) if isinstance(v, Path) else str(v))
def test_notebook_executes_within_three_times_its_budget(path: Path, budget: float, record_property) -> None:
    """Execute with the same executor as `make execute` (nothing written); report the time, fail only at 3x budget."""
    seconds = execute_notebook(path, write=False).seconds
    record_property(NOTEBOOK_TIMING, (relative(path), seconds, budget))  # printed in the terminal summary
    assert seconds < 3 * budget, f"{relative(path)} took {seconds:.1f} s, over 3x its {budget:.0f} s budget"
