"""Execute notebooks in place with nbclient so their stored outputs are reproducible.

``make execute`` runs ``python -m course_lib.execution``, which re-executes
every written chapter and exercise listed in ``book.toml``. The written file
depends only on what the code computes: a fixed kernel name, no per-cell
timing metadata and no widget state, so executing twice gives no git diff.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import nbformat
from nbclient import NotebookClient

from course_lib._validation import check_non_negative
from course_lib.book import Book, load_book

__all__ = [
    "KERNEL_NAME",
    "KERNELSPEC",
    "PORTABLE_CPU_ENV",
    "WIDGET_VIEW",
    "ExecutionResult",
    "ensure_kernel",
    "execute_notebook",
    "book_notebooks",
    "WHOLE_BOOK_AIM_SECONDS",
    "ExecutionTotal",
    "execution_totals",
]

KERNEL_NAME = "regularization-course"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (regularization course)", "language": "python"}

#: Environment of every kernel that executes the book: torch's CPU kernels take
#: the same code path on any x86-64 processor with AVX2, Intel or AMD — MKL's
#: conditional numerical reproducibility mode, ATen's vectorised kernels and
#: oneDNN's instruction set (its convolutions) — so float32 training gives the
#: same numbers, and the same stored outputs, on every machine (with AVX-512,
#: MKL, ATen and oneDNN would otherwise pick other kernels, whose rounding
#: differs: a 1-D CNN of the variants chapter printed other digits). The Makefile exports the same values and
#: registers the course kernel with them.
PORTABLE_CPU_ENV = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


@dataclass(frozen=True)
class ExecutionResult:
    path: Path
    seconds: float
    notebook: nbformat.NotebookNode


def ensure_kernel() -> None:
    """Register the course kernel (this interpreter, :data:`PORTABLE_CPU_ENV`) in this environment.

    A no-op when Jupyter already knows it with this interpreter and these settings; registered
    again when it runs another interpreter or lacks a setting (a setting added since, a venv moved).
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        spec = None
    if spec is not None and spec.argv[:1] == [sys.executable] and all(
        spec.env.get(name) == value for name, value in PORTABLE_CPU_ENV.items()
    ):
        return
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name=KERNELSPEC["display_name"], prefix=sys.prefix, env=PORTABLE_CPU_ENV)


def execute_notebook(path: str | Path, *, write: bool = True, timeout: int = 600) -> ExecutionResult:
    """Run every cell of the notebook at ``path`` top to bottom in a fresh course kernel.

    The working directory is the notebook's folder; the kernel runs with
    :data:`PORTABLE_CPU_ENV` (a value already set in the environment wins).
    With ``write=True`` the outputs are stored back into the file, cleaned of
    volatile metadata. Raises ``nbclient.exceptions.CellExecutionError`` if a
    cell fails.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not a notebook file")
    ensure_kernel()
    for name, value in PORTABLE_CPU_ENV.items():  # the kernel process inherits them
        os.environ.setdefault(name, value)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        record_timing=False,
        store_widget_state=False,
        coalesce_streams=True,  # one stream output per cell and name, however the kernel split the prints
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    _clean(notebook)
    if write:
        nbformat.write(notebook, path)
    return ExecutionResult(path=path, seconds=seconds, notebook=notebook)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _clean(notebook: nbformat.NotebookNode) -> None:
    """Drop what varies between runs or machines but is not an output.

    A widget's view reference holds a random model id and, with no widget
    state stored, points at nothing; the widget's text form stays (nbval
    compares it) and each demo draws a static figure for readers without a
    kernel.
    """
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)


def book_notebooks(book: Book) -> list[tuple[Path, float]]:
    """Every notebook of the written chapters, chapter then exercises, with its budget in seconds."""
    paths = []
    for chapter in book.written_chapters:
        paths.append((chapter.notebook, chapter.budget_seconds))
        paths.append((chapter.exercises, chapter.budget_seconds))
    return paths


#: What the book aims at for all its notebooks in sequence on a 2-core laptop: reported by
#: ``make execute`` and ``make test``, never a verdict (the verdict is the sum of the budgets).
WHOLE_BOOK_AIM_SECONDS = 180


class ExecutionTotal(NamedTuple):
    """The time of a part of the book executed notebook after notebook, against the sum of its budgets."""

    label: str  #: "chapters", "exercises" or "whole book"
    notebooks: int
    seconds: float
    budget: float

    @property
    def within_budget(self) -> bool:
        return self.seconds <= self.budget

    def aim_text(self) -> str:
        """This total against :data:`WHOLE_BOOK_AIM_SECONDS` (meant for the whole book)."""
        met = "met" if self.seconds <= WHOLE_BOOK_AIM_SECONDS else "not met"
        return (f"the whole book in sequence: {self.seconds / 60:.1f} min against the aim of "
                f"{WHOLE_BOOK_AIM_SECONDS / 60:.0f} min on a 2-core machine ({met})")

    def __str__(self) -> str:
        verdict = "within" if self.within_budget else "OVER"
        return (f"{self.seconds:7.1f} s / {self.budget:4.0f} s  {self.label}: {self.notebooks} notebooks in sequence, "
                f"{verdict} the sum of their budgets")


def execution_totals(book: Book, seconds: Mapping[Path, float]) -> tuple[ExecutionTotal, ExecutionTotal, ExecutionTotal]:
    r"""The chapters, the exercises and the whole book executed one notebook after another.

    For each part :math:`P` of :func:`book_notebooks`, the total
    :math:`\sum_{n \in P} t_n` of the measured times against
    :math:`\sum_{n \in P} b_n`, the budgets of book.toml (an exercises
    notebook has its chapter's budget). The whole book is within its budget
    when the total of all notebooks is at most the sum of all budgets, however
    the time is shared among them.

    Args:
        book: the manifest (:func:`course_lib.book.load_book`).
        seconds: notebook path (as in :func:`book_notebooks`) -> measured
            seconds, one finite time >= 0 for every notebook of the book and
            for nothing else.

    Returns:
        ``(chapters, exercises, whole book)``.
    """
    if not isinstance(book, Book):
        raise TypeError(f"book must be a course_lib.book.Book, got {type(book).__name__}")
    if not isinstance(seconds, Mapping):
        raise TypeError(f"seconds must be a mapping of notebook paths to seconds, got {type(seconds).__name__}")
    budgets = dict(book_notebooks(book))
    times = {}
    for path, value in seconds.items():
        if Path(path) not in budgets:
            raise ValueError(f"seconds has a time for {str(path)!r}, which is not a notebook of the book")
        times[Path(path)] = check_non_negative(f"seconds[{str(path)!r}]", value)
    missing = [str(path) for path in budgets if path not in times]
    if missing:
        raise ValueError(f"seconds has no time for {len(missing)} notebook(s) of the book: {', '.join(missing)}")
    exercises = {chapter.exercises for chapter in book.written_chapters}
    parts = (("chapters", [p for p in budgets if p not in exercises]), ("exercises", [p for p in budgets if p in exercises]),
             ("whole book", list(budgets)))
    return tuple(ExecutionTotal(label, len(paths), sum(times[p] for p in paths), sum(budgets[p] for p in paths))
                 for label, paths in parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to execute (default: all in book.toml)")
    args = parser.parse_args(argv)
    book = load_book()
    targets = [(p, None) for p in args.notebooks] or book_notebooks(book)
    times = {}
    for path, budget in targets:
        result = execute_notebook(path)
        times[path] = result.seconds
        note = ""
        if budget is not None:
            note = f"  (budget {budget:.0f} s{', OVER BUDGET' if result.seconds > budget else ''})"
        print(f"{result.seconds:6.1f} s  {path}{note}", flush=True)
    if not args.notebooks:  # the whole book: how long it took, one notebook after another
        totals = execution_totals(book, times)
        for total in totals:
            print(total)
        print(totals[-1].aim_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
