"""Tests for the weight-decay checkers: the references pass, typical wrong answers are rejected helpfully."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from course_lib.checks.weight_decay import (
    RIDGE_ALPHAS,
    RIDGE_CASE_ALPHA,
    RIDGE_CASE_EXPECTED,
    RIDGE_CASE_X,
    RIDGE_CASE_Y,
    RIDGE_PROBLEMS,
    RIDGE_SEED,
    SOFT_CASE_EXPECTED,
    SOFT_CASE_THRESHOLD,
    SOFT_CASE_W,
    STEP_CASE_DECAY,
    STEP_CASE_EXPECTED,
    STEP_CASE_GRAD,
    STEP_CASE_LR,
    STEP_CASE_W,
    _RIDGE_MISTAKES,
    _SOFT_MISTAKES,
    _STEP_MISTAKES,
    _prox_objective,
    _ridge_problem,
    _ridge_reference,
    _soft_threshold,
    check_ridge_fit,
    check_sgd_decoupled_step,
    check_sgd_l2_step,
    check_soft_threshold,
)

from .checker_assertions import (
    assert_every_property_holds,
    assert_fails_exactly,
    assert_one_root_cause,
    assert_output_is_deterministic,
    assert_rejected,
    assert_stub_told_once,
    failed_names,
    not_implemented,
)

L2_LINES = 8
DECOUPLED_LINES = 9
SOFT_LINES = 10
RIDGE_LINES = 10


# --- helpers -------------------------------------------------------------------------------


# --- reference implementations (what the exercise solutions do) -----------------------------


def _validate_step(lr: float, weight_decay: float) -> None:
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")


def sgd_l2_step(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return w - lr * (grad + weight_decay * w)


def sgd_decoupled_step(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return (1 - lr * weight_decay) * w - lr * grad


def soft_threshold(w, threshold):
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")
    return np.where(np.abs(w) > threshold, w - threshold * np.sign(w), 0.0)


def ridge_fit(X, y, alpha):
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be 2-D and y of shape (n,), got {X.shape} and {y.shape}")
    return np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y)


def ridge_fit_dual(X, y, alpha):
    """Another right answer: w = Xᵀ(XXᵀ + alpha·I)⁻¹y, cheaper when n < d (needs alpha > 0 or full row rank)."""
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be 2-D and y of shape (n,), got {X.shape} and {y.shape}")
    n, d = X.shape
    if n >= d:
        return np.linalg.solve(X.T @ X + alpha * np.eye(d), X.T @ y)
    return X.T @ np.linalg.solve(X @ X.T + alpha * np.eye(n), y)


def soft_threshold_in_torch(w, threshold):
    """A right answer computed with torch: returns a tensor, which the checker accepts."""
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")
    tensor = torch.as_tensor(w)
    return torch.sign(tensor) * torch.clamp(tensor.abs() - threshold, min=0.0)


# --- wrong steps (shared by both step exercises where the mistake is the same) --------------


def step_uphill(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return w + lr * (grad + weight_decay * w)


def step_decay_sign_flipped(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return w - lr * (grad - weight_decay * w)


def step_decay_without_lr(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return w - lr * grad - weight_decay * w


def step_half_penalty(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return w - lr * (grad + 0.5 * weight_decay * w)


def step_double_penalty(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return w - lr * (grad + 2 * weight_decay * w)


def step_factor_after_update(w, grad, lr, weight_decay):
    """(w - lr·grad)·(1 - λ): the decay as a factor, not multiplied by lr, on the updated weights."""
    _validate_step(lr, weight_decay)
    return (w - lr * grad) * (1 - weight_decay)


def step_decays_updated_weights(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return (1 - lr * weight_decay) * (w - lr * grad)


def step_adds_gradient(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return (1 - lr * weight_decay) * w + lr * grad


def step_ignores_decay(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    return w - lr * grad


def step_in_place(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    w -= lr * (grad + weight_decay * w)
    return w


def step_modifies_grad(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    grad += weight_decay * w
    return w - lr * grad


def step_without_validation(w, grad, lr, weight_decay):
    return w - lr * (grad + weight_decay * w)


def step_rejects_zero_decay(w, grad, lr, weight_decay):
    if lr <= 0 or weight_decay <= 0:
        raise ValueError("lr and weight_decay must be > 0")
    return w - lr * (grad + weight_decay * w)


def step_returns_nothing(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    w - lr * (grad + weight_decay * w)


def step_multiplies_a_list(w, grad, lr, weight_decay):
    _validate_step(lr, weight_decay)
    decay = weight_decay * list(w)  # TypeError: can't multiply sequence by non-int of type 'float'
    return w - lr * (grad + decay)


def step_fails_on_matrices(w, grad, lr, weight_decay):
    """Right for vectors; raises TypeError on a 2-D w, half-way through the checker's properties."""
    _validate_step(lr, weight_decay)
    if w.ndim != 1:
        raise TypeError(f"expected a vector, got an array with {w.ndim} dimensions")
    return w - lr * (grad + weight_decay * w)


# --- wrong soft_threshold ------------------------------------------------------------------


def _validate_threshold(threshold: float) -> None:
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold!r}")


def hard_threshold(w, threshold):
    _validate_threshold(threshold)
    return w * (np.abs(w) > threshold)


def hard_threshold_inclusive(w, threshold):
    _validate_threshold(threshold)
    return np.where(np.abs(w) >= threshold, w, 0.0)


def shrinks_without_zeroing(w, threshold):
    _validate_threshold(threshold)
    return w - threshold * np.sign(w)


def loses_the_sign(w, threshold):
    _validate_threshold(threshold)
    return np.maximum(np.abs(w) - threshold, 0.0)


def zeroes_negative_weights(w, threshold):
    _validate_threshold(threshold)
    return np.maximum(w - threshold, 0.0)


def halves_the_threshold(w, threshold):
    _validate_threshold(threshold)
    return np.sign(w) * np.maximum(np.abs(w) - threshold / 2, 0.0)


def clips(w, threshold):
    _validate_threshold(threshold)
    return np.clip(w, -threshold, threshold)


def thresholds_in_place(w, threshold):
    _validate_threshold(threshold)
    survivors = np.abs(w) > threshold
    w[~survivors] = 0.0
    w[survivors] -= threshold * np.sign(w[survivors])
    return w


def soft_threshold_without_validation(w, threshold):
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)


def soft_threshold_of_a_list(w, threshold):
    _validate_threshold(threshold)
    return [max(abs(v) - threshold, 0.0) * (1 if v > 0 else -1) for v in np.ravel(w)]


# --- wrong ridge_fit -----------------------------------------------------------------------


def _validate_ridge(X, y, alpha) -> None:
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be 2-D and y of shape (n,), got {X.shape} and {y.shape}")


def ridge_half_alpha(X, y, alpha):
    _validate_ridge(X, y, alpha)
    return np.linalg.solve(X.T @ X + alpha / 2 * np.eye(X.shape[1]), X.T @ y)


def ridge_alpha_times_n(X, y, alpha):
    _validate_ridge(X, y, alpha)
    return np.linalg.solve(X.T @ X + len(X) * alpha * np.eye(X.shape[1]), X.T @ y)


def ridge_alpha_on_every_entry(X, y, alpha):
    _validate_ridge(X, y, alpha)
    return np.linalg.solve(X.T @ X + alpha, X.T @ y)


def ridge_without_alpha(X, y, alpha):
    _validate_ridge(X, y, alpha)
    return np.linalg.pinv(X) @ y


def ridge_solves_the_dual_system(X, y, alpha):
    """Returns the n dual coefficients (XXᵀ + alpha·I)⁻¹y instead of w."""
    _validate_ridge(X, y, alpha)
    return np.linalg.solve(X @ X.T + alpha * np.eye(len(X)), y)


def ridge_column_vector(X, y, alpha):
    _validate_ridge(X, y, alpha)
    return np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y.reshape(-1, 1))


def ridge_singular_without_alpha(X, y, alpha):
    """Forgets alpha and factorises XᵀX, which fails as soon as n < d."""
    _validate_ridge(X, y, alpha)
    gram = X.T @ X
    if np.linalg.matrix_rank(gram) < gram.shape[0]:
        raise np.linalg.LinAlgError("Singular matrix")
    return np.linalg.solve(gram, X.T @ y)


def ridge_centres_in_place(X, y, alpha):
    _validate_ridge(X, y, alpha)
    X -= X.mean(axis=0)
    y -= y.mean()
    return np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y)


def ridge_without_validation(X, y, alpha):
    return np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y)


def ridge_rejects_zero_alpha(X, y, alpha):
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    return ridge_fit(X, y, alpha)


def ridge_subtracts_alpha(X, y, alpha):
    _validate_ridge(X, y, alpha)
    return np.linalg.solve(X.T @ X - alpha * np.eye(X.shape[1]) * 1e-3, X.T @ y)


def ridge_with_a_string_alpha(X, y, alpha):
    _validate_ridge(X, y, alpha)
    return np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y, alpha)  # TypeError: too many arguments


# --- the references pass -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checker", "fn", "count"),
    [
        (check_sgd_l2_step, sgd_l2_step, L2_LINES),
        (check_sgd_l2_step, sgd_decoupled_step, L2_LINES),  # for SGD the two forms are one update
        (check_sgd_decoupled_step, sgd_decoupled_step, DECOUPLED_LINES),
        (check_sgd_decoupled_step, sgd_l2_step, DECOUPLED_LINES),
        (check_soft_threshold, soft_threshold, SOFT_LINES),
        (check_soft_threshold, soft_threshold_in_torch, SOFT_LINES),
        (check_ridge_fit, ridge_fit, RIDGE_LINES),
        (check_ridge_fit, ridge_fit_dual, RIDGE_LINES),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value),
)
def test_reference_implementation_passes_every_property(checker, fn, count, capsys) -> None:
    report = checker(fn)
    assert_every_property_holds(report, capsys.readouterr().out, count)


def test_measured_values_are_printed(capsys) -> None:
    check_sgd_l2_step(sgd_l2_step)
    check_ridge_fit(ridge_fit)
    out = capsys.readouterr().out
    assert "0.999 (lr = 0.1, weight_decay = 0.01): w × 0.999000 per step; 0.999^1000 = 0.3677" in out
    assert "‖w‖ = 2.273, 2.265, 2.194, 1.692, 0.5741, 0.08097" in out


# --- the hand-made cases and the models of typical mistakes ---------------------------------


def test_step_case_is_exact_and_every_step_mistake_gives_its_own_answer() -> None:
    w, grad = np.array(STEP_CASE_W), np.array(STEP_CASE_GRAD)
    for reference in (sgd_l2_step, sgd_decoupled_step):
        assert np.array_equal(reference(w, grad, STEP_CASE_LR, STEP_CASE_DECAY), STEP_CASE_EXPECTED)
    answers = [tuple(m.update(w, grad, STEP_CASE_LR, STEP_CASE_DECAY)) for m in _STEP_MISTAKES.values()]
    assert STEP_CASE_EXPECTED not in answers
    assert min(np.max(np.abs(np.subtract(a, b))) for i, a in enumerate(answers) for b in answers[:i]) > 1e-3


def test_the_decay_applied_after_the_step_differs_by_lr_squared_times_decay_times_grad() -> None:
    w, grad = np.array(STEP_CASE_W), np.array(STEP_CASE_GRAD)
    lr, decay = STEP_CASE_LR, STEP_CASE_DECAY
    difference = _STEP_MISTAKES["after"].update(w, grad, lr, decay) - sgd_decoupled_step(w, grad, lr, decay)
    assert np.allclose(difference, lr**2 * decay * grad, rtol=1e-12, atol=0)


def test_soft_case_and_every_soft_mistake_gives_its_own_answer() -> None:
    w = np.array(SOFT_CASE_W)
    assert np.array_equal(_soft_threshold(w, SOFT_CASE_THRESHOLD), SOFT_CASE_EXPECTED)
    answers = {tuple(mistake(w, SOFT_CASE_THRESHOLD)) for mistake, _ in _SOFT_MISTAKES}
    assert len(answers) == len(_SOFT_MISTAKES) and SOFT_CASE_EXPECTED not in answers


def test_soft_thresholding_minimises_the_proximal_objective_on_a_grid() -> None:
    grid = np.linspace(-4.0, 4.0, 8001)
    for w in (-2.5, -0.6, -0.3, 0.0, 0.45, 0.6, 1.7):
        best = grid[np.argmin(_prox_objective(grid, w, 0.6))]
        assert abs(best - float(_soft_threshold(np.array(w), 0.6))) <= 1e-3


def test_ridge_case_and_every_ridge_mistake_gives_its_own_answer() -> None:
    X, y = np.array(RIDGE_CASE_X), np.array(RIDGE_CASE_Y)
    assert np.allclose(_ridge_reference(X, y, RIDGE_CASE_ALPHA), RIDGE_CASE_EXPECTED, rtol=1e-12, atol=0)
    answers = [mistake(X, y, RIDGE_CASE_ALPHA) for mistake, _ in _RIDGE_MISTAKES]
    assert all(not np.allclose(a, RIDGE_CASE_EXPECTED, rtol=1e-3) for a in answers)
    assert all(not np.allclose(a, b, rtol=1e-3) for i, a in enumerate(answers) for b in answers[:i])


@pytest.mark.parametrize(("n", "d", "alpha"), [(50, 5, 3.0), *RIDGE_PROBLEMS, (20, 200, 1.0)])
def test_the_ridge_reference_agrees_with_scikit_learn(n: int, d: int, alpha: float) -> None:
    X, y = _ridge_problem(n, d, RIDGE_SEED)
    ours = _ridge_reference(X, y, alpha)
    theirs = Ridge(alpha=alpha, fit_intercept=False, solver="cholesky").fit(X, y).coef_
    assert np.linalg.norm(ours - theirs) <= 1e-10 * np.linalg.norm(theirs)


def test_the_shrinkage_alphas_span_weak_to_strong_penalties() -> None:
    X, y = _ridge_problem(40, 8, RIDGE_SEED + 12)
    norms = [np.linalg.norm(_ridge_reference(X, y, alpha)) for alpha in RIDGE_ALPHAS]
    least_squares = np.linalg.norm(np.linalg.lstsq(X, y, rcond=None)[0])
    assert norms[0] > 0.99 * least_squares and norms[-1] < 0.05 * least_squares


# --- wrong steps are rejected with a useful message ----------------------------------------

_HAND = "== [1.5, -0.75, 0.9375]"


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (step_uphill, _HAND, ("expected [1.5, -0.75, 0.9375], got [2.5, -1.25, 0.0625]", "sign error", "uphill")),
        (step_uphill, "random problems", ("sign error",)),
        (step_decay_sign_flipped, _HAND, ("sign error in the decay", "+λw")),
        (step_decay_sign_flipped, "grad = 0 shrinks", ("expected w × 0.999000, got w × 1.001000", "in the decay")),
        (step_decay_without_lr, _HAND, ("not multiplied by lr",)),
        (step_decay_without_lr, "grad = 0 shrinks", ("got w × 0.990000", "not multiplied by lr")),
        (step_decay_without_lr, "random problems", ("not multiplied by lr", "problems disagree")),
        (step_half_penalty, _HAND, ("the gradient of (λ/2)‖w‖² is λw, not λw/2",)),
        (step_half_penalty, "grad = 0 shrinks", ("got w × 0.999500", "not λw/2")),
        (step_double_penalty, _HAND, ("2λw", "gradient of λ‖w‖²")),
        (step_factor_after_update, _HAND, ("as a factor (1 - λ) to the updated weights",)),
        (step_decays_updated_weights, _HAND, ("updated weights", "lr²·λ·grad")),
        (step_adds_gradient, _HAND, ("lr·grad is added",)),
        (step_ignores_decay, _HAND, ("weight_decay is ignored",)),
        (step_ignores_decay, "grad = 0 shrinks", ("got w × 1.000000", "weight_decay is ignored")),
        (step_in_place, "leaves w and grad unchanged", ("w modified", "in place")),
        (step_modifies_grad, "leaves w and grad unchanged", ("grad modified", "grad is changed in place")),
        (step_without_validation, "weight_decay < 0", ("ValueError for weight_decay = -0.01", "a return value")),
        (step_without_validation, "lr <= 0", ("ValueError for lr = 0.0",)),
        (step_rejects_zero_decay, "weight_decay = 0", ("weight_decay = 0 is allowed",)),
        (step_returns_nothing, "returns a new float array", ("got None", "did you forget to return")),
        (step_multiplies_a_list, _HAND, ("got TypeError: can't multiply sequence",)),
        (not_implemented, _HAND, ("NotImplementedError", "replace `raise NotImplementedError()`")),
        (not_implemented, "lr <= 0", ("got NotImplementedError",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_l2_step_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_sgd_l2_step(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (step_decay_without_lr, _HAND, ("not multiplied by lr", "torch.optim.AdamW", "(1 - lr·weight_decay)")),
        (step_decay_without_lr, "quadratic loss", ("after step 1, got different weights", "not multiplied by lr")),
        (step_decay_without_lr, "grad = 0 shrinks", ("got w × 0.990000", "not multiplied by lr")),
        (step_decays_updated_weights, _HAND, ("updated weights", "lr²·weight_decay·grad")),
        (step_decays_updated_weights, "random problems", ("updated weights",)),
        (step_decays_updated_weights, "quadratic loss", ("updated weights",)),
        (step_factor_after_update, _HAND, ("as a factor (1 - weight_decay) to the updated weights",)),
        (step_uphill, _HAND, ("sign error", "uphill")),
        (step_adds_gradient, _HAND, ("lr·grad is added",)),
        (step_decay_sign_flipped, _HAND, ("sign error in the decay", "< 1")),
        (step_half_penalty, _HAND, ("halved", "no ½")),
        (step_double_penalty, _HAND, ("doubled",)),
        (step_ignores_decay, _HAND, ("weight_decay is ignored",)),
        (step_in_place, "leaves w and grad unchanged", ("w modified",)),
        (step_without_validation, "lr <= 0", ("ValueError for lr = 0.0",)),
        (not_implemented, "quadratic loss", ("NotImplementedError",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_decoupled_step_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_sgd_decoupled_step(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize(
    ("checker", "fn", "failing"),
    [
        (check_sgd_l2_step, step_in_place, {"leaves w and grad unchanged"}),
        (check_sgd_l2_step, step_modifies_grad, {"leaves w and grad unchanged"}),
        (check_sgd_l2_step, step_without_validation, {"weight_decay < 0", "lr <= 0"}),
        (check_sgd_l2_step, step_rejects_zero_decay, {"weight_decay = 0"}),
        (check_sgd_decoupled_step, step_fails_on_matrices, {"returns a new float array", "agrees with", "leaves w"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_step_mistake_fails_only_the_properties_it_breaks(checker, fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(checker(fn)), failing)


# --- wrong soft_threshold is rejected with a useful message --------------------------------

_SOFT_HAND = "== [-2.0, -0.5"


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (hard_threshold, _SOFT_HAND, ("got [-3, -1.5, 0, 0, 0, 0, 0, 2.5]", "keeps survivors unchanged")),
        (hard_threshold, "survivors", ("survivors differ", "hard thresholding; soft thresholding also shrinks them")),
        (hard_threshold_inclusive, "exact zeros", ("2 of", "hard thresholding")),
        (hard_threshold_inclusive, _SOFT_HAND, ("hard thresholding",)),
        (shrinks_without_zeroing, _SOFT_HAND, ("cross zero", "change sign")),
        (shrinks_without_zeroing, "exact zeros", ("nonzero", "cross zero")),
        (shrinks_without_zeroing, "proximal", ("above it", "the minimum", "cross zero")),
        (loses_the_sign, _SOFT_HAND, ("the sign is lost",)),
        (loses_the_sign, "odd", ("entries differ", "the sign is lost")),
        (zeroes_negative_weights, "odd", ("negative weights are zeroed",)),
        (halves_the_threshold, _SOFT_HAND, ("scaled by ½", "not t/2")),
        (halves_the_threshold, "random arrays", ("not t/2",)),
        (clips, _SOFT_HAND, ("clipping", "np.clip")),
        (clips, "threshold = 0", ("clipping",)),
        (thresholds_in_place, "leaves w unchanged", ("w modified", "in place")),
        (soft_threshold_without_validation, "threshold < 0", ("ValueError for threshold = -0.5", "a return value")),
        (soft_threshold_of_a_list, "returns a new float array", ("got a list of length 20", "new float array")),
        (not_implemented, "proximal", ("NotImplementedError",)),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_soft_threshold_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_soft_threshold(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (thresholds_in_place, {"leaves w unchanged"}),
        (soft_threshold_without_validation, {"threshold < 0"}),
        (hard_threshold_inclusive, {"soft_threshold(", "exact zeros", "survivors", "agrees", "is the proximal"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_soft_threshold_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(check_soft_threshold(fn)), failing)


# --- wrong ridge_fit is rejected with a useful message -------------------------------------


@pytest.mark.parametrize(
    ("fn", "property_fragment", "phrases"),
    [
        (ridge_half_alpha, "ridge_fit(X=", ("expected [0.875, 1.375]", "has no ½", "‖y−Xw‖² + α‖w‖²")),
        (ridge_half_alpha, "random problems", ("relative difference", "has no ½")),
        (ridge_half_alpha, "gradient", ("not a minimiser", "has no ½")),
        (ridge_alpha_times_n, "ridge_fit(X=", ("multiplied by n", "Lasso")),
        (ridge_alpha_times_n, "random problems", ("Lasso",)),
        (ridge_alpha_on_every_entry, "ridge_fit(X=", ("got [0.4, 1.4]", "diagonal only")),
        (ridge_without_alpha, "ridge_fit(X=", ("got [1, 2]", "alpha is missing", "least squares")),
        (ridge_without_alpha, "n < d", ("alpha is missing",)),
        (ridge_without_alpha, "larger alpha", ("decreasing", "a smaller ‖w‖")),
        (ridge_singular_without_alpha, "n < d", ("LinAlgError: Singular", "XᵀX is singular when n < d", "alpha·I")),
        (ridge_solves_the_dual_system, "returns a float array", ("shape (50,)", "one entry per example")),
        (ridge_column_vector, "returns a float array", ("w of shape (5,)", "shape (5, 1)", "1-D vector of shape (d,)")),
        (ridge_centres_in_place, "leaves X and y unchanged", ("X modified", "in place")),
        (ridge_without_validation, "alpha < 0", ("ValueError for alpha = -1.0", "a return value")),
        (ridge_without_validation, "mismatched shapes", ("X of shape (30,)", "IndexError")),
        (ridge_rejects_zero_alpha, "alpha = 0", ("alpha = 0 is allowed",)),
        (ridge_subtracts_alpha, "larger alpha", ("‖w‖ = ",)),
        (ridge_with_a_string_alpha, "ridge_fit(X=", ("got TypeError",)),
        (not_implemented, "n < d", ("NotImplementedError", "replace `raise NotImplementedError()`")),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_wrong_ridge_fit_is_rejected(fn, property_fragment: str, phrases: tuple[str, ...], capsys) -> None:
    assert_rejected(check_ridge_fit(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize(
    ("fn", "failing"),
    [
        (ridge_rejects_zero_alpha, {"alpha = 0"}),
        (ridge_without_validation, {"alpha < 0", "mismatched shapes"}),
        (ridge_singular_without_alpha, {"ridge_fit(X=", "matches", "the gradient", "larger alpha", "works when n < d"}),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else "",
)
def test_a_single_ridge_mistake_fails_only_the_properties_it_breaks(fn, failing: set[str]) -> None:
    assert_fails_exactly(failed_names(check_ridge_fit(fn)), failing)


# --- one root mistake is named once --------------------------------------------------------

_STEP_ROOTS = [
    (step_uphill, "the uphill step"),
    (step_adds_gradient, "the sign error in the gradient step"),
    (step_decay_sign_flipped, "the sign error in the decay"),
    (step_decay_without_lr, "the decay not multiplied by lr"),
    (step_half_penalty, "the halved penalty gradient"),
    (step_double_penalty, "the doubled penalty gradient"),
    (step_factor_after_update, "the factor (1 - λ) applied after the step"),
    (step_decays_updated_weights, "the decay applied to the updated weights"),
    (step_ignores_decay, "the ignored weight_decay"),
    (step_without_validation, "the missing argument checks"),
    (step_returns_nothing, "the missing return"),
]


@pytest.mark.parametrize(
    ("checker", "fn", "name"),
    [(check_sgd_l2_step, fn, name) for fn, name in _STEP_ROOTS]
    + [(check_sgd_decoupled_step, fn, name) for fn, name in _STEP_ROOTS]
    + [
        (check_soft_threshold, hard_threshold, "hard thresholding"),
        (check_soft_threshold, hard_threshold_inclusive, "hard thresholding"),
        (check_soft_threshold, shrinks_without_zeroing, "shrinking without zeroing"),
        (check_soft_threshold, loses_the_sign, "the lost sign"),
        (check_soft_threshold, zeroes_negative_weights, "the zeroed negative weights"),
        (check_soft_threshold, halves_the_threshold, "the halved threshold"),
        (check_soft_threshold, clips, "clipping instead of thresholding"),
        (check_ridge_fit, ridge_half_alpha, "the halved alpha"),
        (check_ridge_fit, ridge_alpha_times_n, "alpha multiplied by n"),
        (check_ridge_fit, ridge_alpha_on_every_entry, "alpha added to every entry"),
        (check_ridge_fit, ridge_without_alpha, "the missing alpha"),
        (check_ridge_fit, ridge_solves_the_dual_system, "one coefficient per example"),
        (check_ridge_fit, ridge_column_vector, "a 2-D w"),
        (check_ridge_fit, ridge_without_validation, "the missing argument checks"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:24],
)
def test_one_root_mistake_is_diagnosed_once(checker, fn, name: str, capsys) -> None:
    diagnosis = assert_one_root_cause(checker(fn), capsys.readouterr().out)
    assert diagnosis.name == name


def test_an_input_that_cannot_tell_two_mistakes_apart_defers_to_the_hand_made_case(capsys) -> None:
    """With grad = 0 an uphill step and a wrong-signed decay both grow w; the hand-made case names the uphill step."""
    report = check_sgd_l2_step(step_uphill)
    printed = capsys.readouterr().out
    pure_decay = next(result for result in report.failed if result.name.startswith("grad = 0"))
    assert pure_decay.diagnosis.name == "the uphill step" and "either" not in printed


def test_the_step_mistakes_have_distinct_short_names() -> None:
    names = [mistake.name for mistake in _STEP_MISTAKES.values()]
    assert len(set(names)) == len(names) and all(len(name) <= 50 for name in names)


# --- student exceptions and determinism ----------------------------------------------------


@pytest.mark.parametrize(
    ("checker", "count"),
    [
        (check_sgd_l2_step, L2_LINES),
        (check_sgd_decoupled_step, DECOUPLED_LINES),
        (check_soft_threshold, SOFT_LINES),
        (check_ridge_fit, RIDGE_LINES),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value),
)
def test_an_untouched_stub_fails_every_property_and_is_explained_once(checker, count: int, capsys) -> None:
    report = checker(not_implemented)
    assert len(report.failed) == len(report) == count
    assert_stub_told_once(report, capsys.readouterr().out)


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_sgd_l2_step, step_multiplies_a_list),
        (check_sgd_decoupled_step, step_fails_on_matrices),
        (check_ridge_fit, ridge_with_a_string_alpha),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_type_error_raised_mid_way_is_reported_not_raised_and_explained_once(checker, fn, capsys) -> None:
    report = checker(fn)
    printed = capsys.readouterr().out
    failing = [line for line in printed.splitlines() if line.startswith("✗ ")]
    assert failing and all("got TypeError: " in line for line in failing)
    assert "your function raised an exception" in failing[0]
    assert all(line.endswith("a consequence of the TypeError your function raised (see above)") for line in failing[1:])
    assert_one_root_cause(report, printed)


@pytest.mark.parametrize(
    "checker", [check_sgd_l2_step, check_sgd_decoupled_step, check_soft_threshold, check_ridge_fit]
)
def test_checkers_reject_a_non_callable(checker) -> None:
    with pytest.raises(TypeError, match="fn must be a function"):
        checker(np.zeros(3))


@pytest.mark.parametrize(
    ("checker", "fn"),
    [
        (check_sgd_l2_step, sgd_l2_step),
        (check_sgd_l2_step, step_decay_without_lr),
        (check_sgd_decoupled_step, sgd_decoupled_step),
        (check_sgd_decoupled_step, step_decays_updated_weights),
        (check_soft_threshold, soft_threshold),
        (check_soft_threshold, shrinks_without_zeroing),
        (check_ridge_fit, ridge_fit),
        (check_ridge_fit, ridge_half_alpha),
        (check_ridge_fit, not_implemented),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_printed_output_is_deterministic_and_has_no_addresses(checker, fn, capsys) -> None:
    assert_output_is_deterministic(checker, fn, capsys)


# --- choose_alpha --------------------------------------------------------------------------

from course_lib.checks.weight_decay import (  # noqa: E402
    CHOICE_ALPHAS,
    _choice_problem,
    _errors,
    check_choose_alpha,
)

CHOICE_LINES = 8


def _validation_errors(X_train, y_train, X_val, y_val, alphas, fit, fit_on=None):
    X_fit, y_fit = fit_on if fit_on is not None else (X_train, y_train)
    return [float(np.mean((X_val @ fit(X_fit, y_fit, alpha) - y_val) ** 2)) for alpha in alphas]


def choose_alpha(X_train, y_train, X_val, y_val, alphas, fit):
    """The reference: the lowest validation MSE of a fit on the training data, the first on a tie."""
    if len(alphas) == 0:
        raise ValueError("alphas must hold at least one value, got []")
    errors = _validation_errors(X_train, y_train, X_val, y_val, alphas, fit)
    return alphas[int(np.argmin(errors))]


def chooses_on_training_error(X_train, y_train, X_val, y_val, alphas, fit):
    if len(alphas) == 0:
        raise ValueError("alphas must hold at least one value, got []")
    return alphas[int(np.argmin(_validation_errors(X_train, y_train, X_train, y_train, alphas, fit)))]


def fits_on_validation(X_train, y_train, X_val, y_val, alphas, fit):
    if len(alphas) == 0:
        raise ValueError("alphas must hold at least one value, got []")
    errors = _validation_errors(X_train, y_train, X_val, y_val, alphas, fit, fit_on=(X_val, y_val))
    return alphas[int(np.argmin(errors))]


def fits_on_both(X_train, y_train, X_val, y_val, alphas, fit):
    if len(alphas) == 0:
        raise ValueError("alphas must hold at least one value, got []")
    both = (np.vstack([X_train, X_val]), np.concatenate([y_train, y_val]))
    return alphas[int(np.argmin(_validation_errors(X_train, y_train, X_val, y_val, alphas, fit, fit_on=both)))]


def chooses_the_highest(X_train, y_train, X_val, y_val, alphas, fit):
    if len(alphas) == 0:
        raise ValueError("alphas must hold at least one value, got []")
    return alphas[int(np.argmax(_validation_errors(X_train, y_train, X_val, y_val, alphas, fit)))]


def returns_the_index(X_train, y_train, X_val, y_val, alphas, fit):
    if len(alphas) == 0:
        raise ValueError("alphas must hold at least one value, got []")
    return int(np.argmin(_validation_errors(X_train, y_train, X_val, y_val, alphas, fit)))


def sorts_alphas_in_place(X_train, y_train, X_val, y_val, alphas, fit):
    alphas.sort(reverse=True)
    return choose_alpha(X_train, y_train, X_val, y_val, alphas, fit)


def last_of_a_tie(X_train, y_train, X_val, y_val, alphas, fit):
    if len(alphas) == 0:
        raise ValueError("alphas must hold at least one value, got []")
    errors = _validation_errors(X_train, y_train, X_val, y_val, alphas, fit)
    return alphas[len(errors) - 1 - int(np.argmin(errors[::-1]))]


def empty_is_none(X_train, y_train, X_val, y_val, alphas, fit):
    return choose_alpha(X_train, y_train, X_val, y_val, alphas, fit) if alphas else None


def test_choose_alpha_reference_passes(capsys) -> None:
    assert_every_property_holds(check_choose_alpha(choose_alpha), capsys.readouterr().out, CHOICE_LINES)


def test_the_choice_problem_separates_the_rules() -> None:
    X_train, y_train, X_val, y_val = _choice_problem()
    best = lambda errors: min(errors, key=errors.get)  # noqa: E731
    validation = best(_errors(CHOICE_ALPHAS, X_train, y_train, X_val, y_val))
    training = best(_errors(CHOICE_ALPHAS, X_train, y_train, X_train, y_train))
    on_validation = best(_errors(CHOICE_ALPHAS, X_val, y_val, X_val, y_val))
    assert validation not in (CHOICE_ALPHAS[0], CHOICE_ALPHAS[-1])  # a minimum inside the grid: a real U-curve
    assert len({validation, training, on_validation}) >= 2 and validation not in (training, on_validation)


@pytest.mark.parametrize(
    "fn, property_fragment, phrases",
    [
        (chooses_on_training_error, "lowest validation MSE", ("got alpha = 0.01", "weakest penalty")),
        (fits_on_validation, "lowest validation MSE", ("got alpha = 0.01", "fit only on (X_train, y_train)")),
        (fits_on_both, "calls fit only with the training data", ("shapes [(60, 30)]", "fit only on (X_train, y_train)")),
        (chooses_the_highest, "lowest validation MSE", ("got alpha = 1000", "*lowest* validation MSE")),
        (returns_the_index, "lowest validation MSE", ("got 3", "not its position")),
        (sorts_alphas_in_place, "unchanged", ("alphas unchanged", "no `sort`")),
        (last_of_a_tie, "a tie", ("got alpha = 10", "keep the first one")),
        (empty_is_none, "alphas = []", ("got a return value (None)", "must raise ValueError")),
    ],
)
def test_wrong_choose_alpha_is_rejected(fn, property_fragment, phrases, capsys) -> None:
    assert_rejected(check_choose_alpha(fn), property_fragment, *phrases, printed=capsys.readouterr().out)


@pytest.mark.parametrize("fn", [chooses_on_training_error, fits_on_validation])
def test_a_wrong_choice_rule_is_one_root_cause(fn, capsys) -> None:
    assert_one_root_cause(check_choose_alpha(fn), capsys.readouterr().out)


def test_choose_alpha_stub_and_determinism(capsys) -> None:
    assert_stub_told_once(check_choose_alpha(not_implemented), capsys.readouterr().out)
    assert_output_is_deterministic(check_choose_alpha, fits_on_validation, capsys)
