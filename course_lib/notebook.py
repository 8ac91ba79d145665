"""The one set-up call at the top of every chapter and exercise notebook."""

from __future__ import annotations

import os
import random

import matplotlib
import numpy as np
import torch

from course_lib import _random

__all__ = ["setup_notebook", "PLOT_STYLE"]

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
