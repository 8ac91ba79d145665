"""Valid calls of course_lib.gradcheck."""

from __future__ import annotations

import numpy as np

from course_lib import gradcheck

from .runner import Case


def _cubic(x: np.ndarray) -> float:
    return float(np.sum(x**3))


def _verify_numerical_gradient(grad, kwargs) -> None:
    x = np.asarray(kwargs["x"], dtype=float)
    assert grad.shape == x.shape
    if kwargs["f"] is _cubic:
        h = kwargs.get("h", 1e-5)
        # Central differences are exact for a cubic up to the h**2 term: f'''(x) h**2 / 6 = h**2.
        np.testing.assert_allclose(grad, 3 * x**2 + h**2, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(x).max(initial=0.0)) ** 2))


def _verify_rel_error(error, kwargs) -> None:
    a, b = (np.asarray(kwargs[name], dtype=np.longdouble) for name in "ab")
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    assert isinstance(error, float) and 0.0 <= error <= 2.0
    if scale:
        a, b = a / scale, b / scale
        expected = np.sqrt(np.sum((a - b) ** 2)) / max(np.sqrt(np.sum(a**2)), np.sqrt(np.sum(b**2)))
        assert np.isclose(error, float(expected), rtol=1e-9, atol=1e-15), (error, expected)
    else:
        assert error == 0.0


CASES = [
    Case(
        "gradcheck.numerical_gradient",
        gradcheck.numerical_gradient,
        lambda: dict(f=_cubic, x=np.array([[0.5, -1.0], [2.0, 0.25]]), h=1e-5),
        _verify_numerical_gradient,
    ),
    Case(
        "gradcheck.rel_error",
        gradcheck.rel_error,
        lambda: dict(a=np.array([1.0, 2.0, 3.0]), b=np.array([1.0, 2.5, 2.0])),
        _verify_rel_error,
    ),
]
