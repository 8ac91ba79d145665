"""The nbgrader round trip: release the exercises, then autograde a solved and an untouched submission.

This runs nbgrader for real (generate_assignment, then autograde, which executes
the notebooks in the course kernel), so it takes tens of seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from course_lib.book import Book, Chapter
from course_lib.execution import ensure_kernel
from course_lib.release import (
    SOLUTION_MARKERS,
    ReleaseError,
    generate_assignment,
    make_course_directory,
    release_exercises,
    run_nbgrader,
)

STUB = "raise NotImplementedError()"


@pytest.fixture(scope="module")
def chapter(book: Book) -> Chapter:
    return book.chapter("dropout")


@pytest.fixture(scope="module")
def released(chapter: Chapter, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A course directory where generate_assignment has run: (course_dir, student notebook)."""
    ensure_kernel()
    course_dir = tmp_path_factory.mktemp("course")
    return course_dir, generate_assignment(course_dir, chapter)


def _nbgrader(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def _cells_by_grade_id(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {_nbgrader(c)["grade_id"]: c for c in notebook.cells if "grade_id" in _nbgrader(c)}


def _solution_lines(cell: nbformat.NotebookNode) -> list[str]:
    """The non-trivial lines between the solution markers of an instructor cell."""
    lines = [line.strip() for line in cell.source.splitlines()]
    start, end = lines.index(SOLUTION_MARKERS[0]), lines.index(SOLUTION_MARKERS[1])
    return [line for line in lines[start + 1 : end] if len(line) > 12]


def test_instructor_source_is_valid_nbgrader(chapter: Chapter) -> None:
    notebook = nbformat.read(chapter.exercises, as_version=4)
    metadata = [_nbgrader(c) for c in notebook.cells if _nbgrader(c)]
    assert all(m["schema_version"] == 3 for m in metadata)
    grade_ids = [m["grade_id"] for m in metadata]
    assert len(grade_ids) == len(set(grade_ids))
    tests = [m for m in metadata if m["grade"] and not m["solution"]]
    assert tests and all(m["locked"] and m["points"] > 0 for m in tests)
    answers = [c for c in notebook.cells if _nbgrader(c).get("grade") and _nbgrader(c).get("solution")]
    assert [c.cell_type for c in answers] == ["markdown"] and _nbgrader(answers[0])["points"] == 2
    assert sum(m.get("points", 0) for m in metadata) == 8


def test_student_version_has_stubs_locked_tests_and_no_solutions(chapter: Chapter, released) -> None:
    _, student_path = released
    student_text = student_path.read_text(encoding="utf-8")
    for marker in SOLUTION_MARKERS:
        assert marker not in student_text

    instructor = _cells_by_grade_id(nbformat.read(chapter.exercises, as_version=4))
    student = _cells_by_grade_id(nbformat.read(student_path, as_version=4))
    assert student.keys() == instructor.keys()
    solutions = {gid: cell for gid, cell in instructor.items() if _nbgrader(cell)["solution"]}
    assert set(solutions) == {"dropout_forward", "dropout_backward", "answer_mask_reuse"}
    for grade_id, cell in solutions.items():
        lines = _solution_lines(cell)
        assert len(lines) >= 3, f"{grade_id}: too few distinctive solution lines to test for"
        leaked = [line for line in lines if line in student_text]
        assert not leaked, f"{grade_id}: solution lines in the student version: {leaked}"
    for grade_id in ("dropout_forward", "dropout_backward"):
        assert STUB in student[grade_id].source
        assert student[grade_id].source.startswith(f"def {grade_id}(")  # the signature is kept
    assert student["answer_mask_reuse"].source == "YOUR ANSWER HERE"
    for grade_id in ("test_dropout_forward", "test_dropout_backward"):
        metadata = _nbgrader(student[grade_id])
        assert metadata["locked"] and metadata["grade"] and metadata["points"] == 3
        assert student[grade_id].source == instructor[grade_id].source
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

    notebook_id = chapter.exercises.stem
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        solved = gradebook.find_submission_notebook(notebook_id, chapter.id, "solver")
        untouched = gradebook.find_submission_notebook(notebook_id, chapter.id, "untouched")
        assert solved.max_code_score == untouched.max_code_score == 6
        assert solved.code_score == 6
        assert untouched.code_score == 0
        assert solved.max_written_score == 2  # the written answer waits for a human grader
        assert not solved.failed_tests and untouched.failed_tests
        for test_cell in ("test_dropout_forward", "test_dropout_backward"):
            assert gradebook.find_grade(test_cell, notebook_id, chapter.id, "solver").auto_score == 3
            assert gradebook.find_grade(test_cell, notebook_id, chapter.id, "untouched").auto_score == 0

    graded = nbformat.read(course_dir / "autograded" / "untouched" / chapter.id / chapter.exercises.name, as_version=4)
    test_outputs = "".join(
        output.get("text", "") + output.get("evalue", "")
        for cell in graded.cells
        if _nbgrader(cell).get("grade_id") == "test_dropout_forward"
        for output in cell.get("outputs", [])
    )
    assert "✗ " in test_outputs and "NotImplementedError" in test_outputs  # feedback, not a crash


def test_release_exercises_writes_one_student_notebook_per_written_chapter(book: Book, tmp_path: Path) -> None:
    ensure_kernel()
    paths = release_exercises(tmp_path / "release", book)
    assert paths == [tmp_path / "release" / c.id / c.exercises.name for c in book.written_chapters]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert STUB in text and not any(marker in text for marker in SOLUTION_MARKERS)


def test_a_missing_exercises_notebook_is_an_error_naming_the_chapter(chapter: Chapter, tmp_path: Path) -> None:
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


def test_an_nbgrader_failure_is_an_error_naming_the_chapter(chapter: Chapter, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("not a notebook", encoding="utf-8")
    bad = Chapter(
        id="broken", title="Broken", notebook=chapter.notebook, exercises=broken, budget_seconds=1.0, status="written"
    )
    with pytest.raises(ReleaseError, match="chapter 'broken': `nbgrader generate_assignment broken --force` failed"):
        generate_assignment(tmp_path / "course", bad)
