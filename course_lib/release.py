"""The instructor pipeline: release the exercises with nbgrader and grade a class's submissions.

``make release`` runs ``python -m course_lib.release release``. For every
written chapter in ``book.toml`` it lays out one nbgrader course directory,
``release/course/``, that an instructor copies into an nbgrader or JupyterHub
course as it is::

    release/course/nbgrader_config.py              course id, cell timeout, exchange settings
    release/course/gradebook.db                    every chapter registered as an assignment
    release/course/source/<chapter id>/<notebook>  instructor source (with solutions)
    release/course/release/<chapter id>/<notebook> student version (what students fetch)

``nbgrader generate_assignment`` writes the student versions (solutions
replaced by ``raise NotImplementedError()`` stubs, test cells locked, outputs
cleared), and a check rejects any version in which a solution marker
survived. The student versions are also copied to ``release/<chapter id>/``
for readers without nbgrader (and for the HTML book's links).

``python -m course_lib.release grade SUBMISSIONS_DIR`` grades a folder of
submissions in either of nbgrader's layouts:

- **submitted** (what ``nbgrader collect`` writes):
  ``SUBMISSIONS_DIR/<student id>/<chapter id>/<notebook>``;
- **exchange inbound** (what ``nbgrader submit`` writes into the exchange):
  ``SUBMISSIONS_DIR/<student id>+<chapter id>+<timestamp>[+<random>]/<notebook>``,
  or the exchange's course folder holding ``inbound/`` and ``outbound/``; the
  newest submission of each student for each chapter is graded, as
  ``nbgrader collect`` would choose.

It adds the students to the gradebook (``nbgrader db student add``), runs
``nbgrader autograde`` for each assignment and ``nbgrader export`` to a CSV of
points per student and assignment. docs/instructors.md describes the whole
course, from release to grades, on one machine and on a JupyterHub.

nbgrader always runs in a separate process, so its log and the warnings of its
dependencies stay out of the caller's output; :func:`run_nbgrader_commands`
runs several nbgrader commands in one process, because starting Python and
importing nbgrader costs seconds per command.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from course_lib.book import Book, Chapter, load_book

__all__ = [
    "COURSE_ID",
    "COURSE_SUBDIRECTORY",
    "SOLUTION_MARKERS",
    "HIDDEN_TEST_MARKERS",
    "ReleaseError",
    "SubmissionError",
    "Submission",
    "write_nbgrader_config",
    "make_course_directory",
    "run_nbgrader_commands",
    "build_course",
    "release_exercises",
    "GradedCell",
    "graded_cells",
    "course_assignments",
    "find_submissions",
    "grade",
    "read_grades",
    "main",
]

COURSE_ID = "regularization-course"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
#: nbgrader's markers of tests kept from students (removed from the student version, run when grading).
HIDDEN_TEST_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
# Where `make release` puts the nbgrader course directory, under its output folder.
COURSE_SUBDIRECTORY = "course"

# Seconds nbgrader may spend on one cell when it executes a submission (autograde).
CELL_TIMEOUT_SECONDS = 300

_NBGRADER_CONFIG = '''\
"""nbgrader configuration of the regularization course, written by course_lib.release.

See docs/instructors.md. On a JupyterHub, the settings that students need as well
(course id, exchange) belong in the hub-wide /etc/jupyter/nbgrader_config.py.
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = {course_id!r}
# Seconds one cell of a submission may run when nbgrader executes it (autograde, validate).
c.Execute.timeout = {timeout}
# Students fetch into ~/{course_id}/<chapter id>/, so a chapter's folder never
# collides with one of their own or with another course's assignment.
c.Exchange.path_includes_course = True
# The exchange folder shared by the instructor and the students; it must exist and be
# writable by everyone (nbgrader's default is /usr/local/share/nbgrader/exchange).
{exchange_line}
'''


class ReleaseError(RuntimeError):
    """nbgrader failed or produced a wrong student version; the message names the chapter or command.

    ``command`` is the nbgrader command line that failed (without ``nbgrader``), where one did.
    """

    def __init__(self, message: str, command: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.command = tuple(command) if command is not None else None


class SubmissionError(ValueError):
    """A submissions folder is not laid out as nbgrader expects; the message names every problem found."""


class Submission(NamedTuple):
    """One student's submission of one assignment: the folder that holds its notebooks."""

    student_id: str
    assignment_id: str
    path: Path


class GradedCell(NamedTuple):
    """A cell of an nbgrader notebook that carries points.

    ``autograded`` is True for a test cell, scored by ``nbgrader autograde``;
    False for a written answer (a graded solution cell), scored by a grader in the formgrader.
    """

    grade_id: str
    points: float
    autograded: bool


def _check_path(name: str, value: object) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise TypeError(f"{name} must be a pathlib.Path or a non-empty str, got {type(value).__name__} {value!r}")
    return Path(value)


def _check_book(book: object) -> Book:
    book = load_book() if book is None else book
    if not isinstance(book, Book):
        raise TypeError(f"book must be a course_lib.book.Book or None, got {type(book).__name__}")
    return book


def write_nbgrader_config(course_dir: str | Path, exchange_root: str | Path | None = None) -> Path:
    """Write ``nbgrader_config.py`` into ``course_dir`` and return its path.

    The file sets the course id (:data:`COURSE_ID`), the cell timeout of
    autograding and ``Exchange.path_includes_course``; ``exchange_root``, if
    given, becomes ``c.Exchange.root`` (otherwise nbgrader's default exchange
    is named in a comment). Students can use the same file: nbgrader reads
    ``nbgrader_config.py`` from the folder it runs in.
    """
    course_dir = _check_path("course_dir", course_dir)
    if exchange_root is None:
        exchange_line = '# c.Exchange.root = "/usr/local/share/nbgrader/exchange"'
    else:
        exchange_line = f"c.Exchange.root = {str(Path(_check_path('exchange_root', exchange_root)).resolve())!r}"
    path = course_dir / "nbgrader_config.py"
    path.write_text(
        _NBGRADER_CONFIG.format(course_id=COURSE_ID, timeout=CELL_TIMEOUT_SECONDS, exchange_line=exchange_line),
        encoding="utf-8",
    )
    return path


def make_course_directory(course_dir: str | Path, chapter: Chapter) -> Path:
    """Add ``chapter``'s exercises to an nbgrader course directory, creating it if needed.

    Copies the instructor source to ``course_dir/source/<chapter id>/<exercises file>``
    and writes ``course_dir/nbgrader_config.py`` (:func:`write_nbgrader_config`)
    unless the directory already has one.

    Returns:
        The path of the copied instructor notebook.

    Raises:
        ReleaseError: if the chapter's exercises notebook does not exist.
    """
    if not isinstance(chapter, Chapter):
        raise TypeError(f"chapter must be a course_lib.book.Chapter, got {type(chapter).__name__}")
    course_dir = _check_path("course_dir", course_dir)
    if not chapter.exercises.is_file():
        raise ReleaseError(f"chapter {chapter.id!r}: exercises notebook {chapter.exercises} not found")
    source = course_dir / "source" / chapter.id / chapter.exercises.name
    source.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chapter.exercises, source)
    if not (course_dir / "nbgrader_config.py").is_file():
        write_nbgrader_config(course_dir)
    return source


def _nbgrader_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current environment with this interpreter's scripts first on PATH, updated with ``env``.

    nbgrader's gradebook runs the ``alembic`` command when it creates a
    database, and finds it on PATH; ``make`` calls ``.venv/bin/python``
    without activating the virtual environment.
    """
    if env is not None and (
        not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
    ):
        raise TypeError(f"env must be a mapping of str to str or None, got {env!r}")
    result = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    result["PATH"] = os.pathsep.join([scripts, result["PATH"]]) if result.get("PATH") else scripts
    result.update(env or {})
    return result


def _check_working_dir(name: str, value: object) -> Path:
    path = _check_path(name, value)
    if not path.is_dir():
        raise FileNotFoundError(f"{name} {str(path)!r} is not a directory")
    return path


def _log_tail(log: str, lines: int = 30) -> str:
    return "\n".join(log.strip().splitlines()[-lines:])


# Runs nbgrader's command-line application once per command in one process, as nbgrader's own
# test suite does (nbgrader/tests/__init__.py: initialize, start, reset). Reads the commands as
# JSON from stdin and writes [{"args", "status", "log"}] as JSON to the file named by argv[1];
# stops at the first command that fails.
_BATCH_DRIVER = """\
import io, json, logging, sys, traceback
from jupyter_core.application import NoStart
from nbgrader.apps.nbgraderapp import NbGraderApp

results = []
for args in json.load(sys.stdin):
    app = NbGraderApp.instance()
    buffer = io.StringIO()
    status = 0
    try:
        app.initialize(args)
        app.init_logging(logging.StreamHandler, [buffer], color=False, subapps=True)
        app.start()
    except NoStart:  # raised by the parent application once its subcommand has run
        pass
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except BaseException:
        status = 1
        buffer.write(traceback.format_exc())
    finally:
        app.reset()
    results.append({"args": args, "status": status, "log": buffer.getvalue()})
    if status != 0:
        break
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump(results, out)
"""


def _check_commands(commands: object) -> list[list[str]]:
    if isinstance(commands, (str, bytes)) or not isinstance(commands, Sequence):
        raise TypeError(f"commands must be a sequence of nbgrader command lines, got {type(commands).__name__}")
    checked = []
    for command in commands:
        if (
            isinstance(command, (str, bytes))
            or not isinstance(command, Sequence)
            or not command
            or not all(isinstance(arg, str) for arg in command)
        ):
            raise TypeError(f"commands must hold non-empty sequences of str, got {command!r}")
        checked.append(list(command))
    if not checked:
        raise ValueError("commands must hold at least one nbgrader command line, got an empty sequence")
    return checked


def run_nbgrader_commands(
    working_dir: str | Path, commands: Sequence[Sequence[str]], *, env: Mapping[str, str] | None = None
) -> list[str]:
    """Run several nbgrader command lines one after another in one separate Python process.

    Each command runs exactly as ``nbgrader <args>`` would (nbgrader's own
    command-line application, with its configuration read afresh); only the
    seconds of starting Python and importing nbgrader are paid once.

    Args:
        working_dir: the directory nbgrader runs in (a course directory, or a student's home).
        commands: nbgrader command lines, e.g. ``[["release_assignment", "dropout"], ["collect", "dropout"]]``.
        env: environment variables to set for nbgrader.

    Returns:
        The log of each command, in order.

    Raises:
        FileNotFoundError: if ``working_dir`` is not a directory.
        ReleaseError: at the first command that fails, naming it, with the end of its log;
            the later commands do not run.
    """
    working_dir = _check_working_dir("working_dir", working_dir)
    commands = _check_commands(commands)
    with tempfile.TemporaryDirectory(prefix="nbgrader-batch-") as scratch:
        result_path = Path(scratch) / "results.json"
        completed = subprocess.run(
            [sys.executable, "-c", _BATCH_DRIVER, str(result_path)],
            input=json.dumps(commands),
            cwd=working_dir,
            env=_nbgrader_environment(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not result_path.is_file():
            raise ReleaseError(
                f"nbgrader could not run in {str(working_dir)!r} (exit status {completed.returncode}):\n"
                f"{_log_tail(completed.stdout)}"
            )
        results = json.loads(result_path.read_text(encoding="utf-8"))
    failed = [result for result in results if result["status"] != 0]
    if failed:
        result = failed[0]
        log = _log_tail(result["log"] or completed.stdout)
        raise ReleaseError(
            f"`nbgrader {' '.join(result['args'])}` failed (exit status {result['status']}):\n{log}", command=result["args"]
        )
    return [result["log"] for result in results]


def _check_no_solution_left(chapter: Chapter, student: Path) -> None:
    """The student version exists and holds no solution and no hidden test."""
    if not student.is_file():
        raise ReleaseError(f"chapter {chapter.id!r}: nbgrader wrote no student notebook at {student}")
    text = student.read_text(encoding="utf-8")
    leaked = [marker for marker in (*SOLUTION_MARKERS, *HIDDEN_TEST_MARKERS) if marker in text]
    if leaked:
        raise ReleaseError(f"chapter {chapter.id!r}: the student notebook still contains {leaked}")


def build_course(
    course_dir: str | Path, book: Book | None = None, *, exchange_root: str | Path | None = None
) -> list[Path]:
    """Lay out one nbgrader course directory holding every written chapter's exercises.

    Copies each instructor source to ``course_dir/source/<chapter id>/``,
    writes ``nbgrader_config.py`` (:func:`write_nbgrader_config`) if the
    directory has none or ``exchange_root`` is given (an instructor's edited
    configuration survives a rebuild otherwise), and runs ``nbgrader generate_assignment``
    for every chapter into one ``gradebook.db``. Building again over an
    existing course refreshes the sources and student versions and keeps the
    gradebook's students and grades.

    Returns:
        The student notebooks ``course_dir/release/<chapter id>/<file>``, in book order.

    Raises:
        ReleaseError: naming the chapter, if its exercises are missing, nbgrader
            fails, or a student version still contains a solution or hidden-test marker.
    """
    course_dir = _check_path("course_dir", course_dir)
    book = _check_book(book)
    chapters = book.written_chapters
    if not chapters:
        return []
    course_dir.mkdir(parents=True, exist_ok=True)
    for chapter in chapters:
        make_course_directory(course_dir, chapter)
    if exchange_root is not None:
        write_nbgrader_config(course_dir, exchange_root)
    try:
        run_nbgrader_commands(course_dir, [["generate_assignment", chapter.id, "--force"] for chapter in chapters])
    except ReleaseError as error:
        if not error.command:  # nbgrader itself could not run: no chapter to blame
            raise
        raise ReleaseError(f"chapter {error.command[1]!r}: {error}", command=error.command) from None
    students = []
    for chapter in chapters:
        student = course_dir / "release" / chapter.id / chapter.exercises.name
        _check_no_solution_left(chapter, student)
        students.append(student)
    return students


def _copy_student_versions(course_dir: Path, book: Book, out_dir: Path) -> list[Path]:
    written = []
    for chapter in book.written_chapters:
        target = out_dir / chapter.id / chapter.exercises.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(course_dir / "release" / chapter.id / chapter.exercises.name, target)
        written.append(target)
    return written


def release_exercises(out_dir: str | Path, book: Book | None = None) -> list[Path]:
    """Write the student version of every written chapter's exercises.

    The versions come from a throw-away course directory (:func:`build_course`).

    Args:
        out_dir: where to write; chapter ``c`` goes to ``out_dir/<c.id>/<exercises file>``.
        book: the manifest (default: :func:`course_lib.book.load_book`).

    Returns:
        The written notebooks, in book order.

    Raises:
        ReleaseError: naming the chapter, if its exercises are missing or nbgrader fails.
    """
    out_dir = _check_path("out_dir", out_dir)
    book = _check_book(book)
    with tempfile.TemporaryDirectory(prefix="nbgrader-course-") as course_dir:
        build_course(course_dir, book)
        return _copy_student_versions(Path(course_dir), book, out_dir)


def graded_cells(notebook: str | Path) -> list[GradedCell]:
    """The cells of an nbgrader notebook that carry points, in notebook order.

    A graded cell without a solution is a test cell (autograded); a graded
    cell with a solution is an answer a grader scores by hand. The sum of
    all points is the assignment's ``max_score`` in ``nbgrader export``.

    Raises:
        FileNotFoundError: if ``notebook`` is not a file.
        ValueError: if it is not a notebook (JSON with a list of cells).
    """
    path = _check_path("notebook", notebook)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {str(path)!r} is not a file")
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"notebook {str(path)!r} is not a Jupyter notebook: {error}") from None
    found = []
    for cell in cells:
        metadata = cell.get("metadata", {}).get("nbgrader", {})
        if metadata.get("grade"):
            found.append(GradedCell(metadata["grade_id"], float(metadata["points"]), not metadata.get("solution", False)))
    return found


def course_assignments(course_dir: str | Path) -> dict[str, tuple[str, ...]]:
    """The assignments of an nbgrader course directory: ``{assignment id: notebook file names}``.

    Read from ``course_dir/source/<assignment id>/*.ipynb``, the instructor
    sources that ``nbgrader autograde`` grades against.

    Raises:
        FileNotFoundError: if ``course_dir`` is not a directory.
        SubmissionError: if it has no ``source/`` folder with an assignment.
    """
    course_dir = _check_working_dir("course_dir", course_dir)
    source = course_dir / "source"
    assignments = {
        folder.name: tuple(sorted(notebook.name for notebook in folder.glob("*.ipynb")))
        for folder in sorted(source.iterdir() if source.is_dir() else [])
        if folder.is_dir() and not folder.name.startswith(".") and any(folder.glob("*.ipynb"))
    }
    if not assignments:
        raise SubmissionError(
            f"course_dir {str(course_dir)!r} has no assignment in source/<assignment id>/: "
            "build it with `make release` (release/course/) first"
        )
    return assignments


def _visible(folder: Path) -> list[Path]:
    """The entries of ``folder`` that are not hidden (``.ipynb_checkpoints``, ``.DS_Store``, …)."""
    return sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))


def _check_notebooks(where: str, folder: Path, expected: tuple[str, ...], problems: list[str]) -> None:
    """Record in ``problems`` each expected notebook that ``folder`` lacks, naming the notebooks it has."""
    missing = [name for name in expected if not (folder / name).is_file()]
    if missing:
        found = sorted(path.name for path in folder.glob("*.ipynb"))
        found_text = f"found {', '.join(found)}" if found else "found no notebook"
        problems.append(
            f"{where}: expected the notebook {', '.join(missing)} in {str(folder)!r}, {found_text} "
            "(nbgrader grades only the released notebook names)"
        )


def _inbound_parts(name: str) -> tuple[str, str, str] | None:
    """``(student, assignment, timestamp)`` of an exchange inbound folder name, or None if it is not one.

    ``nbgrader submit`` names its folder ``<student>+<assignment>+<timestamp>``,
    followed by ``+<random string>`` by default; a timestamp contains no ``+``.
    """
    parts = name.split("+")
    if len(parts) not in (3, 4) or not all(parts[:3]):
        return None
    return parts[0], parts[1], parts[2]


def _parse_timestamp(text: str):
    from dateutil.parser import parse  # what nbgrader.utils.parse_utc uses

    try:
        return parse(text, ignoretz=True)
    except (ValueError, OverflowError):
        return None


def _submitted_layout(folder: Path, assignments: dict, problems: list[str]) -> list[Submission]:
    submissions = []
    for student in _visible(folder):
        if not student.is_dir():
            problems.append(f"{str(student)!r} is a file: expected a folder per student, <student id>/<assignment id>/")
            continue
        entries = _visible(student)
        if not entries:
            problems.append(f"student {student.name!r}: {str(student)!r} holds no assignment folder")
        for entry in entries:
            where = f"student {student.name!r}"
            if not entry.is_dir():
                problems.append(f"{where}: {str(entry)!r} is a file: expected folders named by assignment id")
            elif entry.name not in assignments:
                problems.append(
                    f"{where}: {entry.name!r} ({str(entry)!r}) is not an assignment of the course "
                    f"(known: {', '.join(assignments)})"
                )
            else:
                _check_notebooks(f"{where}, assignment {entry.name!r}", entry, assignments[entry.name], problems)
                submissions.append(Submission(student.name, entry.name, entry))
    return submissions


def _inbound_layout(folder: Path, assignments: dict, problems: list[str]) -> list[Submission]:
    newest: dict[tuple[str, str], tuple[object, Path]] = {}
    for entry in _visible(folder):
        parts = _inbound_parts(entry.name)
        timestamp = _parse_timestamp(parts[2]) if parts else None
        if not entry.is_dir() or parts is None or timestamp is None:
            problems.append(
                f"{str(entry)!r} is not a submission folder of the exchange's inbound layout, "
                "<student id>+<assignment id>+<timestamp>[+<random>]"
            )
            continue
        student, assignment, _ = parts
        if assignment not in assignments:
            problems.append(
                f"student {student!r}: {assignment!r} ({str(entry)!r}) is not an assignment of the course "
                f"(known: {', '.join(assignments)})"
            )
            continue
        key = (student, assignment)
        if key not in newest or timestamp > newest[key][0]:
            newest[key] = (timestamp, entry)
    submissions = []
    for (student, assignment), (_, entry) in sorted(newest.items()):
        _check_notebooks(f"student {student!r}, assignment {assignment!r}", entry, assignments[assignment], problems)
        submissions.append(Submission(student, assignment, entry))
    return submissions


def find_submissions(submissions_dir: str | Path, course_dir: str | Path) -> list[Submission]:
    """Read and check a folder of submissions against the assignments of ``course_dir``.

    Two layouts are accepted (hidden entries such as ``.ipynb_checkpoints`` are ignored):

    - nbgrader's **submitted** layout, ``<student id>/<assignment id>/<notebook>``
      (the ``submitted/`` folder of a course directory, as ``nbgrader collect`` writes it);
    - the exchange's **inbound** layout, ``<student id>+<assignment id>+<timestamp>[+<random>]/<notebook>``
      (as ``nbgrader submit`` writes it), or an exchange course folder holding
      ``inbound/`` and ``outbound/``; the newest submission of each student
      for each assignment is kept, as ``nbgrader collect`` would.

    Returns:
        The submissions, sorted by student and assignment.

    Raises:
        FileNotFoundError: if ``submissions_dir`` or ``course_dir`` is not a directory.
        SubmissionError: listing every problem: a file where a folder belongs, a folder
            that is no assignment of the course, a submission without the released
            notebook name (e.g. a renamed copy), a mix of the two layouts, or no
            submission at all.
    """
    submissions_dir = _check_working_dir("submissions_dir", submissions_dir)
    assignments = course_assignments(course_dir)
    if (submissions_dir / "inbound").is_dir() and (submissions_dir / "outbound").is_dir():
        submissions_dir = submissions_dir / "inbound"  # an exchange's course folder
    names = [entry.name for entry in _visible(submissions_dir)]
    problems: list[str] = []
    inbound = [name for name in names if "+" in name]
    if inbound and len(inbound) < len(names):
        problems.append(
            f"{str(submissions_dir)!r} mixes the exchange's inbound folders (e.g. {inbound[0]!r}) with "
            f"others (e.g. {next(n for n in names if '+' not in n)!r}): use one layout"
        )
        submissions = []
    elif inbound:
        submissions = _inbound_layout(submissions_dir, assignments, problems)
    else:
        submissions = _submitted_layout(submissions_dir, assignments, problems)
    if not names:
        problems.append(
            f"{str(submissions_dir)!r} holds no submissions: expected <student id>/<assignment id>/<notebook> "
            "or the exchange's <student id>+<assignment id>+<timestamp>/ folders"
        )
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise SubmissionError(f"submissions_dir {str(submissions_dir)!r}: {len(problems)} problem(s):\n{listed}")
    return sorted(submissions)


def _copy_into_course(submissions: list[Submission], course_dir: Path) -> None:
    """Copy each submission to ``course_dir/submitted/<student>/<assignment>/``, replacing an older copy.

    The autograded version of a replaced submission is removed, so that ``nbgrader
    autograde`` grades the new one.
    """
    for submission in submissions:
        target = course_dir / "submitted" / submission.student_id / submission.assignment_id
        if target.resolve() == submission.path.resolve():
            continue
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(submission.path, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        shutil.rmtree(course_dir / "autograded" / submission.student_id / submission.assignment_id, ignore_errors=True)


def grade(
    submissions_dir: str | Path, course_dir: str | Path, csv_path: str | Path | None = None, *, force: bool = False
) -> Path:
    """Autograde a folder of submissions in an nbgrader course directory and export the points as CSV.

    Checks the folder with :func:`find_submissions` before nbgrader runs,
    copies the submissions into ``course_dir/submitted/`` (unless they are
    already there), then runs, in the course directory, ``nbgrader db student
    add`` for each student, ``nbgrader autograde <assignment>`` for each
    submitted assignment and ``nbgrader export``. The CSV (nbgrader's
    format) has one row per assignment and student of the gradebook, with
    ``score`` (autograded points; written answers count once a grader has
    scored them in the formgrader) and ``max_score``.

    Args:
        submissions_dir: the submissions, in a layout :func:`find_submissions` accepts.
        course_dir: the nbgrader course directory (``release/course/`` from ``make release``).
        csv_path: where to write the CSV (default: ``course_dir/grades.csv``).
        force: regrade submissions that nbgrader already autograded (``nbgrader autograde --force``).

    Returns:
        The path of the CSV.

    Raises:
        FileNotFoundError: if ``submissions_dir`` or ``course_dir`` is not a directory.
        SubmissionError: if the submissions are not laid out as nbgrader expects.
        ReleaseError: if an nbgrader command fails; the message names it.
    """
    if not isinstance(force, bool):
        raise TypeError(f"force must be a bool, got {type(force).__name__} {force!r}")
    course_dir = _check_working_dir("course_dir", course_dir)
    submissions = find_submissions(submissions_dir, course_dir)
    csv_path = (course_dir / "grades.csv") if csv_path is None else _check_path("csv_path", csv_path)
    csv_path = csv_path.resolve()
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    _copy_into_course(submissions, course_dir)
    students = sorted({s.student_id for s in submissions})
    assignments = sorted({s.assignment_id for s in submissions})
    commands = [["db", "student", "add", student] for student in students]
    commands += [["autograde", assignment, *(["--force"] if force else [])] for assignment in assignments]
    commands.append(["export", "--to", str(csv_path)])
    run_nbgrader_commands(course_dir, commands)
    return csv_path


def read_grades(csv_path: str | Path) -> list[dict[str, str]]:
    """The rows of a CSV written by ``nbgrader export`` (see :func:`grade`), as dictionaries."""
    with open(_check_path("csv_path", csv_path), newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _points_table(rows: list[dict[str, str]]) -> str:
    """Points per student (rows) and assignment (columns), as ``score/max``."""
    assignments = list(dict.fromkeys(row["assignment"] for row in rows))
    students = sorted({row["student_id"] for row in rows})
    cells = {(row["student_id"], row["assignment"]): f"{float(row['score']):g}/{float(row['max_score']):g}" for row in rows}
    header = ["student", *assignments]
    lines = [header] + [[student, *(cells.get((student, a), "-") for a in assignments)] for student in students]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines)


_GRADE_LAYOUTS = """\
Autograde a folder of submissions in an nbgrader course directory and export a CSV of
points per student and assignment. SUBMISSIONS_DIR is laid out in one of two ways:

  nbgrader's submitted layout (what `nbgrader collect` writes):
      SUBMISSIONS_DIR/<student id>/<chapter id>/<notebook>
  the exchange's inbound layout (what `nbgrader submit` writes), or the exchange's
  course folder holding inbound/ and outbound/; the newest submission of each
  student for each chapter is graded:
      SUBMISSIONS_DIR/<student id>+<chapter id>+<timestamp>[+<random>]/<notebook>
"""


def main(argv: list[str] | None = None) -> int:
    """Command line: ``release`` (the course directory and the student versions) and ``grade``."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.release", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser(
        "release", help="write the nbgrader course directory and the student versions of the written chapters' exercises"
    )
    release.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help=f"output folder (default: release/ at the project root); the course directory is OUT_DIR/{COURSE_SUBDIRECTORY}/",
    )
    release.add_argument("--book", type=Path, default=None, help="manifest to read (default: the project's book.toml)")
    release.add_argument(
        "--exchange-root",
        type=Path,
        default=None,
        help="exchange folder written into the course's nbgrader_config.py (default: nbgrader's own)",
    )
    grading = commands.add_parser(
        "grade",
        help="autograde a folder of submissions and export a CSV of points per student and assignment",
        description=_GRADE_LAYOUTS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grading.add_argument(
        "submissions_dir", metavar="SUBMISSIONS_DIR", type=Path, help="the submissions (see the layouts above)"
    )
    grading.add_argument(
        "--course-dir",
        type=Path,
        default=None,
        help=f"the nbgrader course directory (default: release/{COURSE_SUBDIRECTORY}/ at the project root)",
    )
    grading.add_argument("--csv", type=Path, default=None, help="CSV to write (default: COURSE_DIR/grades.csv)")
    grading.add_argument("--force", action="store_true", help="regrade submissions that were autograded before")
    grading.add_argument(
        "--book", type=Path, default=None, help="manifest locating the default COURSE_DIR (default: the project's book.toml)"
    )
    args = parser.parse_args(argv)

    try:
        if args.command == "release":
            return _release_command(load_book(args.book), args.out_dir, args.exchange_root)
        # The manifest only locates the default course directory: grading runs without a checkout too.
        course_dir = args.course_dir
        if course_dir is None:
            course_dir = load_book(args.book).root / "release" / COURSE_SUBDIRECTORY
        csv_path = grade(args.submissions_dir, course_dir, args.csv, force=args.force)
    except (ReleaseError, SubmissionError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(_points_table(read_grades(csv_path)))
    manual = {
        assignment: sum(
            cell.points
            for notebook in notebooks
            for cell in graded_cells(course_dir / "source" / assignment / notebook)
            if not cell.autograded
        )
        for assignment, notebooks in course_assignments(course_dir).items()
    }
    if any(manual.values()):
        listed = ", ".join(f"{assignment} {points:g}" for assignment, points in manual.items() if points)
        print(f"max includes the written answers, which count once a grader scores them in the formgrader: {listed}")
    print(f"points per student and assignment written to {csv_path}")
    return 0


def _release_command(book: Book, out_dir: Path | None, exchange_root: Path | None) -> int:
    out_dir = out_dir if out_dir is not None else book.root / "release"
    if any(chapter.id == COURSE_SUBDIRECTORY for chapter in book.written_chapters):
        raise ReleaseError(f"a chapter id {COURSE_SUBDIRECTORY!r} would clash with the course directory {out_dir}")
    course_dir = out_dir / COURSE_SUBDIRECTORY
    if not build_course(course_dir, book, exchange_root=exchange_root):
        print("no written chapters in the book: nothing to release")
        return 0
    for path in _copy_student_versions(course_dir, book, out_dir):
        print(path)
    print(f"nbgrader course directory (instructors only: it holds the solutions): {course_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
