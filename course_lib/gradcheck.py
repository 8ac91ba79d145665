r"""Numerical gradients by central differences, for checking hand-written backward passes.

For a scalar function :math:`f` the central difference

.. math::
    \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

has truncation error :math:`O(h^2)`; in float64 with :math:`h = 10^{-5}` a
correct analytic gradient agrees to a relative error of about 1e-10.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from course_lib._validation import check_ndarray, check_positive, real_array

__all__ = ["numerical_gradient", "rel_error"]


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``f`` is called ``2 * x.size`` times with perturbed float64 copies of
    ``x``; ``x`` itself is never modified. ``f`` must be deterministic (fix any
    random mask before calling, e.g. by re-seeding inside ``f``).

    ``h`` must resolve every entry: it must be at least
    ``64 * eps * max(1, |x_i|)`` (``eps`` the float64 machine epsilon) for all
    ``i``, so that ``x_i + h`` and ``x_i - h`` differ from ``x_i`` by many units
    in the last place; a smaller step (e.g. ``1e-300``, which leaves ``x``
    unchanged) raises ``ValueError`` instead of returning a gradient of zeros.

    Returns an array of ``x``'s shape, in float64.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    # A C-ordered float64 copy: the caller's x is untouched, and reshape(-1) below is a view of it
    # (for a Fortran-ordered array it would be a copy, and the perturbations would never reach f).
    x = np.array(check_ndarray("x", x), dtype=np.float64, order="C")
    h = check_positive("h", h)
    _check_step_resolves(h, x)
    grad = np.empty_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        f_plus = _evaluate(f, x, i, "+", h)
        flat_x[i] = original - h
        f_minus = _evaluate(f, x, i, "-", h)
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


_STEP_ULPS = 64.0


def _check_step_resolves(h: float, x: np.ndarray) -> None:
    """Raise a ValueError naming h when ``x_i ± h`` would (nearly) round back to ``x_i`` for some entry."""
    largest = float(np.max(np.abs(x), initial=0.0))
    bound = _STEP_ULPS * np.finfo(np.float64).eps * max(1.0, largest)
    if h < bound:
        raise ValueError(
            f"h must be at least 64 * eps * max(1, max|x|) = {bound:.3g} so that x + h differs from x "
            f"in every entry, got {h!r}"
        )


def _evaluate(f: Callable[[np.ndarray], float], x: np.ndarray, i: int, sign: str, h: float) -> float:
    """``f(x)`` as a finite float; f's own TypeError/ValueError is re-raised naming f and the point."""
    where = f"x with flat entry {i} {sign} h (h={h!r})"
    try:
        value = f(x)
        result = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise type(error)(f"f raised {type(error).__name__} at {where}: {error}") from error
    if result.size != 1:
        raise ValueError(f"f must return a scalar, got an array of shape {result.shape}")
    result = float(result.reshape(()))
    if not np.isfinite(result):
        raise ValueError(f"f returned a non-finite value ({result}) at {where}")
    return result


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    r"""Relative error :math:`\lVert a-b\rVert_2 / \max(\lVert a\rVert_2, \lVert b\rVert_2)`.

    Zero when both are zero; symmetric; scale-free, so 1e-8 means "eight
    matching digits" whatever the magnitude of the gradient. Both arrays are
    divided by their largest absolute entry before the norms are taken, so
    entries near the float64 limits (1e200, 1e-200) neither overflow nor
    underflow.

    Example:
        >>> rel_error(np.full(3, 1e200), np.full(3, -1e200))
        2.0
    """
    a, b = real_array("a", a), real_array("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    for name, value in (("a", a), ("b", b)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    largest = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    if largest == 0.0:
        return 0.0
    a, b = a / largest, b / largest  # entries now in [-1, 1]: no overflow or underflow in the norms
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))
