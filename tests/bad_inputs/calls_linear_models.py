"""Valid calls of course_lib.linear_models, and the property each result must have.

A ridge or lasso result is checked by its optimality conditions, computed here in
``np.longdouble`` from the arguments of the call, not against the library's own solver.
"""

from __future__ import annotations

import numpy as np

from course_lib import linear_models

from .runner import Case

LD = np.longdouble


def _problem() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 4))
    y = X @ np.array([1.5, 0.0, -2.0, 0.0]) + 0.1 * rng.normal(size=12)
    return X, y


def _data(kwargs) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(kwargs["X"], dtype=LD), np.asarray(kwargs["y"], dtype=LD)


def _scale(X, y) -> LD:
    return max(np.abs(X).max(), 1) * max(np.abs(y).max(), 1) * X.shape[0]


def _verify_ridge(fit, kwargs) -> None:
    X, y = _data(kwargs)
    alpha = LD(kwargs["alpha"])
    assert isinstance(fit, linear_models.LinearFit) and fit.coef.shape == (X.shape[1],)
    w, b = fit.coef.astype(LD), LD(fit.intercept)
    residual = y - X @ w - b
    # Stationarity of ||y - Xw - b||^2 + alpha ||w||^2 (and of the intercept when it is fitted).
    assert np.all(np.abs(X.T @ residual - alpha * w) <= 1e-8 * (_scale(X, y) + alpha * np.abs(w).max())), "ridge KKT"
    if kwargs.get("fit_intercept", False):
        assert abs(residual.sum()) <= 1e-8 * _scale(X, y)
    else:
        assert b == 0


def _ridge_objective(X, y, alpha, w) -> LD:
    return np.sum((y - X @ w) ** 2) + alpha * np.sum(w**2)


def _verify_ridge_gradient_descent(w, kwargs) -> None:
    X, y = _data(kwargs)
    alpha = LD(kwargs["alpha"])
    assert isinstance(w, np.ndarray) and w.shape == (X.shape[1],)
    start = np.zeros(X.shape[1], dtype=LD) if kwargs.get("w0") is None else np.asarray(kwargs["w0"], dtype=LD)
    # Gradient descent with a step at most 2/L never increases the objective.
    assert _ridge_objective(X, y, alpha, w.astype(LD)) <= _ridge_objective(X, y, alpha, start) * (1 + 1e-12) + 1e-12


def _lasso_objective(X, y, alpha, w, b) -> LD:
    return np.sum((y - X @ w - b) ** 2) / (2 * X.shape[0]) + alpha * np.sum(np.abs(w))


def _verify_lasso(fit, kwargs) -> None:
    X, y = _data(kwargs)
    alpha = LD(kwargs["alpha"])
    assert isinstance(fit, linear_models.LassoFit) and fit.coef.shape == (X.shape[1],)
    assert 0 <= fit.n_iter <= kwargs.get("max_iter", 100_000) and fit.duality_gap >= 0
    w, b = fit.coef.astype(LD), LD(fit.intercept)
    if not kwargs.get("fit_intercept", False):
        assert b == 0
    # FISTA is a descent method from w0 (default 0): its result is no worse than the start.
    start = np.zeros(X.shape[1], dtype=LD) if kwargs.get("w0") is None else np.asarray(kwargs["w0"], dtype=LD)
    start_b = (y - X @ start).mean() if kwargs.get("fit_intercept", False) else LD(0)
    objective = _lasso_objective(X, y, alpha, w, b)
    assert objective <= _lasso_objective(X, y, alpha, start, start_b) * (1 + 1e-9) + 1e-12
    if fit.duality_gap <= 1e-9:
        # Converged: the duality gap bounds the distance of the objective to the optimum; check the
        # subgradient condition loosely on the coefficients that are clearly zero or clearly not.
        correlation = X.T @ (y - X @ w - b) / X.shape[0]
        assert np.all(np.abs(correlation) <= alpha * (1 + 1e-3) + 1e-6), "lasso KKT off the support"


def _verify_linear_fit(fit, kwargs) -> None:
    assert isinstance(fit, linear_models.LinearFit)
    np.testing.assert_array_equal(fit.coef, np.asarray(kwargs["coef"], dtype=float))
    assert fit.coef.dtype == np.float64 and fit.intercept == float(kwargs["intercept"])


def _verify_lasso_record(fit, kwargs) -> None:
    assert isinstance(fit, linear_models.LassoFit)
    np.testing.assert_array_equal(fit.coef, np.asarray(kwargs["coef"], dtype=float))
    assert fit.intercept == float(kwargs["intercept"]) and fit.n_iter == int(kwargs["n_iter"])
    assert fit.duality_gap == float(kwargs["duality_gap"]) and fit.duality_gap >= 0 and fit.n_iter >= 0


CASES = [
    Case(
        "linear_models.LinearFit",
        linear_models.LinearFit,
        lambda: dict(coef=np.array([1.0, -2.0]), intercept=0.5),
        _verify_linear_fit,
    ),
    Case(
        "linear_models.ridge_fit",
        linear_models.ridge_fit,
        lambda: dict(X=_problem()[0], y=_problem()[1], alpha=0.5, fit_intercept=True),
        _verify_ridge,
    ),
    Case(
        "linear_models.ridge_gradient_descent",
        linear_models.ridge_gradient_descent,
        lambda: dict(X=_problem()[0], y=_problem()[1], alpha=0.5, steps=3000, learning_rate=0.01, tol=1e-10, w0=np.full(4, 0.1)),
        _verify_ridge_gradient_descent,
    ),
    Case(
        "linear_models.LassoFit",
        linear_models.LassoFit,
        lambda: dict(coef=np.array([1.0, 0.0]), intercept=0.5, n_iter=12, duality_gap=1e-11),
        _verify_lasso_record,
    ),
    Case(
        "linear_models.lasso_fit",
        linear_models.lasso_fit,
        lambda: dict(X=_problem()[0], y=_problem()[1], alpha=0.1, fit_intercept=True, tol=1e-8, max_iter=500, w0=np.zeros(4)),
        _verify_lasso,
    ),
]
