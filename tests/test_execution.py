"""course_lib.execution: the executor behind `make execute` writes reproducible, clean notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_lib.book import Book
from course_lib.execution import (
    KERNELSPEC,
    PORTABLE_CPU_ENV,
    WIDGET_VIEW,
    ExecutionTotal,
    book_notebooks,
    execute_notebook,
    execution_totals,
)

CELLS = [
    "import os\nprint({name: os.environ.get(name) for name in %r})" % sorted(PORTABLE_CPU_ENV),
    "import ipywidgets\nipywidgets.IntSlider(value=3)",
    "import torch\nprint(torch.backends.cpu.get_cpu_capability() in ('AVX2', 'DEFAULT'))",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, bytes]:
    path = tmp_path_factory.mktemp("execution") / "tiny.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    execute_notebook(path)
    first = path.read_bytes()
    execute_notebook(path)
    return path, first, path.read_bytes()


def test_outputs_are_stored_and_a_second_run_changes_no_byte(executed) -> None:
    path, first, second = executed
    assert first == second
    cells = nbformat.read(path, as_version=4).cells
    assert [cell.execution_count for cell in cells] == [1, 2, 3]


def test_the_kernel_runs_with_the_portable_cpu_settings(executed) -> None:
    path, _, _ = executed
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].outputs[0].text.strip() == str(dict(sorted(PORTABLE_CPU_ENV.items())))
    assert cells[2].outputs[0].text.strip() == "True"  # never the AVX-512 kernels


def test_no_timing_metadata_no_widget_state_and_the_course_kernelspec(executed) -> None:
    path, _, _ = executed
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"] == KERNELSPEC
    assert "widgets" not in notebook.metadata
    assert all("execution" not in cell.metadata for cell in notebook.cells)
    widget_output = notebook.cells[1].outputs[0]
    assert WIDGET_VIEW not in widget_output.data and "IntSlider(value=3)" in widget_output.data["text/plain"]


def test_write_false_leaves_the_file_alone(executed, tmp_path: Path) -> None:
    path, first, _ = executed
    copy = tmp_path / "copy.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, copy)
    before = copy.read_bytes()
    result = execute_notebook(copy, write=False)
    assert copy.read_bytes() == before
    assert result.seconds > 0 and result.notebook.cells[2].outputs


def test_a_missing_notebook_is_named_in_the_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ipynb"
    with pytest.raises(FileNotFoundError, match="nope.ipynb"):
        execute_notebook(missing)


def test_book_notebooks_lists_each_written_chapter_then_its_exercises(book: Book) -> None:
    listed = book_notebooks(book)
    expected = [(path, chapter.budget_seconds) for chapter in book.written_chapters
                for path in (chapter.notebook, chapter.exercises)]
    assert listed == expected and len(listed) == 2 * len(book.written_chapters)


def _times(book: Book, chapter_seconds: float, exercise_seconds: float) -> dict[Path, float]:
    exercises = {chapter.exercises for chapter in book.written_chapters}
    return {path: exercise_seconds if path in exercises else chapter_seconds for path, _ in book_notebooks(book)}


def test_execution_totals_sum_the_times_and_the_budgets_per_part(book: Book) -> None:
    chapters, exercises, whole = execution_totals(book, _times(book, 10.0, 2.5))
    n = len(book.written_chapters)
    budgets = sum(chapter.budget_seconds for chapter in book.written_chapters)
    assert chapters == ExecutionTotal("chapters", n, 10.0 * n, budgets)
    assert exercises == ExecutionTotal("exercises", n, 2.5 * n, budgets)
    assert whole == ExecutionTotal("whole book", 2 * n, 12.5 * n, 2 * budgets)
    assert whole.within_budget
    assert str(whole) == f"{12.5 * n:7.1f} s / {2 * budgets:4.0f} s  whole book: {2 * n} notebooks in sequence, within the sum of their budgets"


def test_the_whole_book_is_over_its_budget_only_when_the_total_is(book: Book) -> None:
    """One notebook far over its own budget is fine while the total stays within the sum; the total over it is not."""
    budgets = dict(book_notebooks(book))
    first, *rest = budgets
    times = {path: 0.0 for path in rest} | {first: sum(budgets.values())}  # one slow notebook, all the slack used
    assert execution_totals(book, times)[-1].within_budget
    times[first] += 0.1
    whole = execution_totals(book, times)[-1]
    assert not whole.within_budget and "OVER the sum of their budgets" in str(whole)


def test_execution_totals_reject_missing_unknown_and_bad_times(book: Book, tmp_path: Path) -> None:
    times = _times(book, 1.0, 1.0)
    first = next(iter(times))
    with pytest.raises(ValueError, match=r"seconds has no time for 1 notebook\(s\) of the book: .*" + first.name):
        execution_totals(book, {path: t for path, t in times.items() if path != first})
    with pytest.raises(ValueError, match="which is not a notebook of the book"):
        execution_totals(book, times | {tmp_path / "other.ipynb": 1.0})
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"seconds\[.*\] must be .*, got"):
            execution_totals(book, times | {first: bad})
    for bad in (True, "3"):
        with pytest.raises(TypeError, match=r"seconds\[.*\] must be a"):
            execution_totals(book, times | {first: bad})
    with pytest.raises(TypeError, match="book must be a course_lib.book.Book, got str"):
        execution_totals("book.toml", times)
    with pytest.raises(TypeError, match="seconds must be a mapping of notebook paths to seconds, got list"):
        execution_totals(book, list(times.items()))


def test_ensure_kernel_registers_the_kernel_again_when_a_setting_or_the_interpreter_differs(monkeypatch) -> None:
    """An older registration (a setting added since, another venv) is replaced; a current one is left alone."""
    import sys
    from types import SimpleNamespace

    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager

    from course_lib.execution import ensure_kernel

    installed = []
    monkeypatch.setattr(ipykernel.kernelspec, "install", lambda **kwargs: installed.append(kwargs))
    current = SimpleNamespace(argv=[sys.executable, "-m", "ipykernel_launcher"], env=dict(PORTABLE_CPU_ENV))
    for spec, expected in (
        (current, 0),
        (SimpleNamespace(argv=current.argv, env={**PORTABLE_CPU_ENV, "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}), 1),
        (SimpleNamespace(argv=current.argv, env={"MKL_CBWR": "AVX2"}), 1),
        (SimpleNamespace(argv=["/elsewhere/bin/python", "-m", "ipykernel_launcher"], env=current.env), 1),
    ):
        installed.clear()
        monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", lambda self, name, spec=spec: spec)
        ensure_kernel()
        assert len(installed) == expected, (spec, installed)
    assert installed[0]["env"] == PORTABLE_CPU_ENV and installed[0]["prefix"] == sys.prefix


def test_the_aim_is_reported_as_met_or_not_met() -> None:
    from course_lib.execution import WHOLE_BOOK_AIM_SECONDS

    assert ExecutionTotal("whole book", 16, WHOLE_BOOK_AIM_SECONDS, 1020.0).aim_text().endswith("3 min on a 2-core machine (met)")
    late = ExecutionTotal("whole book", 16, 347.3, 1020.0)
    assert late.aim_text() == "the whole book in sequence: 5.8 min against the aim of 3 min on a 2-core machine (not met)"
