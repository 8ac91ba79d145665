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
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

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
]

KERNEL_NAME = "regularization-course"
KERNELSPEC = {"name": KERNEL_NAME, "display_name": "Python 3 (regularization course)", "language": "python"}

#: Environment of every kernel that executes the book: torch's CPU kernels take
#: the same code path on any x86-64 processor with AVX2, Intel or AMD — MKL's
#: conditional numerical reproducibility mode and ATen's vectorised kernels —
#: so float32 training gives the same numbers, and the same stored outputs, on
#: every machine (with AVX-512, MKL and ATen would otherwise pick other
#: kernels, whose rounding differs). The Makefile exports the same values and
#: registers the course kernel with them.
PORTABLE_CPU_ENV = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}


@dataclass(frozen=True)
class ExecutionResult:
    path: Path
    seconds: float
    notebook: nbformat.NotebookNode


def ensure_kernel() -> None:
    """Register the course kernel (this interpreter, :data:`PORTABLE_CPU_ENV`) if Jupyter does not know it yet."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to execute (default: all in book.toml)")
    args = parser.parse_args(argv)
    book = load_book()
    targets = [(p, None) for p in args.notebooks] or book_notebooks(book)
    for path, budget in targets:
        result = execute_notebook(path)
        note = ""
        if budget is not None:
            note = f"  (budget {budget:.0f} s{', OVER BUDGET' if result.seconds > budget else ''})"
        print(f"{result.seconds:6.1f} s  {path}{note}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
