"""Unit and property tests for course_lib.dropout (NumPy and torch), its analysis tools and the drawn network."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.dropout import (
    DropoutEnsemble,
    InvertedDropout,
    NetworkStatistics,
    TinyNetwork,
    all_keep_masks,
    draw_unit_uniforms,
    dropout_backward,
    dropout_ensemble,
    dropout_forward,
    dropout_penalty,
    dropout_regression_weights,
    eval_mode_output,
    expected_active_connections,
    inverted_dropout,
    keep_mask_probabilities,
    keep_masks,
    log_softmax,
    network_statistics,
    normalized_geometric_mean,
    running_mean_with_standard_error,
    sample_dropout_regression_losses,
    scaled_inference_dropout_forward,
    softmax,
    tiny_network,
    training_mode_outputs,
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


def _layers(rng: np.random.Generator, sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(rng.normal(size=(b, a)), rng.normal(size=b)) for a, b in zip(sizes[:-1], sizes[1:])]


# --- softmax helpers -------------------------------------------------------


def test_softmax_matches_torch_and_sums_to_one():
    logits = np.random.default_rng(0).normal(size=(4, 5)) * 3
    expected = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
    np.testing.assert_allclose(softmax(logits), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(softmax(logits).sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_log_softmax_is_stable_for_huge_logits():
    out = log_softmax(np.array([1000.0, 0.0, -1000.0]))
    assert np.all(np.isfinite(out))
    assert out[0] == pytest.approx(0.0, abs=1e-12)
    assert out[1] == pytest.approx(-1000.0)


def test_softmax_rejects_non_finite_and_scalar():
    with pytest.raises(ValueError, match="non-finite"):
        softmax(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="at least one dimension"):
        softmax(np.array(1.0))


# --- normalised geometric mean ---------------------------------------------


def test_geometric_mean_of_identical_members_is_that_member():
    q = np.array([0.2, 0.5, 0.3])
    log_q = np.log(np.stack([q, q, q]))
    np.testing.assert_allclose(normalized_geometric_mean(log_q, np.array([0.2, 0.3, 0.5])), q, rtol=1e-12)


def test_geometric_mean_matches_direct_formula():
    members = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    weights = np.array([0.25, 0.75])
    direct = np.prod(members ** weights[:, None], axis=0)
    direct /= direct.sum()
    np.testing.assert_allclose(normalized_geometric_mean(np.log(members), weights), direct, rtol=1e-12)
    # ... and differs from the arithmetic mean
    assert not np.allclose(direct, weights @ members)


def test_geometric_mean_ignores_zero_weight_members_with_minus_inf():
    log_q = np.array([[np.log(0.5), np.log(0.5)], [-np.inf, 0.0]])
    np.testing.assert_allclose(normalized_geometric_mean(log_q, np.array([1.0, 0.0])), [0.5, 0.5])


def test_geometric_mean_validates_weights():
    log_q = np.log(np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="sum to 1"):
        normalized_geometric_mean(log_q, np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="weights must have shape"):
        normalized_geometric_mean(log_q, np.array([1.0]))


# --- exact dropout ensembles -----------------------------------------------


@settings(max_examples=25, deadline=None)
@given(p=st.floats(0.0, 0.9), seed=st.integers(0, 2**16), n_in=st.integers(1, 8))
def test_geometric_mean_is_exact_for_a_single_softmax_layer(p, seed, n_in):
    rng = np.random.default_rng(seed)
    ensemble = dropout_ensemble(rng.normal(size=(3, n_in)), _layers(rng, (n_in, 4)), p)
    np.testing.assert_allclose(ensemble.geometric_mean, ensemble.eval_output, rtol=0, atol=1e-12)
    assert ensemble.mask_probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    assert ensemble.masks.shape == (2**n_in, n_in)


def test_geometric_mean_is_exact_when_only_the_last_hidden_layer_is_dropped():
    rng = np.random.default_rng(1)
    layers = _layers(rng, (5, 8, 3))
    ensemble = dropout_ensemble(rng.normal(size=(6, 5)), layers, 0.5, dropout_on=(1,))
    np.testing.assert_allclose(ensemble.geometric_mean, ensemble.eval_output, rtol=0, atol=1e-12)


def test_geometric_and_arithmetic_means_are_approximate_for_a_deeper_net():
    rng = np.random.default_rng(2)
    ensemble = dropout_ensemble(rng.normal(size=(6, 4)), _layers(rng, (4, 5, 5, 3)), 0.5, dropout_on=(1, 2))
    assert np.abs(ensemble.geometric_mean - ensemble.eval_output).max() > 1e-2
    assert np.abs(ensemble.arithmetic_mean - ensemble.eval_output).max() > 1e-2
    np.testing.assert_allclose(ensemble.geometric_mean.sum(axis=-1), 1.0, atol=1e-12)


def test_arithmetic_mean_is_not_exact_even_for_one_layer():
    rng = np.random.default_rng(3)
    ensemble = dropout_ensemble(rng.normal(size=(4, 6)), _layers(rng, (6, 3)), 0.5)
    assert np.abs(ensemble.arithmetic_mean - ensemble.eval_output).max() > 1e-2


def test_p_zero_ensemble_is_the_full_network():
    rng = np.random.default_rng(4)
    ensemble = dropout_ensemble(rng.normal(size=4), _layers(rng, (4, 5, 3)), 0.0, dropout_on=(0, 1))
    for combined in (ensemble.arithmetic_mean, ensemble.geometric_mean):
        np.testing.assert_allclose(combined, ensemble.eval_output, atol=1e-12)


def test_members_match_a_hand_computed_sub_network():
    rng = np.random.default_rng(5)
    (W1, b1), (W2, b2) = layers = _layers(rng, (3, 4, 2))
    x = rng.normal(size=3)
    p = 0.25
    ensemble = dropout_ensemble(x, layers, p, dropout_on=(1,), activation="tanh")
    k = 0b1010  # units 0 and 2 kept (first unit = most significant bit)
    mask = np.array([1.0, 0.0, 1.0, 0.0])
    logits = W2 @ (mask / (1 - p) * np.tanh(W1 @ x + b1)) + b2
    np.testing.assert_allclose(ensemble.member_probabilities[k], softmax(logits), rtol=1e-12)
    assert ensemble.mask_probabilities[k] == pytest.approx((1 - p) ** 2 * p**2)


def test_arithmetic_mean_agrees_with_torch_training_mode_average():
    """Reference: the average of many nn.Dropout training-mode passes estimates the arithmetic mean."""
    rng = np.random.default_rng(6)
    (W1, b1), (W2, b2) = layers = _layers(rng, (4, 6, 3))
    x = rng.normal(size=4)
    ensemble = dropout_ensemble(x, layers, 0.5, dropout_on=(0, 1))
    net = torch.nn.Sequential(
        torch.nn.Dropout(0.5), torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(6, 3)
    ).double()
    with torch.no_grad():
        for linear, (W, b) in zip((net[1], net[4]), layers):
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        torch.manual_seed(0)
        probs = torch.softmax(net.train()(torch.from_numpy(x).expand(200_000, 4)), dim=-1).numpy()
        eval_probs = torch.softmax(net.eval()(torch.from_numpy(x)), dim=-1).numpy()
    standard_error = probs.std(axis=0, ddof=1) / np.sqrt(len(probs))
    assert np.all(np.abs(probs.mean(axis=0) - ensemble.arithmetic_mean) < 5 * standard_error)
    np.testing.assert_allclose(eval_probs, ensemble.eval_output, rtol=1e-12)


def test_one_dimensional_input_drops_the_batch_axis():
    rng = np.random.default_rng(7)
    ensemble = dropout_ensemble(rng.normal(size=3), _layers(rng, (3, 2)), 0.5)
    assert ensemble.eval_output.shape == (2,)
    assert ensemble.member_probabilities.shape == (8, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"dropout_on": (2,)}, ValueError, "dropout_on"),
        ({"dropout_on": ()}, ValueError, "dropout_on"),
        ({"dropout_on": (0, 0)}, ValueError, "dropout_on"),
        ({"activation": "gelu"}, ValueError, "activation"),
        ({"p": 1.0}, ValueError, "p must be in"),
    ],
)
def test_dropout_ensemble_validates_arguments(kwargs, error, message):
    rng = np.random.default_rng(8)
    arguments = {"x": rng.normal(size=3), "layers": _layers(rng, (3, 4, 2)), "p": 0.5} | kwargs
    with pytest.raises(error, match=message):
        dropout_ensemble(**arguments)


def test_dropout_ensemble_rejects_bad_shapes_and_too_many_units():
    rng = np.random.default_rng(9)
    with pytest.raises(ValueError, match="expects 5 inputs"):
        mismatched = [(rng.normal(size=(4, 3)), np.zeros(4)), (rng.normal(size=(2, 5)), np.zeros(2))]
        dropout_ensemble(rng.normal(size=3), mismatched, 0.5)
    with pytest.raises(ValueError, match="x must have shape"):
        dropout_ensemble(rng.normal(size=4), _layers(rng, (3, 2)), 0.5)
    with pytest.raises(ValueError, match="at most 16"):
        dropout_ensemble(rng.normal(size=17), _layers(rng, (17, 2)), 0.5)
    with pytest.raises(TypeError, match="layers"):
        dropout_ensemble(rng.normal(size=3), [], 0.5)


# --- running mean and standard error ---------------------------------------


def test_running_mean_and_standard_error_match_direct_computation():
    samples = np.random.default_rng(10).normal(loc=3.0, size=(50, 2))
    running_mean, standard_error = running_mean_with_standard_error(samples)
    assert np.all(np.isnan(standard_error[0]))
    for k in (2, 7, 50):
        np.testing.assert_allclose(running_mean[k - 1], samples[:k].mean(axis=0), rtol=1e-12)
        expected = samples[:k].std(axis=0, ddof=1) / np.sqrt(k)
        np.testing.assert_allclose(standard_error[k - 1], expected, rtol=1e-9)


def test_running_mean_converges_and_band_shrinks_like_one_over_root_n():
    samples = np.random.default_rng(11).exponential(size=40_000)
    running_mean, standard_error = running_mean_with_standard_error(samples)
    assert abs(running_mean[-1] - 1.0) < 4 * standard_error[-1]
    assert standard_error[-1] / standard_error[399] == pytest.approx(0.1, rel=0.2)


def test_running_mean_of_constant_has_zero_standard_error():
    running_mean, standard_error = running_mean_with_standard_error(np.full(5, 2.5))
    np.testing.assert_array_equal(running_mean, 2.5)
    np.testing.assert_array_equal(standard_error[1:], 0.0)


def test_running_mean_validates_input():
    with pytest.raises(ValueError, match="at least one row"):
        running_mean_with_standard_error(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        running_mean_with_standard_error([1.0, 2.0])


# --- Monte-Carlo dropout regression loss -----------------------------------


def test_monte_carlo_dropout_loss_matches_the_analytic_penalty():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(30, 3)) * np.array([0.5, 1.0, 3.0])
    w = np.array([1.0, -2.0, 0.5])
    y = X @ w + rng.normal(size=30)
    losses = sample_dropout_regression_losses(X, y, w, 0.3, 4000, rng=np.random.default_rng(13))
    analytic = np.sum((y - X @ w) ** 2) + dropout_penalty(X, w, 0.3)
    standard_error = losses.std(ddof=1) / np.sqrt(len(losses))
    assert abs(losses.mean() - analytic) < 4 * standard_error


def test_monte_carlo_dropout_loss_without_dropout_is_the_plain_loss():
    rng = np.random.default_rng(14)
    X, w, y = rng.normal(size=(5, 2)), rng.normal(size=2), rng.normal(size=5)
    losses = sample_dropout_regression_losses(X, y, w, 0.0, 3, rng=rng)
    np.testing.assert_allclose(losses, np.sum((y - X @ w) ** 2))


def test_monte_carlo_dropout_loss_is_reproducible_and_validated():
    X, w, y = np.ones((4, 2)), np.ones(2), np.ones(4)
    a = sample_dropout_regression_losses(X, y, w, 0.5, 10, rng=np.random.default_rng(0))
    b = sample_dropout_regression_losses(X, y, w, 0.5, 10, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n_samples"):
        sample_dropout_regression_losses(X, y, w, 0.5, 0)
    with pytest.raises(ValueError, match="w must have shape"):
        sample_dropout_regression_losses(X, y, np.ones(3), 0.5, 2)
    with pytest.raises(TypeError, match="rng"):
        sample_dropout_regression_losses(X, y, w, 0.5, 2, rng=0)


# --- the masks and counts of a drawn dropout network ------------------------------------------

SIZES = (3, 4, 4, 2)


def test_network_statistics_on_a_hand_made_mask():
    masks = (
        np.array([True, True, True]),
        np.array([True, False, False, True]),
        np.array([False, True, True, True]),
        np.array([True, True]),
    )
    stats = network_statistics(SIZES, masks, 0.5, training=True)
    assert stats.units == 13
    assert stats.droppable_units == 8  # the two hidden layers
    assert stats.dropped_units == 3
    assert stats.connections == 3 * 4 + 4 * 4 + 4 * 2
    assert stats.active_connections == 3 * 2 + 2 * 3 + 3 * 2
    assert stats.keep_probability == 0.5
    assert stats.survivor_scale == 2.0


def test_network_statistics_in_eval_mode():
    masks = keep_masks(SIZES, draw_unit_uniforms(SIZES, np.random.default_rng(0)), 0.7, training=False)
    stats = network_statistics(SIZES, masks, 0.7, training=False)
    assert stats.dropped_units == 0
    assert stats.active_connections == stats.connections
    assert stats.keep_probability == 1.0
    assert stats.survivor_scale == 1.0


def test_keep_masks_never_drop_the_output_layer_and_drop_inputs_only_on_request():
    uniforms = tuple(np.zeros(n) for n in SIZES)  # every unit below any p > 0
    masks = keep_masks(SIZES, uniforms, 0.5)
    assert masks[0].all() and masks[-1].all()
    assert not masks[1].any() and not masks[2].any()
    assert not keep_masks(SIZES, uniforms, 0.5, drop_inputs=True)[0].any()


def test_raising_p_only_drops_more_units_for_the_same_draw():
    uniforms = draw_unit_uniforms(SIZES, np.random.default_rng(3))
    previous = None
    for p in np.linspace(0.0, 0.9, 10):
        masks = keep_masks(SIZES, uniforms, p)
        if previous is not None:
            for now, before in zip(masks, previous):
                assert np.all(now <= before)
        previous = masks
    assert all(m.all() for m in keep_masks(SIZES, uniforms, 0.0))


def test_keep_masks_keep_units_at_rate_one_minus_p():
    rng = np.random.default_rng(4)
    kept = [keep_masks((1, 1000, 1), draw_unit_uniforms((1, 1000, 1), rng), 0.3)[1].mean() for _ in range(20)]
    assert np.mean(kept) == pytest.approx(0.7, abs=4 * np.sqrt(0.21 / 20_000))


def test_expected_active_connections_matches_formula_and_simulation():
    p = 0.4
    assert expected_active_connections(SIZES, p) == pytest.approx(3 * 4 * 0.6 + 4 * 4 * 0.36 + 4 * 2 * 0.6)
    assert expected_active_connections(SIZES, p, training=False) == 3 * 4 + 4 * 4 + 4 * 2
    rng = np.random.default_rng(5)
    counts = [
        network_statistics(SIZES, keep_masks(SIZES, draw_unit_uniforms(SIZES, rng), p), p, training=True)
        .active_connections
        for _ in range(4000)
    ]
    standard_error = np.std(counts, ddof=1) / np.sqrt(len(counts))
    assert abs(np.mean(counts) - expected_active_connections(SIZES, p)) < 4 * standard_error


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: keep_masks((3,), (np.zeros(3),), 0.5), ValueError, "at least two"),
        (lambda: keep_masks(SIZES, (np.zeros(3),), 0.5), ValueError, "one array per layer"),
        (lambda: keep_masks(SIZES, tuple(np.zeros(n) for n in SIZES), 1.5), ValueError, "p must be in"),
        (lambda: keep_masks(SIZES, tuple(np.zeros(n) for n in SIZES), 0.5, training=1), TypeError, "training must"),
        (lambda: network_statistics(SIZES, (np.ones(3),) * 4, 0.5, training=True), ValueError, "boolean array"),
        (lambda: draw_unit_uniforms(SIZES, 0), TypeError, "rng"),
    ],
)
def test_pure_functions_validate_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- a tiny network: training-mode passes against the eval-mode output ------------------------


def test_training_mode_outputs_average_to_the_eval_output():
    network = tiny_network(0)
    outputs = training_mode_outputs(network, 0.5, 20_000, np.random.default_rng(1))
    assert outputs.shape == (20_000, 3)
    running_mean, standard_error = running_mean_with_standard_error(outputs)
    assert np.all(np.abs(running_mean[-1] - eval_mode_output(network)) < 4 * standard_error[-1])
    # the band narrows like 1/sqrt(N): 100x the passes, 1/10 the standard error
    np.testing.assert_allclose(standard_error[-1] / standard_error[199], 0.1, rtol=0.25)


def test_training_mode_outputs_without_dropout_equal_the_eval_output():
    network = tiny_network(0)
    outputs = training_mode_outputs(network, 0.0, 3, np.random.default_rng(0))
    np.testing.assert_allclose(outputs, np.tile(eval_mode_output(network), (3, 1)))


def test_tiny_network_is_reproducible_and_validated():
    a, b = tiny_network(3), tiny_network(3)
    assert isinstance(a, TinyNetwork)
    np.testing.assert_array_equal(a.W1, b.W1)
    assert a.hidden.shape == (16,)
    with pytest.raises(ValueError, match="hidden"):
        tiny_network(hidden=0)
    with pytest.raises(ValueError, match="n_passes"):
        training_mode_outputs(a, 0.5, 0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="TinyNetwork"):
        training_mode_outputs("net", 0.5, 1, np.random.default_rng(0))


# --- masks from a NumPy generator (the same on every machine) ---------------------------------


def test_inverted_dropout_with_a_numpy_generator_uses_dropout_forwards_mask() -> None:
    x = np.arange(1.0, 25.0).reshape(4, 6)
    expected, keep = dropout_forward(x, 0.3, rng=np.random.default_rng(11))
    got = inverted_dropout(torch.from_numpy(x), 0.3, generator=np.random.default_rng(11))
    assert got.dtype == torch.float64
    np.testing.assert_array_equal(got.numpy() != 0, keep)  # the very same mask
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-15)  # x·(m/(1-p)) vs m·x/(1-p): rounding only
    assert 0 < keep.sum() < keep.size


def test_inverted_dropout_with_a_numpy_generator_keeps_dtype_gradient_and_advances_the_stream() -> None:
    rng = np.random.default_rng(3)
    x = torch.ones(50, 40, requires_grad=True)
    first = inverted_dropout(x, 0.5, generator=rng)
    second = inverted_dropout(x, 0.5, generator=rng)
    assert first.dtype == torch.float32 and not torch.equal(first, second)  # a fresh mask per call
    first.sum().backward()
    assert torch.equal(x.grad, (first != 0).float() / 0.5)
    assert abs((first == 0).float().mean().item() - 0.5) < 4 * math.sqrt(0.25 / x.numel())


def test_inverted_dropout_module_with_a_numpy_generator_is_reproducible_and_identity_in_eval() -> None:
    make = lambda: InvertedDropout(0.4, generator=np.random.default_rng(5))  # noqa: E731
    x = torch.randn(8, 16)
    assert torch.equal(make()(x), make()(x))
    layer = make().eval()
    assert layer(x) is x
    assert repr(layer) == "InvertedDropout(p=0.4, generator=numpy.random.Generator)"
    assert repr(InvertedDropout(0.4, generator=torch.Generator())) == "InvertedDropout(p=0.4, generator=torch.Generator)"
    assert repr(InvertedDropout(0.4)) == "InvertedDropout(p=0.4)"


@pytest.mark.parametrize("generator", [0, "numpy", np.random.RandomState(0)])
def test_inverted_dropout_rejects_other_generators(generator) -> None:
    with pytest.raises(TypeError, match="generator must be a torch.Generator, a numpy.random.Generator or None, got"):
        inverted_dropout(torch.ones(3), 0.5, generator=generator)
    with pytest.raises(TypeError, match="generator must be"):
        InvertedDropout(0.5, generator=generator)


# --- issue 12: hardening ---------------------------------------------------


def test_dropout_penalty_and_weights_compute_int8_data_in_float64():
    X8 = np.array([[100, 0], [100, 1], [0, 1]], dtype=np.int8)  # 100**2 wraps in int8
    X = X8.astype(np.float64)
    w = np.array([1.0, 2.0])
    y = np.array([1.0, 2.0, 3.0])
    assert dropout_penalty(X8, w, 0.5) == pytest.approx(dropout_penalty(X, w, 0.5))
    assert dropout_penalty(X8, w, 0.5) == pytest.approx(1.0 * 20_000 + 4.0 * 2)
    expected = dropout_regression_weights(X, y, 0.5)
    np.testing.assert_allclose(dropout_regression_weights(X8, y.astype(np.int8), 0.5), expected)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        dropout_penalty(X8.astype(bool), w, 0.5)


def test_dropout_regression_weights_float16_is_computed_in_float64():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 3)).astype(np.float16)
    y = rng.standard_normal(20)
    w = dropout_regression_weights(X, y, 0.3)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, dropout_regression_weights(X.astype(np.float64), y, 0.3), rtol=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.4])
def test_dropout_regression_weights_rejects_a_zero_column(p):
    X = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    with pytest.raises(ValueError, match=r"X is singular: feature column\(s\) \[1\] are all zeros"):
        dropout_regression_weights(X, np.ones(3), p)


def test_dropout_regression_weights_rejects_dependent_columns_at_p_zero():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    X = np.stack([a, 3.0 * a], axis=1)
    with pytest.raises(ValueError, match="X is singular: its feature columns are linearly dependent"):
        dropout_regression_weights(X, np.ones(4), 0.0)
    assert np.all(np.isfinite(dropout_regression_weights(X, np.ones(4), 0.5)))  # p > 0 regularises them


def test_dropout_regression_rejects_non_finite_data():
    with pytest.raises(ValueError, match="X contains non-finite"):
        dropout_penalty(np.array([[np.nan, 1.0]]), np.ones(2), 0.5)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int8, torch.bool])
def test_inverted_dropout_rejects_integer_and_bool_tensors(dtype):
    x = torch.ones(4, dtype=dtype)
    with pytest.raises(TypeError, match=f"x must be a floating-point tensor.*got dtype {dtype}"):
        inverted_dropout(x, 0.5)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        InvertedDropout(0.5)(x)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        InvertedDropout(0.5).eval()(x)


@pytest.mark.parametrize(
    ("axis", "error", "message"),
    [
        ("a", TypeError, "axis must be an int, got str 'a'"),
        (1.5, TypeError, "axis must be an int, got float 1.5"),
        (True, TypeError, "axis must be an int, got bool True"),
        (2, ValueError, r"axis must be an int in \[-2, 1\].*got 2"),
        (-3, ValueError, r"axis must be an int in \[-2, 1\].*got -3"),
    ],
)
def test_softmax_and_log_softmax_reject_bad_axis(axis, error, message):
    logits = np.zeros((2, 3))
    for function in (softmax, log_softmax):
        with pytest.raises(error, match=message):
            function(logits, axis=axis)


def test_softmax_rejects_empty_and_non_real_logits():
    for empty in (np.array([]), np.zeros((2, 0))):
        with pytest.raises(ValueError, match="logits must be non-empty"):
            softmax(empty)
        with pytest.raises(ValueError, match="logits must be non-empty"):
            log_softmax(empty)
    with pytest.raises(TypeError, match="logits must hold real numbers"):
        softmax(np.array([1 + 2j, 0j]))
    with pytest.raises(TypeError, match="logits must hold real numbers"):
        log_softmax(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="non-finite"):
        softmax(np.array([0.0, np.inf]))


def test_softmax_accepts_int8_lists_and_minus_inf():
    np.testing.assert_allclose(softmax(np.array([100, 100], dtype=np.int8)), [0.5, 0.5])
    np.testing.assert_allclose(softmax([0, 0]), [0.5, 0.5])  # array-likes are accepted deliberately
    np.testing.assert_array_equal(softmax(np.array([0.0, -np.inf])), [1.0, 0.0])
    assert log_softmax(np.array([0.0, -np.inf]))[1] == -np.inf
    with pytest.raises(ValueError, match="logits must have a finite value in every slice"):
        softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))


def test_geometric_mean_accepts_minus_inf_in_a_weighted_member():
    log_q = np.array([[np.log(0.5), np.log(0.5)], [0.0, -np.inf]])
    np.testing.assert_array_equal(normalized_geometric_mean(log_q, np.array([0.5, 0.5])), [1.0, 0.0])
    members = np.array([[0.2, 0.3, 0.5], [0.4, 0.6, 0.0]])
    weights = np.array([0.3, 0.7])
    direct = np.prod(members ** weights[:, None], axis=0)
    with np.errstate(divide="ignore"):
        result = normalized_geometric_mean(np.log(members), weights)
    np.testing.assert_allclose(result, direct / direct.sum(), rtol=1e-12)


def test_geometric_mean_still_rejects_nan_plus_inf_and_all_zero_rows():
    weights = np.array([0.5, 0.5])
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match=r"log_probabilities contains NaN or \+inf"):
            normalized_geometric_mean(np.array([[0.0, bad], [0.0, 0.0]]), weights)
    with pytest.raises(ValueError, match="log_probabilities give every class probability 0"):
        normalized_geometric_mean(np.array([[0.0, -np.inf], [-np.inf, 0.0]]), weights)


def test_dropout_ensemble_accepts_a_member_with_minus_inf_log_probability():
    # the kept member's logits are [1e308, -1e308]: their difference overflows, so class 1 has log-probability -inf
    layers = [(np.array([[1e308], [-1e308]]), np.zeros(2))]
    ensemble = dropout_ensemble(np.array([0.5]), layers, 0.5)
    np.testing.assert_array_equal(ensemble.member_probabilities, [[0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(ensemble.arithmetic_mean, [0.75, 0.25])
    np.testing.assert_array_equal(ensemble.geometric_mean, [1.0, 0.0])
    np.testing.assert_array_equal(ensemble.eval_output, [1.0, 0.0])


@pytest.mark.parametrize("dropout_on", [None, 0, 1.5, "0"])
def test_dropout_ensemble_rejects_a_non_sequence_dropout_on(dropout_on):
    rng = np.random.default_rng(8)
    with pytest.raises(TypeError, match="dropout_on must be a sequence of layer indices"):
        dropout_ensemble(rng.normal(size=3), _layers(rng, (3, 4, 2)), 0.5, dropout_on=dropout_on)


# --- the DropoutEnsemble record ------------------------------------------------


_ENSEMBLE_FIELDS = (
    "masks", "mask_probabilities", "member_probabilities", "arithmetic_mean", "geometric_mean", "eval_output"
)


def _ensemble_fields(batch: int | None = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=3 if batch is None else (batch, 3))
    ensemble = dropout_ensemble(x, _layers(rng, (3, 2)), 0.5)
    return {name: getattr(ensemble, name) for name in _ENSEMBLE_FIELDS}


@pytest.mark.parametrize("batch", [None, 2])
def test_dropout_ensemble_built_from_valid_fields_keeps_them(batch):
    fields = _ensemble_fields(batch)
    again = DropoutEnsemble(**fields)
    assert all(getattr(again, name) is value for name, value in fields.items())  # no copies, no conversions
    assert again == DropoutEnsemble(*fields.values())
    text = repr(again)
    assert text.startswith("DropoutEnsemble(masks=array([[False, False, False],") and "eval_output=array(" in text


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    [
        ("masks", None, TypeError, "masks must be a 2-D boolean numpy.ndarray, got NoneType None"),
        ("masks", np.ones((8, 3)), TypeError, "masks must be a 2-D boolean numpy.ndarray, got ndarray"),
        ("masks", np.ones(8, dtype=bool), ValueError, r"masks must be a 2-D boolean numpy.ndarray, got shape \(8,\)"),
        ("mask_probabilities", None, TypeError, "mask_probabilities must be a 1-D real array, got NoneType None"),
        ("mask_probabilities", np.ones(7), ValueError, r"mask_probabilities must be .* of shape \(8,\), got shape \(7,\)"),
        ("member_probabilities", None, TypeError, "member_probabilities must be a real array, got NoneType None"),
        ("member_probabilities", np.ones((7, 2, 2)), ValueError, r"member_probabilities must have shape \(8, \.\.\., classes\)"),
        ("member_probabilities", np.ones(8), ValueError, r"member_probabilities must have shape \(8, \.\.\., classes\)"),
        ("arithmetic_mean", None, TypeError, "arithmetic_mean must be a 2-D real array, got NoneType None"),
        ("geometric_mean", "abc", TypeError, "geometric_mean must be a 2-D real array, got str 'abc'"),
        ("eval_output", np.ones((2, 3)), ValueError, r"eval_output must be a 2-D real array of shape \(2, 2\), got shape \(2, 3\)"),
        ("eval_output", np.ones(2, dtype=complex), TypeError, "eval_output must be a 2-D real array, got ndarray"),
    ],
)
def test_dropout_ensemble_rejects_a_bad_field_by_name(name, value, error, message):
    fields = _ensemble_fields()
    fields[name] = value
    with pytest.raises(error, match=message):
        DropoutEnsemble(**fields)


# --- bad input found by the bad-input tests (tests/bad_inputs/calls_dropout.py) -----------------

NET = dict(x=np.ones(3), W1=np.ones((4, 3)), b1=np.zeros(4), W2=np.ones((2, 4)), b2=np.zeros(2))
STATS = dict(training=True, p=0.5, units=9, droppable_units=4, dropped_units=3, connections=20,
             active_connections=8, keep_probability=0.5, survivor_scale=2.0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: dropout_forward(np.array([1.0, np.nan]), 0.5), ValueError, "x must be finite"),
        (lambda: dropout_forward(np.full(16, 1e308), 0.5, rng=np.random.default_rng(0)), ValueError, r"x / \(1 - p\) overflows float64"),
        (lambda: dropout_backward(np.array([np.inf]), None, 0.5), ValueError, "grad_out must be finite"),
        (lambda: scaled_inference_dropout_forward(np.array([np.inf]), 0.5), ValueError, "x must be finite"),
        (lambda: inverted_dropout(torch.tensor([np.nan]), 0.5, training=False), ValueError, "x must be finite"),
        (lambda: inverted_dropout(torch.full((16,), 3e38), 0.5, generator=np.random.default_rng(0)), ValueError, r"x / \(1 - p\) overflows torch.float32"),
        (lambda: dropout_penalty(np.ones((2, 1)) * 1e200, np.ones(1), 0.5), ValueError, "penalty overflows.*X and w"),
        (lambda: normalized_geometric_mean(np.zeros((3, 2)), np.ones(2) / 2), ValueError, "one per log_probabilities member"),
        (lambda: dropout_ensemble(np.array([1e308, -1e308]), _layers(np.random.default_rng(0), (2, 2)), 0.5),
         ValueError, "logits overflow float64: x and layers"),
        (lambda: dropout_ensemble(np.ones(2), _layers(np.random.default_rng(0), (2, 2)), 0.5, activation=["relu"]),
         ValueError, "activation must be one of"),
        (lambda: dropout_ensemble(np.ones(2), _layers(np.random.default_rng(0), (2, 2)), 0.5, dropout_on=iter([0])),
         TypeError, "dropout_on must be a sequence"),
        (lambda: running_mean_with_standard_error(np.array([1.0, np.nan])), ValueError, "samples must be finite"),
        (lambda: sample_dropout_regression_losses(np.ones((2, 1)), np.ones(2), np.ones(1), 0.5, 2**63),
         ValueError, "n_samples must be at most"),
        (lambda: sample_dropout_regression_losses(np.ones((2, 1)), np.ones(2), np.ones(1), 0.5, 2.0),
         TypeError, "n_samples must be an int"),
        (lambda: draw_unit_uniforms(None, np.random.default_rng(0)), TypeError, "layer_sizes must be a sequence"),
        (lambda: draw_unit_uniforms(b"ab", np.random.default_rng(0)), TypeError, "layer_sizes must be a sequence"),
        (lambda: expected_active_connections((3, 10**400), 0.5), ValueError, r"layer_sizes must list .* \[1, 1000000\]"),
        (lambda: keep_masks((1, 1), (np.array([2.0]), np.array([0.5])), 0.5), ValueError, r"uniforms must hold numbers in \[0, 1\]"),
        (lambda: keep_masks((1, 1), ("a", np.array([0.5])), 0.5), TypeError, r"uniforms\[0\] must hold real numbers"),
        (lambda: network_statistics((1, 1), iter([np.ones(1, bool)] * 2), 0.5, training=True), TypeError, "masks must be a sequence"),
        (lambda: tiny_network(hidden=2**63), ValueError, "hidden must be a positive int of at most 1000"),
        (lambda: eval_mode_output(None), TypeError, "network must be a TinyNetwork, got NoneType None"),
        (lambda: eval_mode_output(TinyNetwork(**{**NET, "x": np.full(3, 1e308)})), ValueError, "outputs of network"),
        (lambda: training_mode_outputs(tiny_network(0), 0.5, 2**63, np.random.default_rng(0)), ValueError, "n_passes must be at most"),
    ],
)
def test_bad_input_gets_a_named_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_huge_and_tiny_regression_data_give_the_scaled_answer():
    X, y, w = np.array([[1.0, 0.5], [0.2, 1.5], [-1.0, 2.0]]), np.array([1.0, -0.5, 2.0]), np.array([0.5, -1.5])
    np.testing.assert_allclose(dropout_penalty(X * 1e200, w * 1e-200, 0.3), dropout_penalty(X, w, 0.3), rtol=1e-12)
    np.testing.assert_allclose(dropout_regression_weights(X * 1e200, y, 0.3) * 1e200, dropout_regression_weights(X, y, 0.3), rtol=1e-12)
    np.testing.assert_array_equal(dropout_regression_weights(X * 2.0**600, y, 0.3) * 2.0**600, dropout_regression_weights(X, y, 0.3))
    mean, se = running_mean_with_standard_error(np.array([1.0, 2.0, 4.0]) * 1e300)
    np.testing.assert_allclose(se[1:] / 1e300, running_mean_with_standard_error(np.array([1.0, 2.0, 4.0]))[1][1:])
    out, mask = dropout_forward(np.array(3.0), 0.5, rng=np.random.default_rng(0))  # 0-d: arrays, not scalars
    assert isinstance(out, np.ndarray) and isinstance(mask, np.ndarray) and out.shape == mask.shape == ()
    assert inverted_dropout(torch.tensor(3.0), 0.5, generator=np.random.default_rng(0)).shape == ()


@pytest.mark.parametrize(
    ("record", "fields", "error", "message"),
    [
        (NetworkStatistics, {"training": "yes"}, TypeError, "training must be a bool"),
        (NetworkStatistics, {"p": math.nan}, ValueError, r"p must be in \[0, 1\)"),
        (NetworkStatistics, {"units": -1}, ValueError, "units must be an int >= 0"),
        (NetworkStatistics, {"survivor_scale": 0.5}, ValueError, "survivor_scale must be a finite number >= 1"),
        (TinyNetwork, {"x": None}, TypeError, "x must be a real array"),
        (TinyNetwork, {"b1": np.array([np.nan] * 4)}, ValueError, "b1 must be finite"),
        (TinyNetwork, {"W1": np.ones((4, 2))}, ValueError, r"W1 \(4, 2\) does not fit x \(3,\)"),
        (DropoutEnsemble, {"member_probabilities": np.ones((8, 2, 4))}, ValueError, "to match member_probabilities"),
        (DropoutEnsemble, {"geometric_mean": np.full((2, 2), np.inf)}, ValueError, "geometric_mean must be finite"),
    ],
)
def test_records_check_their_fields(record, fields, error, message):
    valid = _ensemble_fields() if record is DropoutEnsemble else STATS if record is NetworkStatistics else NET
    with pytest.raises(error, match=message):
        record(**{**valid, **fields})
    record(**valid)  # the valid fields are accepted
