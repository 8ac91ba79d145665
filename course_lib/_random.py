"""The package-wide NumPy generator used when a function is given ``rng=None``.

``course_lib.setup_notebook(seed)`` re-seeds it, so notebooks are reproducible
without threading a generator through every call; library code that needs
reproducibility on its own takes an explicit ``rng``.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def default_rng() -> np.random.Generator:
    """Return the shared generator (seeded by :func:`course_lib.setup_notebook`)."""
    return _generator


def reseed(seed: int) -> np.random.Generator:
    """Replace the shared generator with a fresh one seeded with ``seed``."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator
