"""course_lib.release: the instructor sources are valid nbgrader notebooks and the student release holds none of their solutions.

Runs once for every chapter that book.toml marks written. nbgrader runs for real
(generate_assignment, once for all chapters). Grading a class's submissions through
nbgrader's exchange is tested in tests/test_instructor_pipeline.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from course_lib import checks
from course_lib.book import Book, Chapter, load_book
from course_lib.execution import KERNELSPEC, ensure_kernel
from course_lib.release import (
    HIDDEN_TEST_MARKERS,
    SOLUTION_MARKERS,
    GradedCell,
    ReleaseError,
    build_course,
    graded_cells,
    make_course_directory,
    release_exercises,
    run_nbgrader_commands,
    _check_no_solution_left,
)

STUB = "raise NotImplementedError()"
WRITTEN_CHAPTER_IDS = [chapter.id for chapter in load_book().written_chapters]
TEST_CELL = re.compile(r"assert (check_\w+)\((\w+)\)")  # a test cell runs one checker on one function


@pytest.fixture(scope="module", params=WRITTEN_CHAPTER_IDS)
def chapter(request: pytest.FixtureRequest, book: Book) -> Chapter:
    """Each written chapter in turn: every test below runs once per chapter in book.toml."""
    return book.chapter(request.param)


@pytest.fixture(scope="module")
def released(book: Book, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """release_exercises run once for the whole book: (its output folder, the paths it returned)."""
    ensure_kernel()
    out_dir = tmp_path_factory.mktemp("release")
    return out_dir, release_exercises(out_dir, book)


def _nbgrader(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def _cells_by_grade_id(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {_nbgrader(c)["grade_id"]: c for c in notebook.cells if "grade_id" in _nbgrader(c)}


def _is_test(cell: nbformat.NotebookNode) -> bool:
    """An autograded test cell: graded, no solution."""
    return bool(_nbgrader(cell).get("grade")) and not _nbgrader(cell).get("solution")


def _is_code_solution(cell: nbformat.NotebookNode) -> bool:
    """A cell whose solution nbgrader replaces with a stub."""
    return bool(_nbgrader(cell).get("solution")) and cell.cell_type == "code"


def _is_written_answer(cell: nbformat.NotebookNode) -> bool:
    """A hand-graded answer: a graded markdown solution cell."""
    return bool(_nbgrader(cell).get("grade")) and bool(_nbgrader(cell).get("solution")) and cell.cell_type == "markdown"


def _solution_lines(cell: nbformat.NotebookNode) -> list[str]:
    """The non-trivial lines between the solution markers of an instructor cell."""
    lines = [line.strip() for line in cell.source.splitlines()]
    start, end = lines.index(SOLUTION_MARKERS[0]), lines.index(SOLUTION_MARKERS[1])
    return [line for line in lines[start + 1 : end] if len(line) > 12]


def _signature(cell: nbformat.NotebookNode) -> list[str]:
    """The lines of a solution cell before its BEGIN SOLUTION marker (def line, docstring)."""
    lines = cell.source.splitlines()
    return lines[: [line.strip() for line in lines].index(SOLUTION_MARKERS[0])]


def test_every_written_chapter_is_covered() -> None:
    assert WRITTEN_CHAPTER_IDS, "no written chapter in book.toml: the round trip would test nothing"


def test_instructor_source_is_valid_nbgrader(chapter: Chapter) -> None:
    notebook = nbformat.read(chapter.exercises, as_version=4)
    assert notebook.metadata["kernelspec"] == KERNELSPEC
    metadata = [_nbgrader(c) for c in notebook.cells if _nbgrader(c)]
    assert all(m["schema_version"] == 3 for m in metadata)
    grade_ids = [m["grade_id"] for m in metadata]
    assert len(grade_ids) == len(set(grade_ids))
    cells = _cells_by_grade_id(notebook)

    tests = {gid: cell for gid, cell in cells.items() if _is_test(cell)}
    assert tests and all(_nbgrader(c)["locked"] and _nbgrader(c)["points"] > 0 for c in tests.values())
    checked = set()
    for grade_id, cell in tests.items():
        match = TEST_CELL.fullmatch(cell.source.strip())
        assert match, f"{grade_id}: a test cell should be `assert check_…(fn)`, got {cell.source!r}"
        assert hasattr(checks, match[1]), f"{grade_id}: course_lib.checks has no {match[1]}"
        checked.add(match[2])

    solutions = {gid: cell for gid, cell in cells.items() if _is_code_solution(cell)}
    assert solutions
    for grade_id, cell in solutions.items():
        assert not _nbgrader(cell)["grade"] and not _nbgrader(cell)["locked"]
        assert all(marker in cell.source for marker in SOLUTION_MARKERS)
        assert grade_id in checked, f"{grade_id}: no test cell checks this function"
        assert _signature(cell)[0].startswith(f"def {grade_id}("), f"{grade_id}: the cell should define {grade_id}"

    answers = [c for c in notebook.cells if _nbgrader(c).get("grade") and _nbgrader(c).get("solution")]
    assert all(_is_written_answer(c) and _nbgrader(c)["points"] > 0 for c in answers)
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert "course_lib.setup_notebook()" in first_code.source


def test_graded_cells_are_the_test_cells_and_the_written_answers(chapter: Chapter) -> None:
    cells = _cells_by_grade_id(nbformat.read(chapter.exercises, as_version=4))
    expected = [
        GradedCell(grade_id, float(_nbgrader(cell)["points"]), _is_test(cell))
        for grade_id, cell in cells.items()
        if _is_test(cell) or _is_written_answer(cell)
    ]
    assert graded_cells(chapter.exercises) == expected
    assert any(c.autograded for c in expected) and all(c.points > 0 for c in expected)


def test_graded_cells_rejects_a_file_that_is_not_a_notebook(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="notebook .*missing.ipynb"):
        graded_cells(tmp_path / "missing.ipynb")
    (tmp_path / "text.ipynb").write_text("not json", encoding="utf-8")
    with pytest.raises(ValueError, match="notebook .*text.ipynb.* is not a Jupyter notebook"):
        graded_cells(tmp_path / "text.ipynb")
    (tmp_path / "list.ipynb").write_text(json.dumps([1, 2]), encoding="utf-8")
    with pytest.raises(ValueError, match="is not a Jupyter notebook"):
        graded_cells(tmp_path / "list.ipynb")


def test_student_version_has_stubs_locked_tests_and_no_solutions(chapter: Chapter, released) -> None:
    out_dir, _ = released
    student_path = out_dir / chapter.id / chapter.exercises.name
    student_text = student_path.read_text(encoding="utf-8")
    for marker in (*SOLUTION_MARKERS, *HIDDEN_TEST_MARKERS):
        assert marker not in student_text

    instructor = _cells_by_grade_id(nbformat.read(chapter.exercises, as_version=4))
    student = _cells_by_grade_id(nbformat.read(student_path, as_version=4))
    assert student.keys() == instructor.keys()
    solutions = {gid: cell for gid, cell in instructor.items() if _nbgrader(cell)["solution"]}
    for grade_id, cell in solutions.items():
        lines = _solution_lines(cell)
        assert len(lines) >= 3, f"{grade_id}: too few distinctive solution lines to test for"
        leaked = [line for line in lines if line in student_text]
        assert not leaked, f"{grade_id}: solution lines in the student version: {leaked}"
        if _is_code_solution(cell):
            assert STUB in student[grade_id].source
            signature = _signature(cell)
            assert student[grade_id].source.splitlines()[: len(signature)] == signature  # the signature is kept
        else:
            assert student[grade_id].source == "YOUR ANSWER HERE"
    for grade_id, cell in instructor.items():
        if _is_test(cell):
            metadata = _nbgrader(student[grade_id])
            assert metadata["locked"] and metadata["grade"] and metadata["points"] == _nbgrader(cell)["points"]
            assert student[grade_id].source == cell.source
    assert all(not cell.get("outputs") for cell in nbformat.read(student_path, as_version=4).cells)


def test_release_exercises_writes_one_student_notebook_per_written_chapter(book: Book, released) -> None:
    out_dir, paths = released
    assert paths == [out_dir / c.id / c.exercises.name for c in book.written_chapters]
    assert sorted(p.relative_to(out_dir) for p in out_dir.rglob("*") if p.is_file()) == sorted(
        p.relative_to(out_dir) for p in paths
    )  # only the student versions: the throw-away course directory (with the solutions) is gone
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert STUB in text and not any(marker in text for marker in SOLUTION_MARKERS)


def test_a_missing_exercises_notebook_is_an_error_naming_the_chapter(book: Book, tmp_path: Path) -> None:
    chapter = book.written_chapters[0]
    missing = Chapter(
        id="ghost",
        title="Ghost",
        notebook=chapter.notebook,
        exercises=tmp_path / "nowhere.ipynb",
        budget_seconds=1.0,
        status="written",
    )
    with pytest.raises(ReleaseError, match="chapter 'ghost': exercises notebook .*nowhere.ipynb not found"):
        make_course_directory(tmp_path / "course", missing)
    book = Book(title="t", chapters=(missing,), root=tmp_path)
    with pytest.raises(ReleaseError, match="chapter 'ghost'"):
        release_exercises(tmp_path / "out", book)


def _broken_chapter(book: Book, tmp_path: Path) -> Chapter:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("not a notebook", encoding="utf-8")
    chapter = book.written_chapters[0]
    return Chapter(
        id="broken", title="Broken", notebook=chapter.notebook, exercises=broken, budget_seconds=1.0, status="written"
    )


@pytest.mark.parametrize("marker", [*SOLUTION_MARKERS, *HIDDEN_TEST_MARKERS])
def test_a_student_version_holding_a_solution_or_hidden_test_marker_is_an_error(
    book: Book, tmp_path: Path, marker: str
) -> None:
    """The last check of every release (nbgrader rejects or strips such markers itself; this catches what slips by)."""
    chapter = book.written_chapters[0]
    student = tmp_path / chapter.exercises.name
    student.write_text(f'{{"cells": [{{"source": "{marker}"}}]}}', encoding="utf-8")
    with pytest.raises(ReleaseError, match=rf"chapter '{chapter.id}': the student notebook still contains \['{marker}'\]"):
        _check_no_solution_left(chapter, student)
    student.write_text('{"cells": []}', encoding="utf-8")
    _check_no_solution_left(chapter, student)  # a clean version passes
    with pytest.raises(ReleaseError, match="nbgrader wrote no student notebook at"):
        _check_no_solution_left(chapter, tmp_path / "missing.ipynb")


def test_build_course_stops_at_the_failing_chapter_and_names_it(book: Book, tmp_path: Path) -> None:
    good = book.written_chapters[0]
    chapters = (good, _broken_chapter(book, tmp_path), book.written_chapters[1])
    with pytest.raises(ReleaseError, match="chapter 'broken': `nbgrader generate_assignment broken --force` failed") as error:
        build_course(tmp_path / "course", Book(title="t", chapters=chapters, root=tmp_path))
    assert error.value.command == ("generate_assignment", "broken", "--force")
    release = tmp_path / "course" / "release"
    assert (release / good.id / good.exercises.name).is_file()  # the chapter before ran
    assert not (release / book.written_chapters[1].id).exists()  # the chapter after did not


def test_run_nbgrader_commands_rejects_malformed_commands(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="working_dir .*nowhere"):
        run_nbgrader_commands(tmp_path / "nowhere", [["--version"]])
    for commands in ("autograde dropout", [["autograde", 3]], [[]], ["autograde"]):
        with pytest.raises(TypeError, match="commands must"):
            run_nbgrader_commands(tmp_path, commands)
    with pytest.raises(ValueError, match="commands must hold at least one"):
        run_nbgrader_commands(tmp_path, [])
    with pytest.raises(TypeError, match="env must be a mapping"):
        run_nbgrader_commands(tmp_path, [["--version"]], env={"HOME": 1})
