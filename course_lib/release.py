"""Student versions of the exercises, made by nbgrader from the instructor sources.

``make release`` runs ``python -m course_lib.release release``: for every
written chapter in ``book.toml`` it builds a throw-away nbgrader course
directory, runs ``nbgrader generate_assignment`` there (solutions replaced by
``raise NotImplementedError()`` stubs, test cells locked, outputs cleared) and
copies the student notebook to ``release/<chapter id>/<notebook file>``.

The helpers that build a course directory and run nbgrader are public so the
release/autograde round-trip test uses exactly the same code.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from course_lib.book import Book, Chapter, load_book

__all__ = [
    "COURSE_ID",
    "SOLUTION_MARKERS",
    "ReleaseError",
    "write_nbgrader_config",
    "make_course_directory",
    "run_nbgrader",
    "generate_assignment",
    "release_exercises",
    "main",
]

COURSE_ID = "regularization-course"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

# Seconds nbgrader may spend on one cell when it executes a submission (autograde).
CELL_TIMEOUT_SECONDS = 300

_NBGRADER_CONFIG = f'''\
"""nbgrader configuration of a temporary course directory, written by course_lib.release."""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "{COURSE_ID}"
c.Execute.timeout = {CELL_TIMEOUT_SECONDS}
'''


class ReleaseError(RuntimeError):
    """nbgrader could not produce a student version; the message names the chapter."""


def write_nbgrader_config(course_dir: str | Path) -> Path:
    """Write ``nbgrader_config.py`` into ``course_dir`` and return its path."""
    path = Path(course_dir) / "nbgrader_config.py"
    path.write_text(_NBGRADER_CONFIG, encoding="utf-8")
    return path


def make_course_directory(course_dir: str | Path, chapter: Chapter) -> Path:
    """Lay out an nbgrader course directory holding ``chapter``'s exercises.

    Creates ``course_dir/source/<chapter id>/<exercises file>`` (a copy of the
    instructor source) and ``course_dir/nbgrader_config.py``.

    Returns:
        The path of the copied instructor notebook.

    Raises:
        ReleaseError: if the chapter's exercises notebook does not exist.
    """
    if not isinstance(chapter, Chapter):
        raise TypeError(f"chapter must be a course_lib.book.Chapter, got {type(chapter).__name__}")
    if not chapter.exercises.is_file():
        raise ReleaseError(f"chapter {chapter.id!r}: exercises notebook {chapter.exercises} not found")
    course_dir = Path(course_dir)
    source = course_dir / "source" / chapter.id / chapter.exercises.name
    source.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chapter.exercises, source)
    write_nbgrader_config(course_dir)
    return source


def _nbgrader_environment() -> dict[str, str]:
    """The current environment with this interpreter's scripts first on PATH.

    nbgrader's gradebook runs the ``alembic`` command when it creates a
    database, and finds it on PATH; ``make`` calls ``.venv/bin/python``
    without activating the virtual environment.
    """
    env = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([scripts, env["PATH"]]) if env.get("PATH") else scripts
    return env


def run_nbgrader(course_dir: str | Path, *args: str, chapter_id: str | None = None) -> str:
    """Run ``python -m nbgrader <args>`` with ``course_dir`` as working directory.

    nbgrader runs in a separate process, so its log and the warnings of its
    dependencies stay out of the caller's output.

    Args:
        course_dir: an nbgrader course directory (see :func:`make_course_directory`).
        args: the nbgrader command line, e.g. ``("autograde", "dropout")``.
        chapter_id: named in the error message if nbgrader fails.

    Returns:
        nbgrader's combined log (stdout and stderr).

    Raises:
        FileNotFoundError: if ``course_dir`` is not a directory.
        ReleaseError: if nbgrader exits with a non-zero status; the message
            holds the end of its log.
    """
    course_dir = Path(course_dir)
    if not course_dir.is_dir():
        raise FileNotFoundError(f"course_dir {str(course_dir)!r} is not a directory")
    completed = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_dir,
        env=_nbgrader_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        who = f"chapter {chapter_id!r}: " if chapter_id else ""
        log = "\n".join(completed.stdout.strip().splitlines()[-30:])
        raise ReleaseError(f"{who}`nbgrader {' '.join(args)}` failed (exit status {completed.returncode}):\n{log}")
    return completed.stdout


def generate_assignment(course_dir: str | Path, chapter: Chapter) -> Path:
    """Make the student version of ``chapter``'s exercises inside an nbgrader course directory.

    Builds the course directory with :func:`make_course_directory`, runs
    ``nbgrader generate_assignment`` (which also records the assignment in
    the course's ``gradebook.db``, as autograding needs) and checks that no
    solution marker survived.

    Returns:
        The path of the student notebook, ``course_dir/release/<chapter id>/<file>``.

    Raises:
        ReleaseError: if the exercises are missing, nbgrader fails, or the
            student version still contains a solution marker.
    """
    course_dir = Path(course_dir)
    make_course_directory(course_dir, chapter)
    run_nbgrader(course_dir, "generate_assignment", chapter.id, "--force", chapter_id=chapter.id)
    student = course_dir / "release" / chapter.id / chapter.exercises.name
    if not student.is_file():
        raise ReleaseError(f"chapter {chapter.id!r}: nbgrader wrote no student notebook at {student}")
    text = student.read_text(encoding="utf-8")
    leaked = [marker for marker in SOLUTION_MARKERS if marker in text]
    if leaked:
        raise ReleaseError(f"chapter {chapter.id!r}: the student notebook still contains {leaked}")
    return student


def release_exercises(out_dir: str | Path, book: Book | None = None) -> list[Path]:
    """Write the student version of every written chapter's exercises.

    Args:
        out_dir: where to write; chapter ``c`` goes to ``out_dir/<c.id>/<exercises file>``.
        book: the manifest (default: :func:`course_lib.book.load_book`).

    Returns:
        The written notebooks, in book order.

    Raises:
        ReleaseError: naming the chapter, if its exercises are missing or nbgrader fails.
    """
    book = load_book() if book is None else book
    if not isinstance(book, Book):
        raise TypeError(f"book must be a course_lib.book.Book or None, got {type(book).__name__}")
    out_dir = Path(out_dir)
    written = []
    for chapter in book.written_chapters:
        with tempfile.TemporaryDirectory(prefix=f"nbgrader-{chapter.id}-") as course_dir:
            student = generate_assignment(course_dir, chapter)
            target = out_dir / chapter.id / chapter.exercises.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(student, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m course_lib.release release [--out-dir DIR] [--book PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.release", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser("release", help="write the student versions of the written chapters' exercises")
    release.add_argument(
        "--out-dir", type=Path, default=None, help="output folder (default: release/ at the project root)"
    )
    release.add_argument("--book", type=Path, default=None, help="manifest to read (default: the project's book.toml)")
    args = parser.parse_args(argv)

    book = load_book(args.book)
    out_dir = args.out_dir if args.out_dir is not None else book.root / "release"
    try:
        paths = release_exercises(out_dir, book)
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    if not paths:
        print("no written chapters in the book: nothing to release")
    return 0


if __name__ == "__main__":
    sys.exit(main())
