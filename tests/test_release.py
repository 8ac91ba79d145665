"""course_lib.release and the nbgrader round trip: release the exercises, then autograde a solved and an untouched submission.

Runs once for every chapter that book.toml marks written. This runs nbgrader for
real (generate_assignment, then autograde, which executes the notebooks in the
course kernel), so it takes tens of seconds per chapter.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from course_lib import checks
from course_lib.book import Book, Chapter, load_book
from course_lib.execution import KERNELSPEC, ensure_kernel
from course_lib.release import (
    SOLUTION_MARKERS,
    ReleaseError,
    generate_assignment,
    make_course_directory,
    release_exercises,
    run_nbgrader,
)

STUB = "raise NotImplementedError()"
WRITTEN_CHAPTER_IDS = [chapter.id for chapter in load_book().written_chapters]
TEST_CELL = re.compile(r"assert (check_\w+)\((\w+)\)")  # a test cell runs one checker on one function


@pytest.fixture(scope="module", params=WRITTEN_CHAPTER_IDS)
def chapter(request: pytest.FixtureRequest, book: Book) -> Chapter:
    """Each written chapter in turn: every test below runs once per chapter in book.toml."""
    return book.chapter(request.param)


@pytest.fixture(scope="module")
def released(chapter: Chapter, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A course directory where generate_assignment has run: (course_dir, student notebook)."""
    ensure_kernel()
    course_dir = tmp_path_factory.mktemp(f"course-{chapter.id}")
    return course_dir, generate_assignment(course_dir, chapter)


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


def _points(cells: dict[str, nbformat.NotebookNode], kind) -> dict[str, float]:
    return {grade_id: _nbgrader(cell)["points"] for grade_id, cell in cells.items() if kind(cell)}


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


def test_student_version_has_stubs_locked_tests_and_no_solutions(chapter: Chapter, released) -> None:
    _, student_path = released
    student_text = student_path.read_text(encoding="utf-8")
    for marker in SOLUTION_MARKERS:
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


def _submit(course_dir: Path, chapter: Chapter, student_id: str, notebook: Path) -> None:
    target = course_dir / "submitted" / student_id / chapter.id / chapter.exercises.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook, target)


def test_autograde_gives_full_points_to_the_solution_and_none_to_the_stubs(chapter: Chapter, released) -> None:
    course_dir, student_path = released
    _submit(course_dir, chapter, "solver", chapter.exercises)
    _submit(course_dir, chapter, "untouched", student_path)
    run_nbgrader(course_dir, "autograde", chapter.id, "--force", chapter_id=chapter.id)

    instructor = _cells_by_grade_id(nbformat.read(chapter.exercises, as_version=4))
    tests, answers = _points(instructor, _is_test), _points(instructor, _is_written_answer)
    notebook_id = chapter.exercises.stem
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        solved = gradebook.find_submission_notebook(notebook_id, chapter.id, "solver")
        untouched = gradebook.find_submission_notebook(notebook_id, chapter.id, "untouched")
        assert solved.max_code_score == untouched.max_code_score == sum(tests.values()) > 0
        assert solved.code_score == sum(tests.values())
        assert untouched.code_score == 0
        assert solved.max_written_score == sum(answers.values())  # written answers wait for a human grader
        assert not solved.failed_tests and untouched.failed_tests
        for test_cell, points in tests.items():
            assert gradebook.find_grade(test_cell, notebook_id, chapter.id, "solver").auto_score == points
            assert gradebook.find_grade(test_cell, notebook_id, chapter.id, "untouched").auto_score == 0

    graded = nbformat.read(course_dir / "autograded" / "untouched" / chapter.id / chapter.exercises.name, as_version=4)
    for test_cell in tests:
        test_outputs = "".join(
            output.get("text", "") + output.get("evalue", "")
            for cell in graded.cells
            if _nbgrader(cell).get("grade_id") == test_cell
            for output in cell.get("outputs", [])
        )
        assert "✗ " in test_outputs and "NotImplementedError" in test_outputs, test_cell  # feedback, not a crash


def test_release_exercises_writes_one_student_notebook_per_written_chapter(book: Book, tmp_path: Path) -> None:
    ensure_kernel()
    paths = release_exercises(tmp_path / "release", book)
    assert paths == [tmp_path / "release" / c.id / c.exercises.name for c in book.written_chapters]
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


def test_an_nbgrader_failure_is_an_error_naming_the_chapter(book: Book, tmp_path: Path) -> None:
    chapter = book.written_chapters[0]
    broken = tmp_path / "broken.ipynb"
    broken.write_text("not a notebook", encoding="utf-8")
    bad = Chapter(
        id="broken", title="Broken", notebook=chapter.notebook, exercises=broken, budget_seconds=1.0, status="written"
    )
    with pytest.raises(ReleaseError, match="chapter 'broken': `nbgrader generate_assignment broken --force` failed"):
        generate_assignment(tmp_path / "course", bad)
