"""Tests for course_lib.gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.gradcheck import numerical_gradient, rel_error


def test_numerical_gradient_of_a_quadratic_form() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    grad = numerical_gradient(lambda z: z @ A @ z, x)
    assert rel_error(grad, (A + A.T) @ x) < 1e-9


def test_numerical_gradient_keeps_shape_and_leaves_input_untouched() -> None:
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    grad = numerical_gradient(lambda z: np.sum(np.sin(z)), x)
    assert grad.shape == (2, 3)
    np.testing.assert_array_equal(x, before)
    assert rel_error(grad, np.cos(x)) < 1e-9


def test_numerical_gradient_of_a_fortran_ordered_array() -> None:
    x = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    grad = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)


def test_numerical_gradient_names_f_when_f_fails() -> None:
    with pytest.raises(TypeError, match=r"f raised TypeError at x with flat entry 0 \+ h"):
        numerical_gradient(lambda v: int(v), np.zeros(2))
    with pytest.raises(ValueError, match=r"non-finite value \(inf\) at x with flat entry 0 \+ h \(h=1e\+300\)"):
        numerical_gradient(lambda v: float(np.sum(v)) * 1e10, np.ones(2), h=1e300)


def test_numerical_gradient_of_float32_input_is_computed_in_float64() -> None:
    x = np.ones(3, dtype=np.float32)
    assert numerical_gradient(lambda z: float(np.sum(z**2)), x).dtype == np.float64


def test_numerical_gradient_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="f must be callable"):
        numerical_gradient(3, np.ones(2))
    with pytest.raises(ValueError, match="h must be a finite number > 0, got 0.0"):
        numerical_gradient(np.sum, np.ones(2), h=0.0)
    with pytest.raises(ValueError, match="f must return a scalar"):
        numerical_gradient(lambda z: z, np.ones(2))
    with pytest.raises(ValueError, match="non-finite"):
        numerical_gradient(lambda z: float("nan") * z.sum(), np.ones(2))
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        numerical_gradient(np.sum, [1.0, 2.0])


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20), st.floats(1e-3, 1e3))
def test_rel_error_is_symmetric_scale_free_and_zero_on_equal_inputs(values: list[float], scale: float) -> None:
    a = np.array(values)
    b = a + 1e-3 * (np.abs(a) + 1)
    assert rel_error(a, a) == 0.0
    assert rel_error(a, b) == pytest.approx(rel_error(b, a))
    assert rel_error(scale * a, scale * b) == pytest.approx(rel_error(a, b), rel=1e-9)
    assert 0.0 <= rel_error(a, b) <= 2.0


def test_rel_error_detects_a_wrong_gradient_and_rejects_bad_input() -> None:
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(0.2 / np.linalg.norm([1.0, 2.2]))
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="a contains non-finite"):
        rel_error(np.array([np.nan]), np.array([1.0]))


def test_rel_error_near_the_float64_limits() -> None:
    # ||a - b|| / max(||a||, ||b||) = (2 sqrt(3) s) / (sqrt(3) s) = 2 for a = s, b = -s
    assert rel_error(np.full(3, 1e200), np.full(3, -1e200)) == pytest.approx(2.0, rel=1e-15)
    # (sqrt(3) s) / (2 sqrt(3) s) = 0.5 for a = s, b = 2 s
    assert rel_error(np.full(3, 1e-200), np.full(3, 2e-200)) == pytest.approx(0.5, rel=1e-15)
    assert rel_error([1e308, -1e308], [-1e308, 1e308]) == pytest.approx(2.0, rel=1e-15)


@pytest.mark.parametrize(("x", "h"), [(np.ones(2), 1e-300), (np.zeros(2), 1e-300), (np.array([0.0, 1e20]), 1e-5)])
def test_numerical_gradient_rejects_a_step_that_does_not_resolve_x(x, h) -> None:
    with pytest.raises(ValueError, match=r"h must be at least .* so that x \+ h differs from x.*got"):
        numerical_gradient(np.sum, x, h=h)


def test_numerical_gradient_accepts_the_smallest_allowed_step() -> None:
    x = np.array([0.5, -2.0])
    h = 64 * np.finfo(np.float64).eps * 2.0
    np.testing.assert_allclose(numerical_gradient(lambda z: float(np.sum(3.0 * z)), x, h=h), [3.0, 3.0], rtol=1e-2)
