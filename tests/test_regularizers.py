"""Tests for course_lib.regularizers: closed forms, proximal steps, and agreement with scikit-learn and torch."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_lib.linear_models import lasso_fit, ridge_fit
from course_lib.regularizers import (
    decay_after_steps,
    decay_factor,
    hessian_shrinkage,
    l1_penalty,
    l1_strength_from_laplace_scale,
    l2_penalty,
    l2_regularized_optimum,
    l2_strength_from_prior_variance,
    laplace_scale_from_l1_strength,
    penalized_quadratic_optimum,
    prior_variance_from_l2_strength,
    prune_smallest_weights,
    rotated_hessian,
    shrinkage_percent,
    soft_threshold,
    sgd_decoupled_step,
    sgd_l2_step,
    weight_matrices,
)


seeds = st.integers(min_value=0, max_value=2**32 - 1)


def random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    A = rng.standard_normal((d, d))
    return A @ A.T + 0.5 * np.eye(d)


# --- penalized_quadratic_optimum -------------------------------------------------------------

def assert_l1_kkt(H: np.ndarray, c: np.ndarray, strength: float, w: np.ndarray, tol: float = 1e-9) -> None:
    """Optimality of w for ½(w−c)ᵀH(w−c) + strength‖w‖₁: gradient = −strength·sign on the support, |gradient| ≤ strength off it."""
    gradient = H @ (w - c)
    scale = 1.0 + np.abs(H @ c).max() + strength
    on = w != 0
    np.testing.assert_allclose(gradient[on], -strength * np.sign(w[on]), atol=tol * scale)
    assert np.all(np.abs(gradient[~on]) <= strength + tol * scale)


@given(seed=seeds, d=st.integers(1, 6), strength=st.floats(0.0, 5.0))
def test_l2_quadratic_optimum_is_the_closed_form_and_stationary(seed: int, d: int, strength: float) -> None:
    rng = np.random.default_rng(seed)
    H, c = random_spd(rng, d), rng.standard_normal(d)
    w = penalized_quadratic_optimum(H, c, strength, norm="l2")
    np.testing.assert_allclose(w, np.linalg.inv(H + strength * np.eye(d)) @ H @ c, rtol=1e-9, atol=1e-12)
    gradient = H @ (w - c) + strength * w  # gradient of the objective at the answer
    assert np.linalg.norm(gradient) <= 1e-9 * (1 + np.linalg.norm(H @ c))
    np.testing.assert_allclose(l2_regularized_optimum(H, c, strength), w, rtol=1e-12, atol=1e-14)


@settings(max_examples=30)
@given(seed=seeds, d=st.integers(1, 5), strength=st.floats(0.0, 4.0))
def test_l1_quadratic_optimum_satisfies_kkt_and_is_the_minimum(seed: int, d: int, strength: float) -> None:
    rng = np.random.default_rng(seed)
    H, c = random_spd(rng, d), rng.standard_normal(d) * 2
    w = penalized_quadratic_optimum(H, c, strength, norm="l1")
    assert_l1_kkt(H, c, strength, w)

    def objective(v: np.ndarray) -> float:
        return 0.5 * (v - c) @ H @ (v - c) + strength * np.abs(v).sum()

    perturbations = rng.standard_normal((200, d)) * 0.05
    assert all(objective(w) <= objective(w + p) + 1e-12 for p in perturbations)


@settings(max_examples=20)
@given(seed=seeds, d=st.integers(2, 6), strength=st.floats(0.05, 3.0))
def test_l1_quadratic_optimum_agrees_with_lasso_fit(seed: int, d: int, strength: float) -> None:
    # ½(w−c)ᵀH(w−c) = ½‖Lᵀc − Lᵀw‖² with H = LLᵀ: a least-squares problem with n = d rows,
    # so (1/2n)‖y − Xw‖² + α‖w‖₁ is the same objective divided by n when α = strength / n.
    rng = np.random.default_rng(seed)
    H, c = random_spd(rng, d), rng.standard_normal(d) * 2
    L = np.linalg.cholesky(H)
    exact = penalized_quadratic_optimum(H, c, strength, norm="l1")
    alpha = strength / d
    X, y = L.T, L.T @ c
    if alpha >= np.abs(X.T @ y).max() / d:
        np.testing.assert_array_equal(exact, np.zeros(d))
    fit = lasso_fit(X, y, alpha)
    np.testing.assert_allclose(fit.coef, exact, atol=1e-8)
    np.testing.assert_array_equal(fit.coef != 0, exact != 0)


def test_l1_quadratic_optimum_snaps_one_coordinate_to_exactly_zero() -> None:
    w = penalized_quadratic_optimum(np.diag([1.0, 4.0]), np.array([0.5, 2.0]), 1.0, norm="l1")
    assert w[0] == 0.0 and w[1] == pytest.approx(1.75, abs=1e-15)
    # correlated case: with w_0 = 0, (H(w - c))_1 = -0.8 gives w_1 = 1.25, and |(H(w - c))_0| = 0.575 <= 0.8
    H, c = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([0.1, 2.0])
    w = penalized_quadratic_optimum(H, c, 0.8, norm="l1")
    assert w[0] == 0.0 and w[1] == pytest.approx(1.25, abs=1e-14)
    assert_l1_kkt(H, c, 0.8, w)
    # the L2 penalty shrinks the same coordinate but leaves it non-zero
    assert np.all(penalized_quadratic_optimum(H, c, 0.8, norm="l2") != 0.0)


def test_l1_quadratic_optimum_without_penalty_is_the_center() -> None:
    rng = np.random.default_rng(3)
    H, c = random_spd(rng, 4), rng.standard_normal(4)
    np.testing.assert_allclose(penalized_quadratic_optimum(H, c, 0.0, norm="l1"), c, atol=1e-12)


def test_quadratic_optimum_rejects_bad_input() -> None:
    H, c = np.eye(2), np.ones(2)
    with pytest.raises(ValueError, match="hessian"):
        penalized_quadratic_optimum(np.array([[1.0, 2.0], [2.0, 1.0]]), c, 1.0)  # indefinite
    with pytest.raises(ValueError, match="hessian"):
        penalized_quadratic_optimum(np.array([[1.0, 0.5], [0.0, 1.0]]), c, 1.0)  # not symmetric
    with pytest.raises(ValueError, match="center"):
        penalized_quadratic_optimum(H, np.ones(3), 1.0)
    with pytest.raises(ValueError, match="strength"):
        penalized_quadratic_optimum(H, c, -0.1)
    with pytest.raises(ValueError, match="norm"):
        penalized_quadratic_optimum(H, c, 1.0, norm="l3")
    with pytest.raises(ValueError, match="d <= 8"):
        penalized_quadratic_optimum(np.eye(9), np.ones(9), 1.0, norm="l1")
    with pytest.raises(ValueError, match="w_star"):
        l2_regularized_optimum(H, np.ones(3), 1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        l2_regularized_optimum(H, c, -1.0)


# --- Hessian view of weight decay -------------------------------------------------------------

@given(seed=seeds, d=st.integers(1, 8), weight_decay=st.floats(0.0, 10.0))
def test_l2_optimum_shrinks_each_eigen_component_by_the_shrinkage_factor(seed: int, d: int, weight_decay: float) -> None:
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eigenvalues = rng.uniform(0.01, 10.0, size=d)
    H = Q @ np.diag(eigenvalues) @ Q.T
    H = (H + H.T) / 2
    w_star = rng.standard_normal(d)
    w = l2_regularized_optimum(H, w_star, weight_decay)
    np.testing.assert_allclose(Q.T @ w, hessian_shrinkage(eigenvalues, weight_decay) * (Q.T @ w_star), atol=1e-10)


def test_hessian_shrinkage_values_and_errors() -> None:
    np.testing.assert_allclose(hessian_shrinkage(np.array([0.0, 1.0, 3.0]), 1.0), [0.0, 0.5, 0.75])
    np.testing.assert_array_equal(hessian_shrinkage(np.array([2.0, 5.0]), 0.0), [1.0, 1.0])
    with pytest.raises(ValueError, match="weight_decay"):
        hessian_shrinkage(np.array([1.0]), -1.0)
    with pytest.raises(ValueError, match="eigenvalues"):
        hessian_shrinkage(np.array([1.0, -0.5]), 1.0)
    with pytest.raises(ValueError, match="0/0"):
        hessian_shrinkage(np.array([0.0, 1.0]), 0.0)


# --- the two-dimensional constraint picture ---------------------------------------------------

def test_rotated_hessian_has_the_stated_eigen_directions():
    hessian = rotated_hessian((1.0, 8.0), 30.0)
    np.testing.assert_allclose(hessian, hessian.T)
    np.testing.assert_allclose(np.linalg.eigvalsh(hessian), [1.0, 8.0])
    flat = np.array([math.cos(math.radians(30)), math.sin(math.radians(30))])
    np.testing.assert_allclose(hessian @ flat, flat)  # eigenvalue 1 along 30°
    with pytest.raises(ValueError, match="eigenvalues must be two positive numbers"):
        rotated_hessian((1.0, -1.0))
    with pytest.raises(ValueError, match="angle_degrees must be a finite number"):
        rotated_hessian((1.0, 2.0), float("nan"))


def test_shrinkage_percent_and_its_validation():
    assert shrinkage_percent(np.array([1.5, 0.0]), np.array([3.0, 4.0])) == pytest.approx(70.0)
    assert shrinkage_percent(np.array([3.0, 4.0]), np.array([3.0, 4.0])) == 0.0
    with pytest.raises(ValueError, match="center must not be the origin"):
        shrinkage_percent(np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="one shape"):
        shrinkage_percent(np.zeros(3), np.ones(2))


# --- soft-thresholding ------------------------------------------------------------------------

values = st.floats(-100, 100, allow_nan=False)
thresholds = st.floats(0.0, 50.0)


@given(v=values, t=thresholds)
def test_soft_threshold_shrinks_by_exactly_the_threshold(v: float, t: float) -> None:
    out = soft_threshold(v, t)
    assert isinstance(out, float)
    assert abs(out) == pytest.approx(max(abs(v) - t, 0.0), abs=1e-12)
    assert soft_threshold(-v, t) == -out  # odd function
    if abs(v) <= t:
        assert out == 0.0
    else:
        assert math.copysign(1.0, out) == math.copysign(1.0, v)


@given(seed=seeds, t=thresholds)
def test_soft_threshold_numpy_and_torch_agree_and_leave_input_alone(seed: int, t: float) -> None:
    w = np.random.default_rng(seed).standard_normal((4, 5)) * 10
    original = w.copy()
    out = soft_threshold(w, t)
    np.testing.assert_array_equal(w, original)
    np.testing.assert_array_equal(out == 0, np.abs(w) <= t)
    tensor = torch.from_numpy(w.copy())
    out_torch = soft_threshold(tensor, t)
    assert out_torch.dtype == torch.float64 and torch.equal(tensor, torch.from_numpy(original))
    np.testing.assert_allclose(out_torch.numpy(), out, rtol=1e-15, atol=1e-15)
    assert soft_threshold(tensor.float(), t).dtype == torch.float32


@given(v=st.floats(-5, 5), t=st.floats(0.0, 3.0))
def test_soft_threshold_is_the_prox_of_the_l1_norm(v: float, t: float) -> None:
    # the minimiser of ½(x − v)² + t|x| over a fine grid around v, without scipy
    grid = np.linspace(-10.0, 10.0, 400_001)
    objective = 0.5 * (grid - v) ** 2 + t * np.abs(grid)
    x = soft_threshold(v, t)
    assert 0.5 * (x - v) ** 2 + t * abs(x) <= objective.min() + 1e-12
    assert abs(grid[objective.argmin()] - x) <= 1e-4


def test_soft_threshold_zeros_are_positive_zeros() -> None:
    v = np.array([-0.75, -0.5, -0.25, -0.0, 0.25])
    assert not np.signbit(soft_threshold(v, 0.5)[1:]).any()
    assert not torch.signbit(soft_threshold(torch.from_numpy(v), 0.5)[1:]).any()
    assert math.copysign(1.0, soft_threshold(-0.25, 0.5)) == 1.0
    assert repr(soft_threshold(v, 0.5).tolist()) == "[-0.25, 0.0, 0.0, 0.0, 0.0]"


def test_soft_threshold_is_differentiable_in_torch() -> None:
    w = torch.tensor([-2.0, -0.5, 0.3, 1.5], requires_grad=True)
    soft_threshold(w, 1.0).sum().backward()
    assert w.grad.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_soft_threshold_rejects_bad_threshold() -> None:
    with pytest.raises(ValueError, match="threshold"):
        soft_threshold(np.ones(3), -0.1)
    with pytest.raises(ValueError, match="threshold"):
        soft_threshold(np.ones(3), float("nan"))
    with pytest.raises(TypeError, match="threshold"):
        soft_threshold(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="w must be"):
        soft_threshold("1.0", 0.1)


# --- penalties --------------------------------------------------------------------------------

@given(seed=seeds, strength=st.floats(0.0, 10.0))
def test_penalties_agree_between_numpy_and_torch(seed: int, strength: float) -> None:
    w = np.random.default_rng(seed).standard_normal((3, 4))
    assert isinstance(l2_penalty(w, strength), float)
    assert l2_penalty(w, strength) == pytest.approx(0.5 * strength * np.sum(w**2), rel=1e-12, abs=1e-300)
    assert l1_penalty(w, strength) == pytest.approx(strength * np.sum(np.abs(w)), rel=1e-12, abs=1e-300)
    tensor = torch.from_numpy(w)
    for penalty in (l2_penalty, l1_penalty):
        value = penalty(tensor, strength)
        assert isinstance(value, torch.Tensor) and value.dim() == 0
        assert value.item() == pytest.approx(penalty(w, strength), rel=1e-12, abs=1e-300)
        assert penalty([w[:1], w[1:]], strength) == pytest.approx(penalty(w, strength), rel=1e-12, abs=1e-300)


def test_torch_penalties_keep_the_graph() -> None:
    torch.manual_seed(0)
    w = torch.randn(5, 3, requires_grad=True)
    l2_penalty(w, 0.3).backward()
    torch.testing.assert_close(w.grad, 0.3 * w.detach())
    w.grad = None
    l1_penalty(w, 0.3).backward()
    torch.testing.assert_close(w.grad, 0.3 * torch.sign(w.detach()))


def test_penalties_accept_model_parameters_and_weight_matrices() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    total = l2_penalty(model.parameters(), 2.0)
    expected = sum((p.detach() ** 2).sum() for p in model.parameters())
    torch.testing.assert_close(total, expected)
    weights_only = l1_penalty(weight_matrices(model), 1.0)
    weights_only.backward()
    assert model[0].bias.grad is None and model[0].weight.grad is not None
    torch.testing.assert_close(weights_only, model[0].weight.abs().sum() + model[2].weight.abs().sum())


def test_penalties_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="strength"):
        l2_penalty(np.ones(2), -1.0)
    with pytest.raises(ValueError, match="strength"):
        l1_penalty(np.ones(2), -1.0)
    with pytest.raises(ValueError, match="weights"):
        l2_penalty([], 1.0)
    with pytest.raises(TypeError, match="weights"):
        l1_penalty([np.ones(2), torch.ones(2)], 1.0)


# --- weight decay as an update ----------------------------------------------------------------

@given(seed=seeds, lr=st.floats(1e-4, 1.0), weight_decay=st.floats(0.0, 1.0))
def test_sgd_l2_and_decoupled_steps_coincide(seed: int, lr: float, weight_decay: float) -> None:
    rng = np.random.default_rng(seed)
    w, grad = rng.standard_normal(6), rng.standard_normal(6)
    w_before, grad_before = w.copy(), grad.copy()
    l2_step, decoupled = sgd_l2_step(w, grad, lr, weight_decay), sgd_decoupled_step(w, grad, lr, weight_decay)
    np.testing.assert_allclose(l2_step, decoupled, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(l2_step, w - lr * grad - lr * weight_decay * w, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(w, w_before)
    np.testing.assert_array_equal(grad, grad_before)
    tw, tg = torch.from_numpy(w), torch.from_numpy(grad)
    out = sgd_decoupled_step(tw, tg, lr, weight_decay)
    assert out is not tw and torch.equal(tw, torch.from_numpy(w_before))
    np.testing.assert_allclose(out.numpy(), decoupled, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(sgd_l2_step(tw, tg, lr, weight_decay).numpy(), l2_step, rtol=1e-15, atol=1e-15)


def test_sgd_steps_reject_bad_input() -> None:
    w = np.ones(3)
    with pytest.raises(ValueError, match="lr"):
        sgd_l2_step(w, w, 0.0, 0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        sgd_decoupled_step(w, w, 0.1, -0.1)
    with pytest.raises(ValueError, match="grad shape"):
        sgd_l2_step(w, np.ones(4), 0.1, 0.1)
    with pytest.raises(TypeError, match="grad"):
        sgd_l2_step(w, torch.ones(3), 0.1, 0.1)


def test_decay_numbers_printed_in_the_chapter() -> None:
    assert decay_factor(1e-3, 1e-2) == pytest.approx(0.99999, abs=1e-15)
    assert decay_factor(0.1, 0.01) == pytest.approx(0.999, abs=1e-15)
    after = decay_after_steps(0.1, 0.01, 1000)
    assert after == pytest.approx(0.999**1000, rel=1e-12)
    assert round(after, 4) == 0.3677
    assert abs(after - math.exp(-1)) < 1e-3
    assert decay_after_steps(0.1, 0.01, 0) == 1.0
    assert decay_factor(0.5, 2.0) == 0.0


@pytest.mark.parametrize(
    "lr, weight_decay, error, message",
    [
        (0.0, 0.01, ValueError, r"^lr must be a finite number > 0, got 0\.0$"),
        (math.nan, 0.01, ValueError, r"^lr must be a finite number > 0, got nan$"),
        (True, 0.01, TypeError, r"^lr must be a real number, got bool True$"),
        (0.1, -0.01, ValueError, r"^weight_decay must be a finite number >= 0, got -0\.01$"),
        (0.1, math.inf, ValueError, r"^weight_decay must be a finite number >= 0, got inf$"),
        (0.1, "0", TypeError, r"^weight_decay must be a real number, got str '0'$"),
    ],
)
def test_decay_factor_checks_a_positive_lr_and_a_non_negative_weight_decay(
    lr: object, weight_decay: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        decay_factor(lr, weight_decay)


def test_decay_factor_accepts_zero_weight_decay_and_integers() -> None:
    assert decay_factor(1, 0) == 1.0
    assert type(decay_factor(1, 0)) is float


def test_decay_rejects_a_sign_flipping_factor() -> None:
    with pytest.raises(ValueError, match="flip"):
        decay_factor(0.5, 3.0)
    with pytest.raises(ValueError, match="weight_decay"):
        decay_factor(0.1, -0.01)
    with pytest.raises(ValueError, match="lr"):
        decay_after_steps(-0.1, 0.01, 10)
    with pytest.raises(ValueError, match="steps"):
        decay_after_steps(0.1, 0.01, -1)


# --- priors -----------------------------------------------------------------------------------

@given(value=st.floats(1e-6, 1e6), noise=st.floats(1e-3, 1e3))
def test_prior_conversions_round_trip(value: float, noise: float) -> None:
    assert prior_variance_from_l2_strength(l2_strength_from_prior_variance(value, noise), noise) == pytest.approx(value, rel=1e-12)
    assert laplace_scale_from_l1_strength(l1_strength_from_laplace_scale(value, noise), noise) == pytest.approx(value, rel=1e-12)
    assert l2_strength_from_prior_variance(value) == pytest.approx(1.0 / value, rel=1e-15)


def test_gaussian_prior_map_is_ridge() -> None:
    # MAP under y ~ N(Xw, σ_n²), w ~ N(0, σ²I) is ridge with α = σ_n²/σ² on ½‖y − Xw‖² + (α/2)‖w‖²,
    # which has the minimiser of scikit-learn's ‖y − Xw‖² + α‖w‖².
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    variance, noise_variance = 0.5, 0.2
    posterior_precision = X.T @ X / noise_variance + np.eye(4) / variance
    map_estimate = np.linalg.solve(posterior_precision, X.T @ y / noise_variance)
    alpha = l2_strength_from_prior_variance(variance, noise_variance)
    np.testing.assert_allclose(ridge_fit(X, y, alpha).coef, map_estimate, rtol=1e-10)


PRIOR_CONVERSIONS = [
    (l2_strength_from_prior_variance, "variance"),
    (prior_variance_from_l2_strength, "strength"),
    (l1_strength_from_laplace_scale, "scale"),
    (laplace_scale_from_l1_strength, "strength"),
]


@pytest.mark.parametrize("conversion, name", PRIOR_CONVERSIONS)
def test_each_prior_conversion_is_noise_variance_over_its_argument_checked_first(conversion, name: str) -> None:
    assert conversion(4.0, noise_variance=2.0) == 0.5
    assert conversion(8) == 0.125 and type(conversion(8)) is float
    with pytest.raises(ValueError, match=rf"^{name} must be a finite number > 0, got 0\.0$"):
        conversion(0.0, noise_variance=-1.0)  # the argument is checked before noise_variance
    with pytest.raises(ValueError, match=r"^noise_variance must be a finite number > 0, got -1\.0$"):
        conversion(2.0, noise_variance=-1.0)
    with pytest.raises(ValueError, match=rf"^{name} must be a finite number > 0, got inf$"):
        conversion(math.inf)
    with pytest.raises(TypeError, match=rf"^{name} must be a real number, got bool True$"):
        conversion(True)


def test_prior_conversions_reject_non_positive_values() -> None:
    with pytest.raises(ValueError, match="variance"):
        l2_strength_from_prior_variance(0.0)
    with pytest.raises(ValueError, match="variance"):
        l2_strength_from_prior_variance(-1.0)
    with pytest.raises(ValueError, match="noise_variance"):
        l2_strength_from_prior_variance(1.0, noise_variance=0.0)
    with pytest.raises(ValueError, match="scale"):
        l1_strength_from_laplace_scale(0.0)
    with pytest.raises(ValueError, match="strength"):
        prior_variance_from_l2_strength(-2.0)
    with pytest.raises(ValueError, match="strength"):
        laplace_scale_from_l1_strength(0.0)
# --- pruning ----------------------------------------------------------------------------------

def small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 5), nn.ReLU(), nn.Linear(5, 3))


def test_weight_matrices_lists_linear_and_conv_weights() -> None:
    model = small_net()
    shapes = [tuple(w.shape) for w in weight_matrices(model)]
    assert shapes == [(2, 1, 3, 3), (5, 32), (3, 5)]
    assert all(w is layer.weight for w, layer in zip(weight_matrices(model), (model[0], model[3], model[5])))


def test_prune_fraction_zero_changes_nothing() -> None:
    model = small_net()
    pruned = prune_smallest_weights(model, 0.0)
    assert pruned is not model
    pruned_state = pruned.state_dict()
    assert set(pruned_state) == set(model.state_dict())
    for name, value in model.state_dict().items():
        assert torch.equal(value, pruned_state[name]), name


def test_prune_half_zeros_exactly_half_of_the_weights_globally() -> None:
    model = small_net()
    before = copy.deepcopy(model.state_dict())
    pruned = prune_smallest_weights(model, 0.5)
    weights = torch.cat([w.detach().flatten() for w in weight_matrices(pruned)])
    original = torch.cat([w.detach().flatten() for w in weight_matrices(model)])
    assert int((weights == 0).sum()) == original.numel() // 2  # 18 + 160 + 15 = 193 weights -> round(96.5)
    survivors = original[weights != 0].abs()
    assert survivors.min() >= original[weights == 0].abs().max()  # ranked globally by magnitude
    torch.testing.assert_close(weights[weights != 0], original[weights != 0], rtol=0, atol=0)
    for name, value in pruned.state_dict().items():  # a plain module: no weight_orig / weight_mask
        assert "orig" not in name and "mask" not in name
        if name.endswith("bias"):
            assert torch.equal(value, before[name])
    for name, value in model.state_dict().items():  # the input model is untouched
        assert torch.equal(value, before[name])
    assert isinstance(pruned[3].weight, nn.Parameter)


def test_prune_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="fraction"):
        prune_smallest_weights(small_net(), 1.5)
    with pytest.raises(ValueError, match="fraction"):
        prune_smallest_weights(small_net(), -0.1)
    with pytest.raises(ValueError, match="Linear or Conv"):
        prune_smallest_weights(nn.Sequential(nn.ReLU()), 0.5)
    with pytest.raises(TypeError, match="model"):
        prune_smallest_weights("net", 0.5)


def test_prune_everything() -> None:
    pruned = prune_smallest_weights(small_net(), 1.0)
    assert all(torch.all(w == 0) for w in weight_matrices(pruned))
    assert not any(torch.all(m.bias == 0) for m in pruned.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))


# sanity of the exhaustive 3^d enumeration on a case small enough to list by hand
def test_l1_enumeration_matches_brute_force_grid_in_one_dimension() -> None:
    for h, c, s in itertools.product((0.5, 2.0), (-1.5, 0.2, 3.0), (0.0, 0.5, 2.0)):
        w = penalized_quadratic_optimum(np.array([[h]]), np.array([c]), s, norm="l1")
        assert w[0] == pytest.approx(soft_threshold(c, s / h), abs=1e-14)


# --- issue 12: the one dtype rule, complex input, overflowing conversions ---------------------

def test_l1_penalty_of_int8_does_not_wrap() -> None:
    assert l1_penalty(np.array([-128, 100], dtype=np.int8), 0.1) == pytest.approx(22.8)
    assert l1_penalty([np.array([-128], dtype=np.int8)], 1.0) == pytest.approx(128.0)
    assert l1_penalty(torch.tensor([-128, 100], dtype=torch.int8), 0.1).item() == pytest.approx(22.8)


def test_soft_threshold_of_int8_does_not_wrap() -> None:
    assert soft_threshold(np.array([-128, 5], dtype=np.int8), 1).tolist() == [-127.0, 4.0]
    out = soft_threshold(torch.tensor([-128, 5], dtype=torch.int8), 1)
    assert out.dtype == torch.float64 and out.tolist() == [-127.0, 4.0]


def test_l2_penalty_upcasts_int8_and_float16_tensors() -> None:
    # int8 squares wrap (100**2 mod 256) and float16 squares overflow to inf without the rule
    assert l2_penalty(torch.tensor([-128, 100], dtype=torch.int8), 0.1).item() == pytest.approx(1319.2)
    half = l2_penalty(torch.tensor([300.0, 300.0], dtype=torch.float16), 0.1)
    assert half.dtype == torch.float32 and half.item() == pytest.approx(9000.0)
    assert l2_penalty([torch.tensor([300.0], dtype=torch.float16)], 2.0).item() == pytest.approx(90000.0)


def test_float16_penalty_keeps_the_graph() -> None:
    w = torch.tensor([300.0, -2.0], dtype=torch.float16, requires_grad=True)
    l2_penalty(w, 1.0).backward()
    assert torch.isfinite(w.grad).all() and w.grad.tolist() == [300.0, -2.0]


@pytest.mark.parametrize("penalty", [l1_penalty, l2_penalty])
def test_penalties_reject_bool_and_complex_with_the_argument_name(penalty) -> None:
    with pytest.raises(TypeError, match=r"^weights must hold real numbers.*bool"):
        penalty(torch.tensor([True, False]), 0.1)
    with pytest.raises(TypeError, match=r"^weights must hold real numbers.*complex"):
        penalty(np.array([1 + 1j]), 0.1)
    with pytest.raises(TypeError, match=r"^weights\[1\] must hold real numbers"):
        penalty([torch.ones(2), torch.ones(2, dtype=torch.complex64)], 0.1)


def test_soft_threshold_rejects_bool_and_complex_naming_w() -> None:
    for bad in (np.array([True]), np.array([1 + 2j]), torch.tensor([True]), torch.tensor([1j])):
        with pytest.raises(TypeError, match=r"^w must hold real numbers"):
            soft_threshold(bad, 0.1)


def test_array_checks_reject_complex_instead_of_dropping_the_imaginary_part() -> None:
    with pytest.raises(TypeError, match=r"^hessian must hold real numbers"):
        penalized_quadratic_optimum(np.eye(2) + 1j, np.ones(2), 0.1)
    with pytest.raises(TypeError, match=r"^center must hold real numbers"):
        penalized_quadratic_optimum(np.eye(2), np.ones(2) + 1j, 0.1)
    with pytest.raises(TypeError, match=r"^eigenvalues must hold real numbers"):
        hessian_shrinkage(np.array([1.0 + 1j]), 0.1)
    with pytest.raises(TypeError, match=r"^eigenvalues must hold real numbers"):
        rotated_hessian(np.array([1.0, 2.0 + 1j]))
    with pytest.raises(TypeError, match=r"^optimum must hold real numbers"):
        shrinkage_percent(np.array([1j]), np.ones(1))
    with pytest.raises(TypeError, match=r"^grad must hold real numbers"):
        sgd_l2_step(np.ones(2), np.ones(2) + 1j, 0.1, 0.0)
    with pytest.raises(TypeError, match=r"^w must hold real numbers"):
        sgd_decoupled_step(torch.tensor([True]), torch.ones(1), 0.1, 0.0)


def test_sgd_steps_compute_integer_tensors_in_float64() -> None:
    out = sgd_l2_step(torch.tensor([-128], dtype=torch.int8), torch.tensor([1], dtype=torch.int8), 0.5, 0.0)
    assert out.dtype == torch.float64 and out.tolist() == [-128.5]


@pytest.mark.parametrize(
    "conversion, name",
    [
        (l2_strength_from_prior_variance, "variance"),
        (prior_variance_from_l2_strength, "strength"),
        (l1_strength_from_laplace_scale, "scale"),
        (laplace_scale_from_l1_strength, "strength"),
    ],
)
def test_prior_conversions_reject_a_value_whose_quotient_overflows(conversion, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name} is too small for float64.*overflows to inf"):
        conversion(1e-320)
    with pytest.raises(ValueError, match=rf"^{name} is too large for float64.*underflows to 0"):
        conversion(1e308, 1e-100)
    assert conversion(1e-300) == pytest.approx(1e300)  # small but representable: still accepted


def test_decay_after_steps_beyond_float_range_is_the_exact_limit() -> None:
    assert decay_after_steps(0.1, 0.01, 10**400) == 0.0
    assert decay_after_steps(0.1, 0.0, 10**400) == 1.0
    assert decay_after_steps(0.5, 2.0, 10**400) == 0.0


# --- bad input found by tests/bad_inputs: non-finite entries, overflow, extreme magnitudes ------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_penalties_steps_and_soft_threshold_reject_non_finite_weights(bad) -> None:
    w = np.array([1.0, bad])
    for call in (lambda: l2_penalty(w, 0.1), lambda: l1_penalty(torch.tensor(w), 0.1), lambda: soft_threshold(w, 1.0)):
        with pytest.raises(ValueError, match=r"(weights|w) must be finite, got (nan|inf|-inf) at flat index 1 \(1 NaN or infinite entry\)"):
            call()
    with pytest.raises(ValueError, match="grad must be finite"):
        sgd_l2_step(np.ones(2), w, 0.1, 0.01)
    with pytest.raises(ValueError, match="w must be finite"):
        soft_threshold(bad, 1.0)


def test_penalties_and_steps_report_overflow_naming_the_arguments() -> None:
    with pytest.raises(ValueError, match="magnitudes of weights and strength are beyond float64's range"):
        l2_penalty(np.array([1e200, 1.0]), 0.1)
    with pytest.raises(ValueError, match="magnitudes of weights and strength are beyond float32's range"):
        l2_penalty(torch.tensor([1e30, 1.0]), 0.1)
    with pytest.raises(ValueError, match="weights and strength"):
        l1_penalty(torch.ones(3), 1e300)
    with pytest.raises(ValueError, match="magnitudes of w, grad, lr and weight_decay"):
        sgd_decoupled_step(torch.ones(2), torch.ones(2), 1e300, 0.0)
    with pytest.raises(ValueError, match="magnitudes of hessian, center and strength"):
        penalized_quadratic_optimum(np.eye(2), np.array([1e200, 1e200]), 1e200, norm="l1")


def test_soft_threshold_of_a_0d_array_is_an_array() -> None:
    out = soft_threshold(np.array(1.5), 1.0)
    assert isinstance(out, np.ndarray) and out.shape == () and out == 0.5


def test_shrinkage_percent_at_the_float64_limits() -> None:
    center = np.array([1.0, -2.0])
    assert shrinkage_percent(0.5 * center * 1e-200, center * 1e-200) == pytest.approx(50.0)
    assert shrinkage_percent(center * 1e158, center) == pytest.approx(100 * (1 - 1e158))
    with pytest.raises(ValueError, match="magnitudes of optimum and center"):
        shrinkage_percent(center * 1e307, center * 1e-10)
    with pytest.raises(ValueError, match="center must be finite"):
        shrinkage_percent(center, np.array([1.0, np.nan]))


def test_rotated_hessian_angle_is_a_real_number() -> None:
    with pytest.raises(ValueError, match="angle_degrees must be a real number within the float range"):
        rotated_hessian(angle_degrees=10**400)
    with pytest.raises(TypeError, match="angle_degrees must be a real number"):
        rotated_hessian(angle_degrees="30")
    np.testing.assert_allclose(rotated_hessian(angle_degrees=390.0), rotated_hessian(angle_degrees=30.0), atol=1e-12)
