"""The one set-up call at the top of every chapter and exercise notebook, and the listing helper chapters use."""

from __future__ import annotations

import ast
import inspect
import os
import random
import textwrap
from collections.abc import Callable
from typing import Any

import matplotlib
import numpy as np
import torch

from course_lib import _random

__all__ = ["setup_notebook", "function_code", "PLOT_STYLE"]

#: The book's plot style: fixed figure sizes and resolution so stored figures
#: are reproducible, light grids, no top/right spines.
PLOT_STYLE: dict[str, object] = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def setup_notebook(seed: int = 0, threads: int = 1) -> np.random.Generator:
    """Make a notebook reproducible and give it the book's look.

    * seeds Python's ``random``, NumPy (legacy global state and course_lib's
      shared ``Generator``) and torch's global generator with ``seed``;
    * fixes torch's intra-op thread count (results of parallel reductions can
      depend on it) and turns on ``torch.use_deterministic_algorithms``;
    * applies :data:`PLOT_STYLE` and, inside IPython, PNG inline figures.

    Returns the seeded ``numpy.random.Generator`` that course_lib functions
    use when called with ``rng=None``; pass it on explicitly where a lesson is
    about randomness.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    random.seed(seed)
    np.random.seed(seed)
    rng = _random.reseed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    # cuBLAS needs this for deterministic matrix products when a GPU is used.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    matplotlib.rcParams.update(PLOT_STYLE)
    _use_png_inline_figures()
    return rng


def _use_png_inline_figures() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to configure
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")


def function_code(function: Callable[..., Any]) -> str:
    """The source of a Python function as it is, without its docstring: the code a chapter shows and then checks.

    The ``def`` line(s) and the body after the docstring, dedented, so a chapter prints the
    library's own implementation instead of a copy that could drift from it.

    Raises ``TypeError`` naming ``function`` for anything but a function defined in Python
    source (a builtin, a class or a lambda has no ``def`` to show).

    Example:
        >>> from course_lib.variants import drop_path_rates
        >>> print(function_code(drop_path_rates).splitlines()[0])
        def drop_path_rates(depth: int, max_rate: float) -> list[float]:
    """
    if not inspect.isfunction(function) or function.__name__ == "<lambda>":
        raise TypeError(f"function must be a Python function defined with def, got {type(function).__name__} {function!r}")
    source = textwrap.dedent(inspect.getsource(function))
    node = ast.parse(source).body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise TypeError(f"function must be a Python function defined with def, got {function!r}")
    lines = source.splitlines()
    body = node.body[1:] if ast.get_docstring(node) is not None and len(node.body) > 1 else node.body
    first_statement = node.body[0].lineno - 1  # the def line(s), decorators included, end before it
    header = lines[: first_statement]
    return "\n".join(header + lines[body[0].lineno - 1 : node.end_lineno])
