"""Tests for course_lib.linear_models: ridge and lasso against scikit-learn, convergence warnings, validation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.linear_model import Lasso, Ridge

from course_lib.linear_models import (
    _LeastSquares,
    ConvergenceWarning,
    LassoFit,
    LinearFit,
    lasso_fit,
    ridge_fit,
    ridge_gradient_descent,
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def regression_problem(rng: np.random.Generator, n: int, d: int, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((n, d)) + offset
    coef = np.where(rng.random(d) < 0.3, rng.standard_normal(d) * 2, 0.0)
    y = X @ coef + 0.1 * rng.standard_normal(n) + 3.0 * offset
    return X, y


def sklearn_lasso(X: np.ndarray, y: np.ndarray, alpha: float, fit_intercept: bool) -> Lasso:
    with warnings.catch_warnings():  # at tol=1e-14 coordinate descent may report it stopped short
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        return Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=10**6).fit(X, y)


# --- ridge ------------------------------------------------------------------------------------

@given(seed=seeds, n=st.integers(2, 40), d=st.integers(1, 40), alpha=st.floats(0.01, 100.0), fit_intercept=st.booleans())
def test_ridge_fit_agrees_with_sklearn(seed: int, n: int, d: int, alpha: float, fit_intercept: bool) -> None:
    X, y = regression_problem(np.random.default_rng(seed), n, d, offset=1.5 if fit_intercept else 0.0)
    fit = ridge_fit(X, y, alpha, fit_intercept=fit_intercept)
    reference = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    assert isinstance(fit, LinearFit) and fit.coef.shape == (d,)
    scale = max(1.0, np.abs(reference.coef_).max())
    np.testing.assert_allclose(fit.coef, reference.coef_, rtol=1e-8, atol=1e-10 * scale)
    assert fit.intercept == pytest.approx(float(reference.intercept_), rel=1e-8, abs=1e-10 * scale)


def test_ridge_fit_primal_and_dual_branches_and_alpha_zero() -> None:
    rng = np.random.default_rng(1)
    for n, d in ((50, 5), (5, 50)):
        X, y = regression_problem(rng, n, d)
        w = ridge_fit(X, y, 0.7).coef
        np.testing.assert_allclose(X.T @ (X @ w - y) + 0.7 * w, 0.0, atol=1e-10)  # stationarity
    X, y = regression_problem(rng, 5, 12)
    np.testing.assert_allclose(ridge_fit(X, y, 0.0).coef, np.linalg.pinv(X) @ y, atol=1e-10)


def test_ridge_gradient_descent_reaches_the_closed_form() -> None:
    rng = np.random.default_rng(2)
    for n, d, alpha in ((50, 10, 1.0), (10, 30, 2.0)):
        X, y = regression_problem(rng, n, d)
        exact = ridge_fit(X, y, alpha).coef
        np.testing.assert_allclose(ridge_gradient_descent(X, y, alpha), exact, rtol=1e-8, atol=1e-10)


def test_ridge_gradient_descent_warns_when_out_of_steps() -> None:
    X, y = regression_problem(np.random.default_rng(3), 30, 5)
    with pytest.warns(ConvergenceWarning, match="5 steps"):
        ridge_gradient_descent(X, y, 1.0, steps=5)


def test_ridge_rejects_bad_input() -> None:
    X, y = np.ones((20, 3)), np.ones(19)
    with pytest.raises(ValueError, match="X has 20 rows but y has 19 entries"):
        ridge_fit(X, y, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        ridge_fit(X, np.ones(20), -1.0)
    with pytest.raises(ValueError, match="alpha"):
        ridge_fit(X, np.ones(20), float("inf"))
    with pytest.raises(ValueError, match="X"):
        ridge_fit(np.full((20, 3), np.nan), np.ones(20), 1.0)
    with pytest.raises(ValueError, match="y"):
        ridge_fit(X, np.ones((20, 1)), 1.0)
    with pytest.raises(ValueError, match="alpha"):
        ridge_gradient_descent(X, np.ones(20), -0.5)
    with pytest.raises(ValueError, match="learning_rate"):
        ridge_gradient_descent(X, np.ones(20), 1.0, learning_rate=0.0)


# --- lasso ------------------------------------------------------------------------------------

def assert_lasso_matches(fit: LassoFit, reference: Lasso) -> None:
    scale = max(1.0, np.abs(reference.coef_).max())
    np.testing.assert_allclose(fit.coef, reference.coef_, rtol=0, atol=1e-6 * scale)
    np.testing.assert_array_equal(fit.coef != 0, reference.coef_ != 0)
    assert fit.intercept == pytest.approx(float(reference.intercept_), abs=1e-6 * scale)


@settings(max_examples=25)
@given(
    seed=seeds,
    n=st.integers(5, 60),
    d=st.integers(1, 60),
    relative_alpha=st.floats(0.05, 0.9),
    fit_intercept=st.booleans(),
)
def test_lasso_fit_agrees_with_sklearn(seed: int, n: int, d: int, relative_alpha: float, fit_intercept: bool) -> None:
    X, y = regression_problem(np.random.default_rng(seed), n, d, offset=1.0 if fit_intercept else 0.0)
    Xc, yc = (X - X.mean(0), y - y.mean()) if fit_intercept else (X, y)
    alpha = relative_alpha * np.abs(Xc.T @ yc).max() / n
    fit = lasso_fit(X, y, alpha, fit_intercept=fit_intercept)
    assert_lasso_matches(fit, sklearn_lasso(X, y, alpha, fit_intercept))


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_lasso_fit_agrees_with_sklearn_when_features_outnumber_samples(fit_intercept: bool) -> None:
    X, y = regression_problem(np.random.default_rng(4), 20, 200, offset=0.5 if fit_intercept else 0.0)
    alpha = 0.1
    fit = lasso_fit(X, y, alpha, fit_intercept=fit_intercept)
    assert 0 < np.count_nonzero(fit.coef) <= 20
    assert_lasso_matches(fit, sklearn_lasso(X, y, alpha, fit_intercept))


def test_lasso_backtracking_recovers_from_a_step_size_estimate_far_too_small(monkeypatch) -> None:
    # Start FISTA from a Lipschitz estimate a million times too small: every early step would
    # overshoot, and backtracking has to raise the estimate until the quadratic model holds.
    X, y = regression_problem(np.random.default_rng(11), 40, 25)
    true_constant = np.linalg.norm(X, 2) ** 2 / len(y)
    monkeypatch.setattr(_LeastSquares, "lipschitz_estimate", lambda self: 1e-6 * true_constant)
    alpha = 0.1 * np.abs(X.T @ y).max() / len(y)
    fit = lasso_fit(X, y, alpha)
    assert_lasso_matches(fit, sklearn_lasso(X, y, alpha, False))
    assert fit.duality_gap <= 1e-10 * (y @ y) / len(y)


def test_lipschitz_estimate_never_exceeds_the_true_constant() -> None:
    for seed in range(5):
        X, y = regression_problem(np.random.default_rng(seed), 30, 50)
        estimate = _LeastSquares(X, y).lipschitz_estimate()
        true_constant = np.linalg.norm(X, 2) ** 2 / len(y)
        assert 0.5 * true_constant < estimate <= true_constant * (1 + 1e-12)


def test_lasso_above_alpha_max_is_exactly_zero() -> None:
    X, y = regression_problem(np.random.default_rng(5), 30, 8)
    alpha_max = np.abs(X.T @ y).max() / len(y)
    fit = lasso_fit(X, y, alpha_max)
    assert fit.n_iter == 0 and np.all(fit.coef == 0.0) and fit.coef.shape == (8,)
    assert abs(fit.duality_gap) < 1e-12
    assert np.all(lasso_fit(X, y, 10 * alpha_max, fit_intercept=True).coef == 0.0)
    assert np.count_nonzero(lasso_fit(X, y, 0.99 * alpha_max).coef) >= 1


def test_lasso_reports_a_small_duality_gap() -> None:
    X, y = regression_problem(np.random.default_rng(6), 40, 15)
    fit = lasso_fit(X, y, 0.05)
    assert 0 < fit.n_iter and fit.duality_gap <= 1e-10 * (y @ y) / len(y)


def test_lasso_warns_when_out_of_iterations() -> None:
    X, y = regression_problem(np.random.default_rng(7), 20, 200)
    with pytest.warns(ConvergenceWarning, match="duality gap"):
        fit = lasso_fit(X, y, 0.05, max_iter=3)
    assert fit.n_iter == 3 and fit.duality_gap > 0


def test_lasso_rejects_bad_input() -> None:
    X, y = np.ones((20, 3)), np.ones(20)
    with pytest.raises(ValueError, match="alpha"):
        lasso_fit(X, y, -0.1)
    with pytest.raises(ValueError, match="ridge_fit"):
        lasso_fit(X, y, 0.0)
    with pytest.raises(ValueError, match="X has 20 rows but y has 19 entries"):
        lasso_fit(X, np.ones(19), 0.1)
    with pytest.raises(ValueError, match="max_iter"):
        lasso_fit(X, y, 0.1, max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        lasso_fit(X, y, 0.1, tol=0.0)
    with pytest.raises(ValueError, match="w0"):
        lasso_fit(X, y, 0.1, w0=np.ones(4))


# --- issue 12: overflow, divergence, complex input ---------------------------------------------

@pytest.fixture
def alarm_20s():
    """Fail instead of hanging: SIGALRM after 20 s interrupts a call that never returns."""
    import signal

    def _timeout(signum, frame):
        raise TimeoutError("the call did not return within 20 s")

    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    "scale_X, scale_y, d, message",
    [
        (1e200, 1.0, 5, r"X\.T @ X overflows float64"),
        (1.0, 1e200, 5, r"y @ y overflows float64"),
        (1e154, 1.0, 100, r"overflows float64: scale X"),  # d > 2n: no Gram matrix, overflow in X @ v
    ],
)
def test_lasso_on_overflowing_data_raises_instead_of_hanging(alarm_20s, scale_X, scale_y, d, message) -> None:
    X, y = regression_problem(np.random.default_rng(0), 30, d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning noise before the explanation
        with pytest.raises(ValueError, match=message):
            lasso_fit(X * scale_X, y * scale_y, 0.05, max_iter=1)


def test_lasso_backtracking_stops_when_the_objective_is_not_finite(alarm_20s, monkeypatch) -> None:
    X, y = regression_problem(np.random.default_rng(1), 30, 5)
    monkeypatch.setattr(_LeastSquares, "value", lambda self, w, Aw: float("nan"))
    with pytest.raises(ValueError, match=r"objective is not finite.*scale X"):
        lasso_fit(X, y, 0.05, max_iter=3)


def test_ridge_gradient_descent_with_too_large_a_step_raises_naming_2_over_L() -> None:
    X, y = regression_problem(np.random.default_rng(2), 30, 5)
    L = 2.0 * (np.linalg.norm(X, 2) ** 2 + 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"diverged.*learning_rate=10\.0 must be < 2/L") as info:
            ridge_gradient_descent(X, y, 1.0, learning_rate=10)
    assert f"{L:.6g}" in str(info.value)
    # just above 2/L: no overflow within 50 steps, but it cannot converge
    with pytest.raises(ValueError, match=r"diverged \(gradient norm"):
        ridge_gradient_descent(X, y, 1.0, learning_rate=1.01 * 2.0 / L, steps=50)


def test_ridge_gradient_descent_below_2_over_L_still_converges() -> None:
    X, y = regression_problem(np.random.default_rng(3), 30, 5)
    L = 2.0 * (np.linalg.norm(X, 2) ** 2 + 1.0)
    w = ridge_gradient_descent(X, y, 1.0, learning_rate=1.9 / L, steps=20_000)
    np.testing.assert_allclose(w, ridge_fit(X, y, 1.0).coef, atol=1e-8)


@pytest.mark.parametrize("name", ["X", "y", "w0"])
def test_complex_input_is_rejected_not_cut_to_its_real_part(name: str) -> None:
    X, y = np.eye(2), np.ones(2)
    arguments = {"X": X, "y": y, "w0": np.zeros(2)}
    arguments[name] = arguments[name] + 1j
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # formerly a ComplexWarning and a fit of the real part
        with pytest.raises(TypeError, match=rf"^{name} must hold real numbers.*complex"):
            ridge_gradient_descent(arguments["X"], arguments["y"], 1.0, w0=arguments["w0"])
        with pytest.raises(TypeError, match=rf"^{name} must hold real numbers.*complex"):
            lasso_fit(arguments["X"], arguments["y"], 0.1, w0=arguments["w0"])
    if name != "w0":
        with pytest.raises(TypeError, match=rf"^{name} must hold real numbers"):
            ridge_fit(arguments["X"], arguments["y"], 1.0)


def test_integer_data_is_fitted_in_float64() -> None:
    X = np.array([[100, 0], [0, 100], [100, 100]], dtype=np.int8)
    y = np.array([1, 2, 3], dtype=np.int8)
    np.testing.assert_allclose(ridge_fit(X, y, 1.0).coef, ridge_fit(X.astype(float), y.astype(float), 1.0).coef)


# --- the LinearFit and LassoFit records -----------------------------------------------------------


def test_linear_fit_built_from_valid_fields_is_the_fit_ridge_fit_returns():
    fit = ridge_fit(np.eye(2), np.array([2.0, 4.0]), alpha=1.0)
    again = LinearFit(*fit)
    assert again == fit and again.coef is fit.coef and again.intercept is fit.intercept
    coef, intercept = LinearFit(coef=fit.coef, intercept=fit.intercept)
    assert coef is fit.coef and intercept == 0.0 and fit[0] is fit.coef
    assert repr(fit) == "LinearFit(coef=array([1., 2.]), intercept=0.0)"
    converted = LinearFit([1, 2], 3)
    assert converted.coef.dtype == np.float64 and converted.intercept == 3.0 and type(converted.intercept) is float
    assert fit._replace(intercept=1).intercept == 1.0


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"coef": None}, TypeError, "coef must be a 1-D real array, got NoneType None"),
        ({"coef": "ab"}, TypeError, "coef must be a 1-D real array, got str 'ab'"),
        ({"coef": np.ones((2, 2))}, ValueError, r"coef must be a 1-D real array of shape \(any,\), got shape \(2, 2\)"),
        ({"intercept": None}, TypeError, "intercept must be a real number, got NoneType None"),
        ({"intercept": True}, TypeError, "intercept must be a real number, got bool True"),
    ],
)
def test_linear_fit_rejects_a_bad_field_by_name(fields, error, message):
    fit = ridge_fit(np.eye(2), np.array([2.0, 4.0]), alpha=1.0)
    with pytest.raises(error, match=message):
        LinearFit(**{**fit._asdict(), **fields})
    with pytest.raises(error, match=message):
        fit._replace(**fields)


def _small_lasso() -> LassoFit:
    return lasso_fit(np.eye(2) * np.sqrt(2), np.array([2.0, 0.2]) * np.sqrt(2), alpha=0.5)


def test_lasso_fit_built_from_valid_fields_is_the_fit_lasso_fit_returns():
    fit = _small_lasso()
    again = LassoFit(*fit)
    assert again == fit and all(a is b for a, b in zip(again, fit))
    coef, intercept, n_iter, gap = fit
    assert LassoFit(coef=coef, intercept=intercept, n_iter=n_iter, duality_gap=gap) == fit
    assert type(fit.n_iter) is int and fit[2] == n_iter
    assert repr(fit).startswith("LassoFit(coef=array([1.5, 0. ]), intercept=0.0, n_iter=")
    assert repr(LassoFit([0, 1], 0, 0, 0)) == "LassoFit(coef=array([0., 1.]), intercept=0.0, n_iter=0, duality_gap=0.0)"


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"coef": None}, TypeError, "coef must be a 1-D real array, got NoneType None"),
        ({"coef": np.ones(2, dtype=complex)}, TypeError, "coef must be a 1-D real array, got ndarray"),
        ({"intercept": None}, TypeError, "intercept must be a real number, got NoneType None"),
        ({"n_iter": None}, TypeError, "n_iter must be an int, got NoneType None"),
        ({"n_iter": 2.0}, TypeError, "n_iter must be an int, got float 2.0"),
        ({"n_iter": -1}, ValueError, "n_iter must be an int >= 0, got -1"),
        ({"duality_gap": None}, TypeError, "duality_gap must be a real number, got NoneType None"),
        ({"duality_gap": "0"}, TypeError, "duality_gap must be a real number, got str '0'"),
    ],
)
def test_lasso_fit_rejects_a_bad_field_by_name(fields, error, message):
    fit = _small_lasso()
    with pytest.raises(error, match=message):
        LassoFit(**{**fit._asdict(), **fields})
    with pytest.raises(error, match=message):
        fit._replace(**fields)


# --- bad input found by tests/bad_inputs --------------------------------------------------------


def test_fit_records_hold_finite_values_and_a_non_negative_gap() -> None:
    with pytest.raises(ValueError, match="coef must be finite"):
        LinearFit(np.array([1.0, np.nan]), 0.0)
    with pytest.raises(ValueError, match="intercept must be a finite number, got inf"):
        LinearFit(np.ones(2), math.inf)
    with pytest.raises(ValueError, match="duality_gap must be a finite number >= 0, got -1.0"):
        LassoFit(np.ones(2), 0.0, 3, -1.0)


def test_w0_must_match_the_columns_of_X() -> None:
    X, y = np.eye(3), np.ones(3)
    for solve in (ridge_gradient_descent, lasso_fit):
        with pytest.raises(ValueError, match=r"w0 must have one entry per column of X, shape \(3,\), got shape \(2,\)"):
            solve(X, y, 0.1, w0=np.zeros(2))


def test_overflowing_data_is_a_named_error() -> None:
    X, y = np.eye(3), np.ones(3)
    with pytest.raises(ValueError, match="magnitudes of X, y and alpha are beyond float64's range"):
        ridge_fit(X * 1e200, y, 1.0)
    with pytest.raises(ValueError, match="magnitudes of X, y and alpha"):
        ridge_gradient_descent(X, y * 1e200, 1.0)
    with pytest.raises(ValueError, match="magnitudes of X, y and alpha"):
        ridge_gradient_descent(X * 1e200, y, 1.0)


def test_results_do_not_depend_on_memory_layout() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 4)), rng.normal(size=12)
    fit_c, fit_f = lasso_fit(X, y, 0.1), lasso_fit(np.asfortranarray(X), y, 0.1)
    assert fit_c.coef.tolist() == fit_f.coef.tolist() and fit_c.duality_gap == fit_f.duality_gap


def test_a_subnormal_tolerance_gives_a_warning_not_an_overflow() -> None:
    with pytest.warns(ConvergenceWarning, match="inf times the tolerance"):
        ridge_gradient_descent(np.eye(2), np.ones(2), 0.1, steps=1, tol=5e-324, learning_rate=0.01)
