"""The instructor pipeline as a class runs it: release, fetch, submit, collect, autograde, export.

The round trip covers every chapter that book.toml marks written, in one course
directory with one gradebook, the one ``make release`` writes, all in temporary
directories:

1. ``python -m course_lib.release release --exchange-root <tmp>/exchange`` (what
   ``make release`` runs) and ``nbgrader release_assignment`` for each chapter;
2. two students ``nbgrader fetch_assignment`` and ``nbgrader submit`` every chapter:
   ``solver`` the instructor's solutions (the source notebook with its outputs
   cleared), ``untouched`` the release as fetched;
3. ``nbgrader collect``, then :func:`course_lib.release.grade` (what ``make grade``
   runs): ``nbgrader db student add``, ``nbgrader autograde``, ``nbgrader export``.

How a student is simulated: nbgrader 0.9.6's exchange (``nbgrader/exchange/default/submit.py``)
names a submission by ``CourseDirectory.student_id`` when it is given, and otherwise by the
Unix user of the process (``nbgrader.utils.get_username``: ``pwd.getpwuid(os.getuid())``,
or ``$JUPYTERHUB_USER`` when that user is ``jovyan``, as in the Jupyter Docker stacks).
``$USER`` and ``$HOME`` do not change the name. Every process here runs as one Unix user,
so each student submits with ``--student=<id>``, runs in a home of their own (``HOME``,
``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``: their own ``nbgrader_cache``), and reads the
course id and exchange from an ``nbgrader_config.py`` there. ``Exchange.path_includes_course``
is set (see docs/instructors.md), so students fetch into ``~/regularization-course/<chapter id>/``.

Autograding executes every chapter's two submissions, so the round trip takes minutes. It is
one test over one module-scoped fixture: the conftest's xdist scheduler runs each test of this
file on its own, and a second test on the fixture would repeat the whole round trip on a
second worker. The other tests here are cheap: they check submissions layouts without
running nbgrader.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest

from course_lib.book import Book
from course_lib.execution import ensure_kernel
from course_lib.release import (
    COURSE_ID,
    COURSE_SUBDIRECTORY,
    SOLUTION_MARKERS,
    Submission,
    SubmissionError,
    course_assignments,
    find_submissions,
    grade,
    graded_cells,
    main,
    make_course_directory,
    read_grades,
    run_nbgrader_commands,
    write_nbgrader_config,
)

STUDENTS = ("solver", "untouched")  # solver submits the solutions, untouched the release as fetched


class RoundTrip(NamedTuple):
    course_dir: Path
    exchange: Path
    homes: dict[str, Path]
    csv_path: Path


def _student_environment(home: Path, student: str) -> dict[str, str]:
    """A student's session: their home, user name and Jupyter folders (the exchange ignores the name, see above)."""
    return {
        "HOME": str(home),
        "USER": student,
        "LOGNAME": student,
        "JUPYTERHUB_USER": student,
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
    }


def _write_solutions(book: Book, assignments: Path) -> None:
    """Overwrite each fetched notebook with the instructor source, outputs cleared, as a diligent student would."""
    for chapter in book.written_chapters:
        notebook = nbformat.read(chapter.exercises, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        target = assignments / chapter.id / chapter.exercises.name
        assert target.is_file(), f"fetch_assignment wrote no {target}"
        nbformat.write(notebook, target)


@pytest.fixture(scope="module")
def round_trip(book: Book, tmp_path_factory: pytest.TempPathFactory) -> RoundTrip:
    ensure_kernel()
    root = tmp_path_factory.mktemp("class")
    exchange, ids = root / "exchange", [chapter.id for chapter in book.written_chapters]
    with pytest.MonkeyPatch.context() as patch:
        # The instructor's nbgrader reads no configuration of the machine's user (~/.jupyter).
        patch.setenv("JUPYTER_CONFIG_DIR", str(root / "instructor-jupyter"))
        assert main(["release", "--out-dir", str(root / "release"), "--exchange-root", str(exchange)]) == 0
        course_dir = root / "release" / COURSE_SUBDIRECTORY
        run_nbgrader_commands(course_dir, [["release_assignment", i] for i in ids])
        homes = {}
        for student in STUDENTS:
            home = homes[student] = root / "home" / student
            home.mkdir(parents=True)
            write_nbgrader_config(home, exchange)  # on a hub: /etc/jupyter/nbgrader_config.py
            env = _student_environment(home, student)
            fetch = [["fetch_assignment", i] for i in ids]
            submit = [["submit", i, f"--student={student}"] for i in ids]
            if student == "solver":
                run_nbgrader_commands(home, fetch, env=env)
                _write_solutions(book, home / COURSE_ID)
                run_nbgrader_commands(home, submit, env=env)
            else:
                run_nbgrader_commands(home, fetch + submit, env=env)
        # One Unix user owns every submission here, so nbgrader's owner check would only warn.
        run_nbgrader_commands(course_dir, [["collect", i, "--ExchangeCollect.check_owner=False"] for i in ids])
        csv_path = grade(course_dir / "submitted", course_dir, root / "grades.csv")
    return RoundTrip(course_dir, exchange, homes, csv_path)


def _feedback(notebook: nbformat.NotebookNode, grade_id: str) -> str:
    return "".join(
        output.get("text", "") + output.get("evalue", "")
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id
        for output in cell.get("outputs", [])
    )


def test_a_class_round_trip_through_the_exchange_grades_every_chapter(book: Book, round_trip: RoundTrip) -> None:
    from nbgrader.api import Gradebook

    course_dir, exchange, homes, csv_path = round_trip
    chapters = book.written_chapters
    assert chapters, "no written chapter in book.toml: the round trip would test nothing"
    assert course_assignments(course_dir) == {c.id: (c.exercises.name,) for c in chapters}
    inbound = sorted(p.name.split("+")[:2] for p in (exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == sorted([student, c.id] for c in chapters for student in STUDENTS)

    rows = {(row["assignment"], row["student_id"]): row for row in read_grades(csv_path)}
    assert set(rows) == {(c.id, student) for c in chapters for student in STUDENTS}  # every assignment, both students
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        for chapter in chapters:
            released = exchange / COURSE_ID / "outbound" / chapter.id / chapter.exercises.name
            text = released.read_text(encoding="utf-8")
            assert not any(marker in text for marker in SOLUTION_MARKERS), chapter.id
            fetched = homes["untouched"] / COURSE_ID / chapter.id / chapter.exercises.name
            assert fetched.read_text(encoding="utf-8") == text, chapter.id

            cells = graded_cells(chapter.exercises)
            tests = {c.grade_id: c.points for c in cells if c.autograded}
            answers = sum(c.points for c in cells if not c.autograded)
            solved, untouched = rows[chapter.id, "solver"], rows[chapter.id, "untouched"]
            assert float(solved["max_score"]) == float(untouched["max_score"]) == sum(tests.values()) + answers
            assert float(solved["score"]) == sum(tests.values()) > 0, chapter.id  # written answers wait for a grader
            assert float(untouched["score"]) == 0, chapter.id
            assert solved["timestamp"] and untouched["timestamp"], chapter.id  # the submit times travelled along

            notebook_id = chapter.exercises.stem
            solved_nb = gradebook.find_submission_notebook(notebook_id, chapter.id, "solver")
            untouched_nb = gradebook.find_submission_notebook(notebook_id, chapter.id, "untouched")
            assert solved_nb.code_score == solved_nb.max_code_score == sum(tests.values()), chapter.id
            assert untouched_nb.code_score == 0 and solved_nb.max_written_score == answers, chapter.id
            assert not solved_nb.failed_tests and untouched_nb.failed_tests, chapter.id
            graded = nbformat.read(
                course_dir / "autograded" / "untouched" / chapter.id / chapter.exercises.name, as_version=4
            )
            for grade_id, points in tests.items():
                assert gradebook.find_grade(grade_id, notebook_id, chapter.id, "solver").auto_score == points
                assert gradebook.find_grade(grade_id, notebook_id, chapter.id, "untouched").auto_score == 0
                feedback = _feedback(graded, grade_id)  # the checker reports the stub, it does not crash
                assert "✗ " in feedback and "NotImplementedError" in feedback, (chapter.id, grade_id)


# ---- submissions layouts, checked before nbgrader runs (no nbgrader process below) ----


@pytest.fixture
def course_dir(book: Book, tmp_path: Path) -> Path:
    """A course directory with the sources of the first two written chapters (no gradebook needed here)."""
    course = tmp_path / "course"
    for chapter in book.written_chapters[:2]:
        make_course_directory(course, chapter)
    return course


def _chapters(book: Book):
    return book.written_chapters[0], book.written_chapters[1]


def _put(folder: Path, name: str, text: str = "{}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_submitted_layout_is_read_by_student_and_assignment(book: Book, course_dir: Path, tmp_path: Path) -> None:
    first, second = _chapters(book)
    submitted = tmp_path / "submitted"
    alice = _put(submitted / "alice" / first.id, first.exercises.name)
    bob_1 = _put(submitted / "bob" / first.id, first.exercises.name)
    bob_2 = _put(submitted / "bob" / second.id, second.exercises.name)
    _put(submitted / "bob" / second.id, "notes.txt")  # other files travel along
    _put(submitted / "bob" / second.id / ".ipynb_checkpoints", "x.ipynb")  # hidden entries are ignored
    (submitted / ".DS_Store").write_text("", encoding="utf-8")
    assert find_submissions(submitted, course_dir) == sorted(  # by student, then assignment id
        [Submission("alice", first.id, alice), Submission("bob", first.id, bob_1), Submission("bob", second.id, bob_2)]
    )


def test_the_exchange_inbound_layout_keeps_each_students_newest_submission(
    book: Book, course_dir: Path, tmp_path: Path
) -> None:
    first, second = _chapters(book)
    exchange_course = tmp_path / "exchange" / COURSE_ID
    inbound = exchange_course / "inbound"
    (exchange_course / "outbound").mkdir(parents=True)
    _put(inbound / f"alice+{first.id}+2026-03-01 09:00:00.000001 UTC+AbC_-1", "renamed copy.ipynb")  # superseded
    newest = _put(inbound / f"alice+{first.id}+2026-03-02 09:00:00.000001 UTC+xYz9", first.exercises.name)
    bob = _put(inbound / f"bob+{second.id}+2026-03-01 10:00:00.5 UTC", second.exercises.name)  # no random suffix
    expected = [Submission("alice", first.id, newest), Submission("bob", second.id, bob)]
    assert find_submissions(inbound, course_dir) == expected
    assert find_submissions(exchange_course, course_dir) == expected  # the exchange's course folder


def _problems(submissions: Path, course_dir: Path) -> str:
    with pytest.raises(SubmissionError) as error:
        find_submissions(submissions, course_dir)
    message = str(error.value)
    assert message.startswith(f"submissions_dir {str(submissions)!r}")
    return message


def test_bad_layouts_are_errors_naming_the_folder_student_and_assignment(
    book: Book, course_dir: Path, tmp_path: Path
) -> None:
    first, second = _chapters(book)
    submitted = tmp_path / "submitted"
    _put(submitted / "alice" / "dropuot", first.exercises.name)  # a typo in the assignment id
    _put(submitted / "bob" / first.id, "01 copy.ipynb")  # a renamed notebook
    _put(submitted / "carol" / second.id, "notes.txt")  # no notebook at all
    _put(submitted / "dave", "answers.ipynb")  # a notebook where an assignment folder belongs
    (submitted / "erin").mkdir()
    (submitted / "grades.csv").write_text("", encoding="utf-8")
    message = _problems(submitted, course_dir)
    assert "6 problem(s)" in message
    known = f"(known: {', '.join(sorted([first.id, second.id]))})"
    assert f"student 'alice': 'dropuot' ({str(submitted / 'alice' / 'dropuot')!r}) is not an assignment of the course {known}" in message
    assert (
        f"student 'bob', assignment '{first.id}': expected the notebook {first.exercises.name} in "
        f"{str(submitted / 'bob' / first.id)!r}, found 01 copy.ipynb"
    ) in message
    assert f"student 'carol', assignment '{second.id}': expected the notebook {second.exercises.name}" in message
    assert "found no notebook" in message
    assert f"student 'dave': {str(submitted / 'dave' / 'answers.ipynb')!r} is a file" in message
    assert f"student 'erin': {str(submitted / 'erin')!r} holds no assignment folder" in message
    assert f"{str(submitted / 'grades.csv')!r} is a file: expected a folder per student" in message


def test_bad_inbound_folders_are_errors_naming_them(book: Book, course_dir: Path, tmp_path: Path) -> None:
    first, _ = _chapters(book)
    inbound = tmp_path / "inbound"
    _put(inbound / f"alice+{first.id}+yesterday+xYz9", first.exercises.name)  # not a timestamp
    _put(inbound / "bob+nosuch+2026-03-01 10:00:00 UTC+q", "x.ipynb")
    _put(inbound / f"carol+{first.id}+2026-03-01 10:00:00 UTC+q", "Untitled.ipynb")
    message = _problems(inbound, course_dir)
    assert "3 problem(s)" in message
    assert f"{str(inbound / f'alice+{first.id}+yesterday+xYz9')!r} is not a submission folder" in message
    assert "student 'bob': 'nosuch'" in message and "is not an assignment of the course" in message
    assert f"student 'carol', assignment '{first.id}': expected the notebook {first.exercises.name}" in message
    assert "found Untitled.ipynb" in message

    mixed = tmp_path / "mixed"
    _put(mixed / f"alice+{first.id}+2026-03-01 10:00:00 UTC+q", first.exercises.name)
    _put(mixed / "bob" / first.id, first.exercises.name)
    assert "mixes the exchange's inbound folders" in _problems(mixed, course_dir)


def test_missing_or_empty_folders_are_errors(course_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="submissions_dir .*nowhere.* is not a directory"):
        find_submissions(tmp_path / "nowhere", course_dir)
    with pytest.raises(FileNotFoundError, match="course_dir .*no-course.* is not a directory"):
        find_submissions(course_dir, tmp_path / "no-course")
    (tmp_path / "empty").mkdir()
    assert "holds no submissions" in _problems(tmp_path / "empty", course_dir)
    (tmp_path / "bare").mkdir()
    with pytest.raises(SubmissionError, match="course_dir .*bare.* has no assignment in source/.*make release"):
        course_assignments(tmp_path / "bare")


def test_grade_checks_the_layout_before_running_nbgrader(book: Book, course_dir: Path, tmp_path: Path) -> None:
    submitted = _put(tmp_path / "submitted" / "alice" / "dropuot", "x.ipynb").parent.parent
    with pytest.raises(SubmissionError, match="'dropuot'"):
        grade(submitted, course_dir, tmp_path / "grades.csv")
    assert not (course_dir / "submitted").exists() and not (tmp_path / "grades.csv").exists()
    with pytest.raises(TypeError, match="force must be a bool"):
        grade(submitted, course_dir, force="yes")


def test_the_grade_command_reports_a_bad_layout_and_fails(
    course_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", str(tmp_path / "nowhere"), "--course-dir", str(course_dir)]) == 1
    assert "error: submissions_dir" in capsys.readouterr().err
    _put(tmp_path / "submitted" / "alice" / "dropuot", "x.ipynb")
    # With --course-dir no manifest is read: grading works outside a checkout of the book.
    no_book = ["--book", str(tmp_path / "no-book.toml")]
    assert main(["grade", str(tmp_path / "submitted"), "--course-dir", str(course_dir), *no_book]) == 1
    assert "is not an assignment of the course" in capsys.readouterr().err


def test_submissions_are_copied_into_the_course_replacing_older_copies(
    book: Book, course_dir: Path, tmp_path: Path
) -> None:
    """What grade does before nbgrader runs: a new submission replaces the old one and its autograded copy."""
    from course_lib.release import _copy_into_course

    first, _ = _chapters(book)
    incoming = _put(tmp_path / "incoming" / "alice" / first.id, first.exercises.name, '{"new": 1}')
    _put(course_dir / "submitted" / "alice" / first.id, "stale.txt")
    _put(course_dir / "autograded" / "alice" / first.id, first.exercises.name)
    in_place = _put(course_dir / "submitted" / "bob" / first.id, first.exercises.name, '{"kept": 1}')
    _put(course_dir / "autograded" / "bob" / first.id, first.exercises.name)
    _copy_into_course([Submission("alice", first.id, incoming), Submission("bob", first.id, in_place)], course_dir)
    alice = course_dir / "submitted" / "alice" / first.id
    assert sorted(os.listdir(alice)) == [first.exercises.name]
    assert (alice / first.exercises.name).read_text(encoding="utf-8") == '{"new": 1}'
    assert not (course_dir / "autograded" / "alice" / first.id).exists()
    assert (course_dir / "autograded" / "bob" / first.id).exists()  # already in the course: left to nbgrader
    shutil.rmtree(tmp_path / "incoming")
    assert (alice / first.exercises.name).is_file()  # a copy, not a link
