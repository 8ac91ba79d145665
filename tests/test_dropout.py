"""Unit and property tests for course_lib.dropout (NumPy and torch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from course_lib.dropout import (
    InvertedDropout,
    all_keep_masks,
    dropout_backward,
    dropout_forward,
    dropout_penalty,
    dropout_regression_weights,
    inverted_dropout,
    keep_mask_probabilities,
    scaled_inference_dropout_forward,
)
from course_lib.gradcheck import numerical_gradient, rel_error

rates = st.floats(min_value=0.0, max_value=0.95)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


# --- NumPy forward / backward: properties -------------------------------------------------

@given(p=st.floats(min_value=0.01, max_value=0.95), seed=seeds, n=st.integers(2_000, 50_000))
def test_kept_fraction_within_four_sigma(p: float, seed: int, n: int) -> None:
    _, mask = dropout_forward(np.ones(n), p, rng=np.random.default_rng(seed))
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(mask.mean() - (1 - p)) < 4 * sigma


@given(p=st.floats(min_value=0.05, max_value=0.9), seed=seeds)
def test_expected_output_equals_input(p: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(8)
    draws = 20_000
    out, _ = dropout_forward(np.broadcast_to(x, (draws, 8)).copy(), p, rng=rng)
    # each column's mean has standard error |x| sqrt(p / (1 - p) / draws)
    standard_error = np.abs(x) * math.sqrt(p / (1 - p) / draws)
    assert np.all(np.abs(out.mean(axis=0) - x) <= 4 * standard_error + 1e-12)


@given(p=rates, seed=seeds, shape=st.lists(st.integers(1, 5), min_size=1, max_size=3))
def test_eval_mode_is_identity(p: float, seed: int, shape: list[int]) -> None:
    x = np.random.default_rng(seed).standard_normal(shape)
    out, mask = dropout_forward(x, p, training=False, rng=np.random.default_rng(seed))
    assert mask is None
    np.testing.assert_array_equal(out, x)
    assert out is not x


@given(p=rates, seed=seeds)
def test_survivors_scaled_and_dropped_units_zero(p: float, seed: int) -> None:
    x = np.random.default_rng(seed).standard_normal((6, 7))
    out, mask = dropout_forward(x, p, rng=np.random.default_rng(seed))
    if p == 0.0:
        assert mask is None
        np.testing.assert_array_equal(out, x)
        return
    assert mask.dtype == np.bool_ and mask.shape == x.shape
    np.testing.assert_array_equal(out[~mask], 0.0)
    np.testing.assert_allclose(out[mask], x[mask] / (1 - p), rtol=1e-15)


@given(p=st.floats(min_value=0.0, max_value=0.9), seed=seeds)
def test_gradient_check_float64(p: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 5))
    upstream = rng.standard_normal((3, 5))

    def loss(z: np.ndarray) -> float:  # the same mask on every call: re-seeded generator
        return float(np.sum(dropout_forward(z, p, rng=np.random.default_rng(seed))[0] * upstream))

    _, mask = dropout_forward(x, p, rng=np.random.default_rng(seed))
    analytic = dropout_backward(upstream, mask, p)
    assert rel_error(numerical_gradient(loss, x), analytic) < 1e-8


def test_same_generator_state_gives_same_mask_and_fresh_masks_differ() -> None:
    x = np.ones(1000)
    a = dropout_forward(x, 0.5, rng=np.random.default_rng(7))[1]
    b = dropout_forward(x, 0.5, rng=np.random.default_rng(7))[1]
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(7)
    first, second = dropout_forward(x, 0.5, rng=rng)[1], dropout_forward(x, 0.5, rng=rng)[1]
    assert not np.array_equal(first, second)


def test_default_generator_is_reseeded_by_setup() -> None:
    import course_lib

    course_lib.setup_notebook(3)
    a = dropout_forward(np.ones(100), 0.5)[1]
    course_lib.setup_notebook(3)
    b = dropout_forward(np.ones(100), 0.5)[1]
    np.testing.assert_array_equal(a, b)


def test_dtypes_preserved_and_input_untouched() -> None:
    x32 = np.linspace(-1, 1, 12, dtype=np.float32)
    before = x32.copy()
    out, mask = dropout_forward(x32, 0.25, rng=np.random.default_rng(0))
    assert out.dtype == np.float32
    assert dropout_backward(np.ones(12, np.float32), mask, 0.25).dtype == np.float32
    np.testing.assert_array_equal(x32, before)
    out_int, _ = dropout_forward(np.arange(10), 0.5, rng=np.random.default_rng(0))
    assert out_int.dtype == np.float64


def test_backward_without_mask_passes_gradient_through() -> None:
    g = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(dropout_backward(g, None, 0.3), g)


def test_backward_uses_mask_and_scale() -> None:
    g = np.ones(4)
    mask = np.array([True, False, True, False])
    np.testing.assert_array_equal(dropout_backward(g, mask, 0.75), [4.0, 0.0, 4.0, 0.0])


# --- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("p", [1.0, 1.5, -0.1, float("nan"), float("inf")])
def test_p_outside_unit_interval_is_rejected_with_its_value(p: float) -> None:
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got"):
        dropout_forward(np.ones(3), p)
    with pytest.raises(ValueError, match="p must be in"):
        dropout_backward(np.ones(3), None, p)
    with pytest.raises(ValueError, match="p must be in"):
        InvertedDropout(p)


@pytest.mark.parametrize("p", ["0.5", None, True, [0.5]])
def test_non_numeric_p_is_a_type_error(p: object) -> None:
    with pytest.raises(TypeError, match="p must be a real number"):
        dropout_forward(np.ones(3), p)


@pytest.mark.parametrize("x", [[1.0, 2.0], 3.0, torch.ones(3), np.array(["a", "b"])])
def test_non_array_x_is_a_type_error(x: object) -> None:
    with pytest.raises(TypeError, match="x must"):
        dropout_forward(x, 0.5)


def test_mask_shape_mismatch_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"mask shape \(3,\) differs from grad_out shape \(4,\)"):
        dropout_backward(np.ones(4), np.ones(3, dtype=bool), 0.5)


def test_non_boolean_mask_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="mask must be a boolean"):
        dropout_backward(np.ones(4), np.ones(4), 0.5)


def test_bad_rng_and_training_flag() -> None:
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        dropout_forward(np.ones(3), 0.5, rng=42)
    with pytest.raises(TypeError, match="training must be a bool"):
        dropout_forward(np.ones(3), 0.5, training=1)


# --- the original, inference-scaled formulation -------------------------------------------

def test_scaled_inference_variant_matches_expectation_at_eval() -> None:
    x = np.random.default_rng(0).standard_normal(5)
    p = 0.4
    eval_out, mask = scaled_inference_dropout_forward(x, p, training=False)
    assert mask is None
    np.testing.assert_allclose(eval_out, (1 - p) * x)
    draws = np.broadcast_to(x, (40_000, 5)).copy()
    train_out, mask = scaled_inference_dropout_forward(draws, p, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(train_out[mask], draws[mask])  # survivors are not rescaled
    standard_error = np.abs(x) * math.sqrt(p * (1 - p) / 40_000)
    assert np.all(np.abs(train_out.mean(axis=0) - eval_out) <= 4 * standard_error)


# --- torch module -------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_inverted_dropout_module_matches_nn_dropout_statistics(p: float) -> None:
    torch.manual_seed(0)
    x = torch.ones(200_000, dtype=torch.float64)
    ours, theirs = InvertedDropout(p)(x), torch.nn.Dropout(p)(x)
    sigma = math.sqrt(p * (1 - p) / x.numel())
    for out in (ours, theirs):
        kept = (out != 0).double().mean().item()
        assert abs(kept - (1 - p)) < 4 * sigma
        assert set(torch.unique(out).tolist()) <= {0.0, 1 / (1 - p)}
        # E[y] = 1 and Var[y] = p / (1 - p) for x = 1
        assert abs(out.mean().item() - 1) < 4 * math.sqrt(p / (1 - p) / x.numel())
    assert abs(ours.var().item() - theirs.var().item()) < 0.05 * p / (1 - p)


def test_inverted_dropout_draws_the_same_mask_as_torch_for_the_same_seed() -> None:
    # Both draw bernoulli(1 - p) into a tensor shaped like x: an exact match on the CPU.
    x = torch.randn(1000)
    torch.manual_seed(5)
    expected = torch.nn.functional.dropout(x, 0.3)
    torch.manual_seed(5)
    np.testing.assert_array_equal(InvertedDropout(0.3)(x).numpy(), expected.numpy())


def test_inverted_dropout_eval_is_identity_and_backward_reuses_mask() -> None:
    layer = InvertedDropout(0.5)
    x = torch.randn(64, 32, dtype=torch.float64, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    kept = out.detach() != 0
    expected_grad = kept.double() / (1 - 0.5)
    assert torch.equal(x.grad, expected_grad)
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == "InvertedDropout(p=0.5)"
    with torch.no_grad():
        assert torch.equal(layer(x), x)


def test_inverted_dropout_train_passes_differ_and_generator_is_respected() -> None:
    layer = InvertedDropout(0.5)
    x = torch.ones(100)
    assert not torch.equal(layer(x), layer(x))
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(inverted_dropout(x, 0.5, generator=g1), inverted_dropout(x, 0.5, generator=g2))


def test_inverted_dropout_rejects_non_tensors() -> None:
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        InvertedDropout(0.5)(np.ones(3))


# --- ensemble and regression helpers ------------------------------------------------------

def test_all_keep_masks_enumerates_each_subnetwork_once() -> None:
    masks = all_keep_masks(4)
    assert masks.shape == (16, 4)
    assert len({tuple(m) for m in masks}) == 16
    probabilities = keep_mask_probabilities(masks, 0.3)
    assert math.isclose(probabilities.sum(), 1.0, rel_tol=1e-12)
    assert math.isclose(probabilities[-1], 0.7**4)
    with pytest.raises(ValueError, match="n must be in"):
        all_keep_masks(0)


def test_dropout_penalty_is_the_gap_between_expected_and_clean_loss() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4)) * np.array([0.5, 1.0, 2.0, 4.0])
    w = rng.standard_normal(4)
    y = X @ w + 0.1 * rng.standard_normal(30)
    p = 0.3
    clean = np.sum((y - X @ w) ** 2)
    draws = 20_000
    noisy_X, _ = dropout_forward(np.broadcast_to(X, (draws, 30, 4)).copy(), p, rng=rng)
    monte_carlo = np.mean(np.sum((y - noisy_X @ w) ** 2, axis=1))
    assert abs(monte_carlo - clean - dropout_penalty(X, w, p)) / dropout_penalty(X, w, p) < 0.03


def test_dropout_regression_weights_minimise_the_expected_loss() -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3)) * np.array([0.3, 1.0, 3.0])
    y = rng.standard_normal(40)
    p = 0.4
    w = dropout_regression_weights(X, y, p)

    def expected_loss(v: np.ndarray) -> float:
        return float(np.sum((y - X @ v) ** 2) + dropout_penalty(X, v, p))

    # the gradient of the expected loss vanishes at the closed-form minimiser
    np.testing.assert_allclose(numerical_gradient(expected_loss, w), 0.0, atol=1e-6)
    assert expected_loss(w) < expected_loss(np.linalg.lstsq(X, y, rcond=None)[0])
    with pytest.raises(ValueError, match=r"y must have shape \(40,\)"):
        dropout_regression_weights(X, y[:-1], p)
