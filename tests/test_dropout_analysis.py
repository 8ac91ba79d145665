"""Tests for the analysis tools of course_lib.dropout: ensembles, running means, the regression penalty."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.dropout import (
    dropout_ensemble,
    dropout_penalty,
    log_softmax,
    normalized_geometric_mean,
    running_mean_with_standard_error,
    sample_dropout_regression_losses,
    softmax,
)


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
