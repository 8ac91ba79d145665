"""course_lib.execution: the executor behind `make execute` writes reproducible, clean notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course_lib.book import Book
from course_lib.execution import KERNELSPEC, PORTABLE_CPU_ENV, WIDGET_VIEW, book_notebooks, execute_notebook

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
