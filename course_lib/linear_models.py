r"""Ridge and lasso regression matching scikit-learn's objectives.

The two penalized least-squares problems of the weight decay chapter, solved
exactly and with the objectives -- and so the meaning of ``alpha`` -- of
:class:`sklearn.linear_model.Ridge` and :class:`sklearn.linear_model.Lasso`:

* **Ridge** (L2): :func:`ridge_fit` solves the normal equations exactly (in
  primal or dual form); :func:`ridge_gradient_descent` reaches the same
  solution by plain gradient descent, for comparison.
* **Lasso** (L1; Tibshirani, 1996, "Regression Shrinkage and Selection via the
  Lasso", JRSS B 58): :func:`lasso_fit` iterates "gradient step, then
  soft-threshold" (:func:`course_lib.regularizers.soft_threshold`) with
  Nesterov momentum -- FISTA (Beck & Teboulle, 2009, "A Fast Iterative
  Shrinkage-Thresholding Algorithm for Linear Inverse Problems", SIAM J.
  Imaging Sciences 2) -- to a duality-gap tolerance, so small weights end
  *exactly* zero.

With the closed forms of :mod:`course_lib.regularizers` they let the chapter
check what gradient descent and the widgets show. An iterative solver that
runs out of its budget warns with :class:`ConvergenceWarning`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg

from course_lib._validation import (
    ValidatedTuple,
    check_finite,
    check_finite_real,
    check_int,
    check_non_negative,
    check_positive,
    overflow_is_an_error,
    real_array,
    record_array,
)
from course_lib.regularizers import _float_array

__all__ = [
    "ConvergenceWarning",
    "LinearFit",
    "ridge_fit",
    "ridge_gradient_descent",
    "LassoFit",
    "lasso_fit",
]


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at its iteration budget before meeting its tolerance."""


# --- ridge regression --------------------------------------------------------------------------

class _LinearFitFields(NamedTuple):
    coef: np.ndarray
    intercept: float


class LinearFit(ValidatedTuple, _LinearFitFields):
    """Coefficients ``coef`` (shape ``(d,)``) and ``intercept`` of a fitted linear model.

    A named tuple ``(coef, intercept)``; the constructor checks that ``coef`` is a finite 1-D real
    array and ``intercept`` a finite real number (``TypeError``/``ValueError`` naming the field).
    """

    __slots__ = ()

    def __new__(cls, coef: np.ndarray, intercept: float) -> LinearFit:
        coef = check_finite("coef", record_array("coef", coef, (None,)))
        return super().__new__(cls, coef, check_finite_real("intercept", intercept))


def _check_start(w0: Any, d: int) -> np.ndarray:
    """The starting point ``w0`` as a finite float64 vector with one entry per column of X."""
    w0 = check_finite("w0", real_array("w0", w0))
    if w0.shape != (d,):
        raise ValueError(f"w0 must have one entry per column of X, shape ({d},), got shape {w0.shape}")
    return w0


def _check_regression_data(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = _float_array("X", X, 2)
    y = _float_array("y", y, 1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    return X, y


def _centre(X: np.ndarray, y: np.ndarray, fit_intercept: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    if not fit_intercept:
        return X, y, np.zeros(X.shape[1]), 0.0
    x_mean, y_mean = X.mean(axis=0), float(y.mean())
    return X - x_mean, y - y_mean, x_mean, y_mean


def ridge_fit(X: np.ndarray, y: np.ndarray, alpha: float, fit_intercept: bool = False) -> LinearFit:
    r"""Exact ridge regression with scikit-learn's objective.

    .. math::
        \min_{w,\,b}\; \|y - Xw - b\mathbf 1\|_2^2 + \alpha\,\|w\|_2^2

    — the objective of :class:`sklearn.linear_model.Ridge`: a plain sum of
    squares, with **no** :math:`1/n` and **no** :math:`\tfrac12`. (Halving both
    terms gives :math:`\tfrac12\|y - Xw\|^2 + \tfrac{\alpha}{2}\|w\|^2`, the
    same minimiser; a *mean* squared error with penalty
    :math:`\tfrac{\lambda}{2}\|w\|^2` corresponds to :math:`\alpha = n\lambda`.)
    The intercept is not penalised.

    Solved exactly: the primal normal equations
    :math:`(X^\top X + \alpha I)\,w = X^\top y` when :math:`n \ge d`, the dual
    form :math:`w = X^\top (X X^\top + \alpha I)^{-1} y` when :math:`n < d`
    (an :math:`n\times n` system). With ``fit_intercept`` the columns of
    :math:`X` and :math:`y` are centred first and
    :math:`b = \bar y - \bar x^\top w`. ``alpha = 0`` gives the minimum-norm
    least-squares solution.

    Args:
        X: design matrix, shape ``(n, d)``.
        y: targets, shape ``(n,)``.
        alpha: penalty strength :math:`\alpha \ge 0`.
        fit_intercept: fit an unpenalised intercept :math:`b`.

    Returns:
        :class:`LinearFit` ``(coef, intercept)``.

    Example:
        >>> fit = ridge_fit(np.eye(2), np.array([2.0, 4.0]), alpha=1.0)
        >>> fit.coef.round(12).tolist(), fit.intercept
        ([1.0, 2.0], 0.0)
    """
    X, y = _check_regression_data(X, y)
    alpha = check_non_negative("alpha", alpha)
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept must be a bool, got {type(fit_intercept).__name__} {fit_intercept!r}")
    with overflow_is_an_error("X, y and alpha"):
        Xc, yc, x_mean, y_mean = _centre(X, y, bool(fit_intercept))
        n, d = Xc.shape
        if alpha == 0.0:
            coef = np.linalg.lstsq(Xc, yc, rcond=None)[0]
        elif n >= d:
            coef = _solve_spd(Xc.T @ Xc + alpha * np.eye(d), Xc.T @ yc)
        else:
            coef = Xc.T @ _solve_spd(Xc @ Xc.T + alpha * np.eye(n), yc)
        return LinearFit(coef=coef, intercept=float(y_mean - x_mean @ coef))


def _check_not_diverged(X: np.ndarray, alpha: float, learning_rate: float, step: int, gradient_norm: float) -> None:
    """Raise ValueError if gradient descent overflowed or its step size is at least 2/L (it cannot converge)."""
    lipschitz = 2.0 * (float(np.linalg.norm(X, 2)) ** 2 + alpha)
    limit = 2.0 / lipschitz
    if learning_rate >= limit:
        state = "overflowed" if not math.isfinite(gradient_norm) else f"gradient norm {gradient_norm:.3g}"
        raise ValueError(
            f"ridge_gradient_descent diverged ({state} after {step} steps): learning_rate={learning_rate!r} "
            f"must be < 2/L = {limit:.6g}, where L = 2 (sigma_max(X)^2 + alpha) = {lipschitz:.6g}"
        )
    if not math.isfinite(gradient_norm):
        raise ValueError(
            f"ridge_gradient_descent overflowed after {step} steps although learning_rate={learning_rate!r} "
            f"< 2/L = {limit:.6g}: X, y or w0 is too large for float64; scale them"
        )


def _solve_spd(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve a symmetric positive definite system by Cholesky (LU if rounding defeats Cholesky)."""
    try:
        return scipy.linalg.solve(matrix, rhs, assume_a="pos")
    except np.linalg.LinAlgError:
        return np.linalg.solve(matrix, rhs)


def ridge_gradient_descent(
    X: np.ndarray,
    y: np.ndarray,
    alpha: float,
    *,
    steps: int = 10_000,
    learning_rate: float | None = None,
    tol: float = 1e-12,
    w0: np.ndarray | None = None,
) -> np.ndarray:
    r"""Plain gradient descent on the ridge objective :math:`f(w) = \|y - Xw\|^2 + \alpha\|w\|^2` (no intercept).

    .. math::
        \nabla f(w) = 2\,X^\top (Xw - y) + 2\alpha w, \qquad
        w_{k+1} = w_k - \eta\,\nabla f(w_k), \qquad
        \eta = 1/L,\; L = 2\,(\sigma_{\max}(X)^2 + \alpha),

    where :math:`L` is the Lipschitz constant of :math:`\nabla f`. The iterates
    converge linearly to :func:`ridge_fit`'s solution, at rate
    :math:`1 - (\sigma_{\min}^2 + \alpha)/(\sigma_{\max}^2 + \alpha)` per step:
    weight decay also makes the problem better conditioned.

    Stops when :math:`\|\nabla f(w)\| \le \text{tol}\,(1 + \|X^\top y\|)`; if
    ``steps`` run out first, emits :class:`ConvergenceWarning` saying how far
    from converged the last iterate is. Gradient descent on this quadratic
    converges only for :math:`\eta < 2/L`: if the iterates overflow, or the
    steps run out with ``learning_rate >= 2/L``, a ``ValueError`` says that it
    diverged and gives :math:`L` and :math:`2/L` (never a NaN result).

    Args:
        X: design matrix, shape ``(n, d)``.
        y: targets, shape ``(n,)``.
        alpha: :math:`\alpha \ge 0`.
        steps: maximum number of steps (``>= 0``).
        learning_rate: step size :math:`\eta > 0`; default :math:`1/L`.
        tol: relative tolerance on the gradient norm (``> 0``).
        w0: starting point, shape ``(d,)``; default zeros.

    Returns:
        The last iterate, a new array of shape ``(d,)``.
    """
    X, y = _check_regression_data(X, y)
    alpha = check_non_negative("alpha", alpha)
    steps = check_int("steps", steps, minimum=0)
    tol = check_positive("tol", tol)
    n, d = X.shape
    w = np.zeros(d) if w0 is None else _check_start(w0, d)
    if learning_rate is not None:
        learning_rate = check_positive("learning_rate", learning_rate)
    with overflow_is_an_error("X, y and alpha"):
        if learning_rate is None:
            learning_rate = 1.0 / (2.0 * (np.linalg.norm(X, 2) ** 2 + alpha))
        Xty = X.T @ y
        gram = X.T @ X if d <= n else None  # d*d flops per step instead of 2*n*d
        threshold = tol * (1.0 + np.linalg.norm(Xty))
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected below and explained
        for step in range(steps + 1):
            Xtx = gram @ w if gram is not None else X.T @ (X @ w)
            gradient = 2.0 * (Xtx - Xty + alpha * w)
            gradient_norm = float(np.linalg.norm(gradient))
            if gradient_norm <= threshold:
                return w
            if not math.isfinite(gradient_norm) or step == steps:
                break
            w = w - learning_rate * gradient
    _check_not_diverged(X, alpha, learning_rate, step, gradient_norm)
    with np.errstate(over="ignore"):  # a subnormal tolerance makes the ratio overflow: inf is the truth
        times = np.float64(gradient_norm) / threshold
    warnings.warn(
        f"ridge_gradient_descent stopped after {steps} steps with gradient norm {gradient_norm:.3g}, "
        f"{times:.3g} times the tolerance {threshold:.3g}; increase steps",
        ConvergenceWarning,
        stacklevel=2,
    )
    return w


# --- the lasso ---------------------------------------------------------------------------------

class _LassoFitFields(NamedTuple):
    coef: np.ndarray
    intercept: float
    n_iter: int
    duality_gap: float


class LassoFit(ValidatedTuple, _LassoFitFields):
    """Result of :func:`lasso_fit`: coefficients, intercept, iterations used and the final duality gap.

    A named tuple ``(coef, intercept, n_iter, duality_gap)``; the constructor checks that ``coef``
    is a finite 1-D real array, ``n_iter`` an int >= 0, ``intercept`` a finite number and ``duality_gap``
    a finite number >= 0 (``TypeError``/``ValueError`` naming the field).
    """

    __slots__ = ()

    def __new__(cls, coef: np.ndarray, intercept: float, n_iter: int, duality_gap: float) -> LassoFit:
        return super().__new__(
            cls,
            check_finite("coef", record_array("coef", coef, (None,))),
            check_finite_real("intercept", intercept),
            check_int("n_iter", n_iter, minimum=0),
            check_non_negative("duality_gap", duality_gap),
        )


class _LeastSquares:
    """The smooth part (1/2n)‖y − Xw‖² of the lasso, with its products through one matrix A.

    A is X (so Aw = Xw) or, when d < 2n, the Gram matrix G = XᵀX (so Aw = Gw), whichever
    makes a product cheaper. A product with a sparse w reads only the columns on its
    support, which is most of FISTA's work once the iterates are sparse.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        n, d = X.shape
        self.n, self.X, self.y = n, X, y
        self.Xty = X.T @ y
        self.yty = float(y @ y)
        self.uses_gram = d < 2 * n
        self.A = X.T @ X if self.uses_gram else X
        # row j is column j of A (G is symmetric), contiguous for gathering a support
        self.columns = self.A if self.uses_gram else np.ascontiguousarray(X.T)

    def lipschitz_estimate(self, iterations: int = 10) -> float:
        """A lower estimate of σ_max(X)²/n, the Lipschitz constant of the gradient, by power iteration.

        Power iteration on XᵀX from Xᵀy; the Rayleigh quotient never exceeds σ_max², and
        FISTA's backtracking raises the estimate wherever the quadratic model needs it.
        """
        v = self.Xty if np.any(self.Xty) else np.ones(self.X.shape[1])
        v = v / np.abs(v).max()  # first to the scale of 1, so the norm cannot overflow
        v = v / np.linalg.norm(v)
        estimate = 0.0
        for _ in range(iterations):
            Xv = self.X @ v
            estimate = float(Xv @ Xv)  # Rayleigh quotient vᵀXᵀXv with ‖v‖ = 1: at most σ_max²
            if not math.isfinite(estimate):  # X @ v overflowed: lasso_fit reports it
                return math.inf
            v = Xv @ self.X  # = XᵀXv without transposing X
            if not np.all(np.isfinite(v)):  # XᵀXv overflowed: so would every gradient step
                return math.inf
            norm = np.linalg.norm(v)
            if norm == 0.0:
                break
            v /= norm
        return max(estimate, np.finfo(float).tiny) / self.n

    def value(self, w: np.ndarray, Aw: np.ndarray) -> float:
        """The smooth part (1/2n)‖y − Xw‖², given Aw."""
        if self.uses_gram:
            return max(self.yty - 2.0 * float(w @ self.Xty) + float(w @ Aw), 0.0) / (2 * self.n)
        r = self.y - Aw
        return float(r @ r) / (2 * self.n)

    def product(self, w: np.ndarray) -> np.ndarray:
        """Aw, through the columns on w's support when w is sparse."""
        support = np.flatnonzero(w)
        if support.size < 0.3 * w.size:
            return w[support] @ self.columns[support]
        return self.A @ w

    def gradient(self, Aw: np.ndarray) -> np.ndarray:
        """Gradient −Xᵀ(y − Xw)/n of the smooth part, given Aw."""
        if self.uses_gram:
            return (Aw - self.Xty) / self.n
        return self.columns @ (Aw - self.y) / self.n

    def duality_gap(self, w: np.ndarray, Aw: np.ndarray, alpha: float) -> float:
        r"""Duality gap of (1/2n)‖y − Xw‖² + α‖w‖₁ at w, with the dual point rescaled to be feasible."""
        if self.uses_gram:
            w_dot_Xty = float(w @ self.Xty)
            correlation = self.Xty - Aw  # Xᵀr for r = y − Xw
            r_norm2 = max(self.yty - 2.0 * w_dot_Xty + float(w @ Aw), 0.0)
            r_dot_y = self.yty - w_dot_Xty
        else:
            r = self.y - Aw
            correlation, r_norm2, r_dot_y = self.columns @ r, float(r @ r), float(r @ self.y)
        penalty = self.n * alpha  # the gap is computed for ½‖r‖² + nα‖w‖₁, then divided by n
        dual_norm = float(np.max(np.abs(correlation), initial=0.0))
        scale = 1.0 if dual_norm <= penalty else penalty / dual_norm
        gap = 0.5 * r_norm2 * (1.0 + scale**2) + penalty * float(np.abs(w).sum()) - scale * r_dot_y
        return gap / self.n

    def solve_on_support(self, w: np.ndarray, alpha: float) -> np.ndarray | None:
        """Exact lasso solution if w's support and signs are the right ones: X_Sᵀ X_S w_S = X_Sᵀ y − nα s_S."""
        support = np.flatnonzero(w)
        if support.size == 0 or support.size > self.n:
            return None
        signs = np.sign(w[support])
        if self.uses_gram:
            system = self.A[np.ix_(support, support)]
        else:
            columns = self.columns[support]
            system = columns @ columns.T
        try:
            with warnings.catch_warnings():  # a singular X_S (e.g. more columns than rank) just means "not yet"
                warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
                values = scipy.linalg.solve(system, self.Xty[support] - self.n * alpha * signs, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
            return None
        if not np.all(np.isfinite(values)) or np.any(np.sign(values) != signs):
            return None
        candidate = np.zeros_like(w)
        candidate[support] = values
        return candidate


def lasso_fit(
    X: np.ndarray,
    y: np.ndarray,
    alpha: float,
    *,
    fit_intercept: bool = False,
    tol: float = 1e-10,
    max_iter: int = 100_000,
    w0: np.ndarray | None = None,
) -> LassoFit:
    r"""The lasso with scikit-learn's objective, solved by FISTA to a duality-gap tolerance.

    .. math::
        \min_{w,\,b}\; \frac{1}{2n}\|y - Xw - b\mathbf 1\|_2^2 + \alpha\,\|w\|_1

    — the objective of :class:`sklearn.linear_model.Lasso` (note the
    :math:`1/(2n)`, unlike :func:`ridge_fit`). The intercept is not penalised;
    with ``fit_intercept`` the columns of :math:`X` and :math:`y` are centred
    and :math:`b = \bar y - \bar x^\top w`.

    **Algorithm.** FISTA with backtracking (Beck & Teboulle, 2009): a gradient
    step of size :math:`1/L` on the smooth part, then the proximal step
    :func:`course_lib.regularizers.soft_threshold` with threshold :math:`\alpha/L`, with Nesterov
    momentum and adaptive restart (O'Donoghue & Candès, 2015: the momentum is
    reset whenever it points uphill). :math:`L` starts from a power-iteration
    estimate of :math:`\sigma_{\max}(X)^2/n`, the Lipschitz constant of the
    gradient, and is raised by 25% whenever the quadratic upper model of the
    smooth part fails at the new point, so every step is a descent step without
    computing :math:`\sigma_{\max}` exactly. Every 5 iterations:

    * the **duality gap** is computed as scikit-learn does: the residual
      :math:`r = y - Xw` is rescaled to the dual-feasible point
      :math:`\theta = r\,\min(1, n\alpha/\|X^\top r\|_\infty)` and
      :math:`\text{gap} = P(w) - D(\theta) \ge P(w) - P(w^\star) \ge 0`.
      The fit stops when :math:`\text{gap} \le \text{tol}\cdot\|y\|^2/n`
      (scikit-learn's criterion, with our objective scaled by :math:`1/n`);
    * an **exact refinement** solves the optimality conditions on the current
      support :math:`S` and signs :math:`s`,
      :math:`X_S^\top X_S\, w_S = X_S^\top y - n\alpha\, s_S`; the candidate
      is kept only if its signs agree and its duality gap is smaller. Once
      FISTA has found the support this lands on the solution to rounding
      error.

    If ``alpha >= alpha_max`` :math:`= \|X^\top y\|_\infty / n` (after
    centring), :math:`w = 0` satisfies the optimality conditions and the exact
    zero vector is returned at once (``n_iter = 0``).

    Args:
        X: design matrix, shape ``(n, d)``; any ``n`` and ``d`` (``n < d`` is fine).
        y: targets, shape ``(n,)``.
        alpha: :math:`\alpha > 0` (for :math:`\alpha = 0` use :func:`ridge_fit`
            with ``alpha=0``, i.e. least squares).
        fit_intercept: fit an unpenalised intercept.
        tol: relative duality-gap tolerance (``> 0``).
        max_iter: iteration budget; if it runs out, :class:`ConvergenceWarning`
            reports the gap reached and the last iterate is returned. Each iteration's
            backtracking is bounded too: data so large that :math:`X^\top X`, :math:`X^\top y`,
            :math:`y^\top y` or the objective overflow float64 (``X * 1e200``) raise
            ``ValueError`` ("... overflows float64 ...: scale X and y") instead of looping.
        w0: starting point, shape ``(d,)``; default zeros.

    Returns:
        :class:`LassoFit` ``(coef, intercept, n_iter, duality_gap)``, the gap
        in the units of the objective above.

    Example:
        >>> fit = lasso_fit(np.eye(2) * np.sqrt(2), np.array([2.0, 0.2]) * np.sqrt(2), alpha=0.5)
        >>> fit.coef.round(12).tolist()
        [1.5, 0.0]
    """
    X, y = _check_regression_data(X, y)
    alpha = check_non_negative("alpha", alpha)
    if alpha == 0.0:
        raise ValueError(
            "alpha must be > 0 for lasso_fit, got 0.0: without the penalty the problem is least squares "
            "(use ridge_fit(X, y, alpha=0.0) or np.linalg.lstsq for the minimum-norm solution)"
        )
    tol = check_positive("tol", tol)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise TypeError(f"fit_intercept must be a bool, got {type(fit_intercept).__name__} {fit_intercept!r}")
    Xc, yc, x_mean, y_mean = _centre(X, y, bool(fit_intercept))
    n, d = Xc.shape
    w = np.zeros(d) if w0 is None else _check_start(w0, d)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is detected and explained instead
        problem = _LeastSquares(Xc, yc)
    _check_no_overflow(problem)

    def result(coef: np.ndarray, n_iter: int, gap: float) -> LassoFit:
        coef = coef + 0.0  # no negative zeros from the soft-thresholding
        # A duality gap is >= 0; rounding can leave the computed one a few ulps below zero.
        return LassoFit(coef=coef, intercept=float(y_mean - x_mean @ coef), n_iter=n_iter, duality_gap=max(gap, 0.0))

    alpha_max = float(np.max(np.abs(problem.Xty))) / n
    if alpha >= alpha_max:
        zero = np.zeros(d)
        return result(zero, 0, problem.duality_gap(zero, problem.product(zero), alpha))
    gap_tolerance = tol * problem.yty / n
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite objective raises in _fista
        w, n_iter, gap = _fista(problem, alpha, w, gap_tolerance, max_iter)
    if gap > gap_tolerance:
        warnings.warn(
            f"lasso_fit did not converge in {max_iter} iterations: duality gap {gap:.3g} > tolerance "
            f"{gap_tolerance:.3g} (tol={tol:g} times ||y||^2/n); increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=2,
        )
    return result(w, n_iter, gap)


_MAX_BACKTRACKS = 10_000  # 1.25**10_000 overflows: L reaches inf (and the check below fires) long before


def _check_no_overflow(problem: _LeastSquares) -> None:
    """ValueError if a product FISTA needs (Xᵀy, yᵀy, XᵀX) overflows float64: every step would be NaN."""
    products = {"X.T @ y": problem.Xty, "y @ y": problem.yty}
    if problem.uses_gram:
        products["X.T @ X"] = problem.A
    for label, value in products.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(
                f"{label} overflows float64 (max |X| = {np.abs(problem.X).max():.3g}, "
                f"max |y| = {np.abs(problem.y).max():.3g}): scale X and y"
            )


def _overflow_error(lipschitz: float) -> ValueError:
    """The error for a least-squares objective (or its Lipschitz constant L) that is not finite."""
    if not math.isfinite(lipschitz):
        return ValueError("lasso_fit: sigma_max(X)^2 (the Lipschitz constant L) overflows float64: scale X and y")
    return ValueError(
        f"lasso_fit: the least-squares objective is not finite at step size 1/L with L = {lipschitz:.3g} "
        "(X @ w or X * step overflows float64): scale X and y"
    )


def _fista(
    problem: _LeastSquares, alpha: float, w: np.ndarray, gap_tolerance: float, max_iter: int, check_every: int = 5
) -> tuple[np.ndarray, int, float]:
    """FISTA with backtracking, gradient-based adaptive restart, duality-gap checks and support refinement.

    Keeps Aw and Az (A = X or XᵀX) alongside the iterate w and the momentum point z:
    Az = Aw_next + β (Aw_next − Aw) costs nothing, and Aw_next is a sparse product.
    """
    lipschitz = problem.lipschitz_estimate()
    if not math.isfinite(lipschitz):
        raise _overflow_error(lipschitz)
    rounding = 1e-12 * problem.yty / problem.n  # slack for rounding in the sufficient-decrease test
    Aw = problem.product(w)
    z, Az, t = w.copy(), Aw.copy(), 1.0
    previous_support: np.ndarray | None = None
    gap = math.inf
    for iteration in range(1, max_iter + 1):
        gradient = problem.gradient(Az)
        value_z = problem.value(z, Az)
        for _ in range(_MAX_BACKTRACKS):  # backtracking (Beck & Teboulle, 2009): raise L until the model bounds f
            step = 1.0 / lipschitz
            v = z - step * gradient
            w_next = np.sign(v) * np.maximum(np.abs(v) - step * alpha, 0.0)  # soft_threshold, without its checks
            Aw_next = problem.product(w_next)
            d = w_next - z
            bound = value_z + float(gradient @ d) + 0.5 * lipschitz * float(d @ d)
            value_next = problem.value(w_next, Aw_next)
            if value_next <= bound + rounding:
                break
            if not (math.isfinite(value_next) and math.isfinite(bound)):
                raise _overflow_error(lipschitz)
            lipschitz *= 1.25
        else:
            raise _overflow_error(lipschitz)
        if (z - w_next) @ (w_next - w) > 0.0:  # momentum points uphill: restart it
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        z, Az = w_next + beta * (w_next - w), Aw_next + beta * (Aw_next - Aw)
        w, Aw, t = w_next, Aw_next, t_next
        if iteration % check_every and iteration != max_iter:
            continue
        gap = problem.duality_gap(w, Aw, alpha)
        support = w != 0
        stable = previous_support is not None and np.array_equal(support, previous_support)
        if stable or gap <= gap_tolerance:  # also polish a converged iterate: the gap bounds the objective, not w
            candidate = problem.solve_on_support(w, alpha)
            if candidate is not None:
                A_candidate = problem.product(candidate)
                candidate_gap = problem.duality_gap(candidate, A_candidate, alpha)
                if candidate_gap < gap:
                    w, Aw, gap = candidate, A_candidate, candidate_gap
                    z, Az, t = w.copy(), Aw.copy(), 1.0
        previous_support = support
        if math.isnan(gap):
            raise _overflow_error(lipschitz)
        if gap <= gap_tolerance:
            return w, iteration, gap
    return w, max_iter, gap
