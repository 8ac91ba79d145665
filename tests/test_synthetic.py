"""Tests of course_lib.synthetic: the generated problems are what their docstrings say."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.synthetic import (
    GAP_REGRESSION_INTERVALS,
    LinearRegressionProblem,
    MAX_TRUE_COEFFICIENT,
    gap_regression_function,
    make_dense_linear_regression,
    make_gap_regression,
    make_sparse_linear_regression,
    make_spirals,
    make_two_moons,
)


def _problem_fields(problem):
    return [problem.X_train, problem.y_train, problem.X_test, problem.y_test, problem.true_weights, problem.noise_std]


def test_gap_regression_has_no_inputs_in_the_gap():
    data = make_gap_regression(n_train=200, n_val=100, seed=4)
    (a_low, a_high), (b_low, b_high) = GAP_REGRESSION_INTERVALS
    for X in (data.X_train, data.X_val):
        x = X[:, 0]
        assert X.shape[1] == 1
        assert not torch.any((x > a_high) & (x < b_low))  # the gap is empty
        assert torch.all((x >= a_low) & (x <= b_high))
        assert abs(int((x < 0).sum()) - len(x) / 2) <= 0.5  # half the points on each side
    assert data.y_train.shape == (200, 1) and data.y_train.dtype == torch.float32
    assert data.n_classes is None and not data.is_classification
    x_test = data.X_test[:, 0]
    assert torch.any((x_test > a_high) & (x_test < b_low))  # the default test set crosses the gap
    inside = make_gap_regression(test_covers_gap=False).X_test[:, 0]
    assert not torch.any((inside > a_high) & (inside < b_low))


def test_gap_regression_targets_follow_the_true_function():
    exact = make_gap_regression(noise_std=0.0, seed=1)
    np.testing.assert_allclose(exact.y_train, gap_regression_function(exact.X_train), atol=1e-6)
    noisy = make_gap_regression(n_train=2000, noise_std=0.3, seed=1)
    residual = (noisy.y_train - gap_regression_function(noisy.X_train)).double()
    assert abs(residual.std().item() - 0.3) < 4 * 0.3 / math.sqrt(2 * 2000)
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(gap_regression_function(x), np.sin(2 * x) + 0.3 * x)


def test_two_moons_and_spirals_are_balanced_two_feature_classification():
    moons = make_two_moons(n_samples=301, seed=2)
    assert moons.n_features == 2 and moons.class_names == ("upper moon", "lower moon")
    labels = torch.cat([moons.y_train, moons.y_val, moons.y_test])
    assert torch.bincount(labels).tolist() == [151, 150]
    spirals = make_spirals(n_samples=300, n_arms=3, seed=2)
    assert spirals.class_names == ("arm 0", "arm 1", "arm 2") and spirals.sizes == (180, 60, 60)
    assert torch.bincount(torch.cat([spirals.y_train, spirals.y_val, spirals.y_test])).tolist() == [100] * 3


def test_noiseless_spiral_arms_lie_on_their_curves():
    data = make_spirals(n_samples=90, n_arms=3, noise_std=0.0, turns=1.5, seed=0)
    X, y = data.X_train.double(), data.y_train.double()
    r = X.norm(dim=1)
    theta = 2 * math.pi * (1.5 * r + y / 3)
    np.testing.assert_allclose(X.numpy(), (r[:, None] * torch.stack([theta.cos(), theta.sin()], 1)).numpy(), atol=1e-5)


def test_noiseless_moons_lie_on_their_half_circles():
    data = make_two_moons(noise_std=0.0)
    X, y = data.X_train.double(), data.y_train
    upper, lower = X[y == 0], X[y == 1] - torch.tensor([1.0, 0.5], dtype=torch.float64)
    np.testing.assert_allclose(upper.norm(dim=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(lower.norm(dim=1), 1.0, atol=1e-6)
    assert torch.all(upper[:, 1] >= -1e-6) and torch.all(lower[:, 1] <= 1e-6)


@pytest.mark.parametrize(
    "make", [make_gap_regression, make_two_moons, make_spirals], ids=["gap", "moons", "spirals"]
)
def test_generators_are_deterministic_given_the_seed(make):
    a, b, c = make(seed=5), make(seed=5), make(seed=6)
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(a, f"X_{split}"), getattr(b, f"X_{split}"))
        assert torch.equal(getattr(a, f"y_{split}"), getattr(b, f"y_{split}"))
    assert not torch.equal(a.X_train, c.X_train)


def test_sparse_linear_regression_has_few_examples_and_a_sparse_truth():
    problem = make_sparse_linear_regression()
    assert problem.n_samples == 20 and problem.n_features == 200 and problem.n_samples < problem.n_features
    assert problem.X_train.shape == (20, 200) and problem.y_train.shape == (20,)
    assert problem.X_test.shape == (1000, 200) and problem.X_train.dtype == np.float64
    assert len(problem.support) == 10 and np.count_nonzero(problem.true_weights) == 10
    exact = make_sparse_linear_regression(noise_std=0.0, n_informative=3, seed=9)
    np.testing.assert_allclose(exact.X_train @ exact.true_weights, exact.y_train)
    np.testing.assert_allclose(exact.X_test @ exact.true_weights, exact.y_test)
    noisy = make_sparse_linear_regression(n_test=20_000, noise_std=0.5, seed=1)
    residual = noisy.y_test - noisy.X_test @ noisy.true_weights
    assert abs(residual.std() - 0.5) < 4 * 0.5 / math.sqrt(2 * 20_000)
    again = make_sparse_linear_regression()
    np.testing.assert_array_equal(again.X_train, problem.X_train)
    np.testing.assert_array_equal(again.true_weights, problem.true_weights)
    assert repr(problem).startswith("LinearRegressionProblem(n_samples=20, n_features=200, n_informative=10")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: make_gap_regression(n_train=0), ValueError, "n_train must be an int >= 1, got 0"),
        (lambda: make_gap_regression(noise_std=-0.1), ValueError, "noise_std must be a finite number >= 0"),
        (lambda: make_gap_regression(n_test=2.5), TypeError, "n_test must be an int"),
        (lambda: make_two_moons(n_samples=5), ValueError, r"n_samples must be at least 6 \(2 classes x 3 splits\)"),
        (lambda: make_two_moons(noise_std=float("nan")), ValueError, "noise_std must be a finite number"),
        (lambda: make_two_moons(fractions=(0.5, 0.6, -0.1)), ValueError, "fractions must all be positive"),
        (lambda: make_spirals(n_arms=1), ValueError, "n_arms must be an int >= 2"),
        (lambda: make_spirals(turns=0), ValueError, "turns must be a finite number > 0"),
        (lambda: make_spirals(n_samples=8, n_arms=3), ValueError, "n_samples must be at least 9"),
        (lambda: make_sparse_linear_regression(n_informative=201), ValueError, "n_informative must be at most"),
        (lambda: make_sparse_linear_regression(n_samples=0), ValueError, "n_samples must be an int >= 1"),
        (lambda: make_sparse_linear_regression(noise_std=-1), ValueError, "noise_std must be a finite number >= 0"),
        (lambda: make_sparse_linear_regression(seed=-3), ValueError, "seed must be an int >= 0"),
    ],
)
def test_generators_reject_bad_arguments_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("x", [None, "1.0", [True, False], np.array([1 + 2j])])
def test_gap_regression_function_rejects_non_real_input_naming_x(x):
    with pytest.raises(TypeError, match="x must"):
        gap_regression_function(x)


def test_gap_regression_function_computes_integers_in_float():
    np.testing.assert_allclose(gap_regression_function(np.array([1], dtype=np.int8)), [math.sin(2.0) + 0.3])
    result = gap_regression_function(torch.tensor([1]))
    assert result.dtype == torch.float64 and math.isclose(result.item(), math.sin(2.0) + 0.3)


def test_linear_regression_problem_built_from_valid_fields_keeps_them():
    problem = make_sparse_linear_regression(n_samples=5, n_features=7, n_informative=2, n_test=3, seed=2)
    again = LinearRegressionProblem(*_problem_fields(problem))
    assert all(a is b for a, b in zip(_problem_fields(again), _problem_fields(problem)))  # no copies
    assert repr(again) == repr(problem) == (
        "LinearRegressionProblem(n_samples=5, n_features=7, n_informative=2, n_test=3, noise_std=0.5)"
    )
    converted = LinearRegressionProblem([[1, 2]], [3], [[4, 5]], [6], [1, 1], 0)
    assert converted.X_train.dtype == np.float64 and converted.noise_std == 0.0
    assert repr(converted) == "LinearRegressionProblem(n_samples=1, n_features=2, n_informative=2, n_test=1, noise_std=0.0)"


@pytest.mark.parametrize(
    ("index", "value", "error", "message"),
    [
        (0, None, TypeError, "X_train must be a 2-D real array, got NoneType None"),
        (1, None, TypeError, "y_train must be a 1-D real array, got NoneType None"),
        (2, "abc", TypeError, "X_test must be a 2-D real array, got str 'abc'"),
        (3, np.ones(3, dtype=bool), TypeError, "y_test must be a 1-D real array, got ndarray"),
        (4, None, TypeError, "true_weights must be a 1-D real array, got NoneType None"),
        (5, None, TypeError, "noise_std must be a real number, got NoneType None"),
        (5, -1.0, ValueError, "noise_std must be a finite number >= 0, got -1.0"),
        (0, np.ones(7), ValueError, r"X_train must be a 2-D real array of shape \(any, any\), got shape \(7,\)"),
        (1, np.ones(4), ValueError, r"y_train must be a 1-D real array of shape \(5,\), got shape \(4,\)"),
        (2, np.ones((3, 6)), ValueError, r"X_test must be a 2-D real array of shape \(any, 7\), got shape \(3, 6\)"),
        (3, np.ones(2), ValueError, r"y_test must be a 1-D real array of shape \(3,\), got shape \(2,\)"),
        (4, np.ones(6), ValueError, r"true_weights must be a 1-D real array of shape \(7,\), got shape \(6,\)"),
    ],
)
def test_linear_regression_problem_rejects_a_bad_field_by_name(index, value, error, message):
    fields = _problem_fields(make_sparse_linear_regression(n_samples=5, n_features=7, n_informative=2, n_test=3))
    fields[index] = value
    with pytest.raises(error, match=message):
        LinearRegressionProblem(*fields)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_gap_regression(n_train=2**63), r"n_train must be at most 10,000,000 .*got 9223372036854775808"),
        (lambda: make_two_moons(n_samples=10**400), "n_samples must be at most 10,000,000"),
        (lambda: make_spirals(n_samples=2**63), "n_samples must be at most 10,000,000"),
        (lambda: make_spirals(n_arms=2**63), r"n_samples must be at least .*\(n_arms = 9223372036854775808 classes"),
        (lambda: make_sparse_linear_regression(n_features=2**63), "n_features must be at most 10,000,000"),
        (lambda: make_sparse_linear_regression(n_test=10**6, n_features=100),
         r"n_test \* n_features must be at most 10,000,000 values, got 1000000 \* 100"),
    ],
)
def test_huge_sizes_are_rejected_before_any_allocation(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("make", [make_gap_regression, make_two_moons, make_spirals, make_sparse_linear_regression])
def test_noise_that_would_overflow_is_rejected(make):
    with pytest.raises(ValueError, match=r"noise_std must be at most 1e\+30 \(float32 features\), got 1e\+300"):
        make(noise_std=1e300)
    assert torch.isfinite(make_two_moons(noise_std=1e30).X_train).all()


def test_spiral_turns_whose_angle_overflows_are_rejected():
    with pytest.raises(ValueError, match=r"turns must be small enough that the angle 2\*pi\*\(turns \+ 1\) is finite"):
        make_spirals(turns=1e308)
    assert torch.isfinite(make_spirals(turns=1e300).X_train).all()


def test_gap_regression_function_rejects_non_finite_input_and_does_not_overflow_at_the_top_of_the_range():
    with pytest.raises(ValueError, match="x must be finite, got nan at flat index 1"):
        gap_regression_function(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="x must be finite, got inf at flat index 0"):
        gap_regression_function(torch.tensor([np.inf, 0.0]))
    x = np.array([1e308, -1.7e308, 1.0])
    with np.errstate(all="raise"):
        result = gap_regression_function(x)
    np.testing.assert_allclose(result, 2 * np.sin(x) * np.cos(x) + 0.3 * x, rtol=1e-12)
    assert result[2] == math.sin(2.0) + 0.3  # the usual formula below the top of the range
    big = gap_regression_function(torch.tensor([3e38, 1.0]))
    assert big.dtype == torch.float32 and torch.isfinite(big).all()


def test_linear_regression_problem_rejects_non_finite_fields_and_names_the_reference_of_a_mismatch():
    fields = _problem_fields(make_sparse_linear_regression(n_samples=5, n_features=7, n_informative=2, n_test=3))
    with_nan = [*fields]
    with_nan[3] = np.array([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="y_test must be finite, got nan at flat index 1"):
        LinearRegressionProblem(*with_nan)
    taller = [*fields]
    taller[0] = np.ones((6, 7))
    with pytest.raises(ValueError, match=r"y_train must be .* of shape \(6,\), got shape \(5,\): X_train has 6 rows"):
        LinearRegressionProblem(*taller)
    wider = [*fields]
    wider[0] = np.ones((5, 8))
    with pytest.raises(ValueError, match=r"X_test must be .* \(any, 8\), got shape \(3, 7\): X_train has 8 columns"):
        LinearRegressionProblem(*wider)


# --- the dense-truth problem of d2l §3.7 ---------------------------------------------------------


def test_dense_linear_regression_is_d2ls_weight_decay_problem():
    problem = make_dense_linear_regression()
    assert problem.X_train.shape == (20, 200) and problem.X_test.shape == (10_000, 200)
    np.testing.assert_array_equal(problem.true_weights, np.full(200, 0.01))
    assert problem.intercept == 0.05 and problem.noise_std == 0.01 and len(problem.support) == 200
    residual = problem.y_test - problem.X_test @ problem.true_weights - problem.intercept
    assert abs(residual.mean()) < 4 * 0.01 / math.sqrt(10_000)  # the intercept is in the targets, once
    assert abs(residual.std() - 0.01) < 4 * 0.01 / math.sqrt(2 * 10_000)
    features = problem.X_test
    assert abs(features.mean()) < 0.01 and abs(features.std() - 1.0) < 0.01  # standard-normal features
    # predicting the intercept alone: expected error d w^2 + sigma^2 = 0.0201
    assert abs(np.mean((problem.y_test - 0.05) ** 2) - 0.0201) < 0.002
    assert repr(problem) == ("LinearRegressionProblem(n_samples=20, n_features=200, n_informative=200, "
                             "n_test=10000, noise_std=0.01, intercept=0.05)")


def test_dense_linear_regression_is_exact_without_noise_and_reproducible_per_seed():
    exact = make_dense_linear_regression(n_samples=7, n_features=5, weight=-2.0, intercept=3.0, noise_std=0.0,
                                         n_test=4, seed=3)
    np.testing.assert_allclose(exact.X_train @ np.full(5, -2.0) + 3.0, exact.y_train)
    np.testing.assert_allclose(exact.X_test @ np.full(5, -2.0) + 3.0, exact.y_test)
    again = make_dense_linear_regression(n_samples=7, n_features=5, weight=-2.0, intercept=3.0, noise_std=0.0,
                                         n_test=4, seed=3)
    np.testing.assert_array_equal(again.X_train, exact.X_train)
    other = make_dense_linear_regression(n_samples=7, n_features=5, seed=4)
    assert not np.array_equal(other.X_train, exact.X_train)
    assert make_dense_linear_regression(weight=0.0).support.size == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(weight=float("nan")), ValueError, "weight must be a finite number, got nan"),
        (dict(weight=2e30), ValueError, r"weight must be at most 1e\+30 in magnitude, got 2e\+30"),
        (dict(intercept=-2e30), ValueError, r"intercept must be at most 1e\+30 in magnitude"),
        (dict(intercept="0.05"), TypeError, "intercept must be a real number, got str"),
        (dict(noise_std=-0.01), ValueError, "noise_std must be a finite number >= 0"),
        (dict(n_samples=0), ValueError, "n_samples must be an int >= 1, got 0"),
        (dict(n_test=10**6, n_features=100), ValueError, r"n_test \* n_features must be at most 10,000,000 values"),
        (dict(seed=-1), ValueError, "seed must be an int >= 0"),
    ],
)
def test_dense_linear_regression_rejects_bad_arguments_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_dense_linear_regression(**kwargs)


def test_dense_linear_regression_at_the_largest_coefficients_stays_finite():
    problem = make_dense_linear_regression(n_features=50, weight=MAX_TRUE_COEFFICIENT,
                                           intercept=-MAX_TRUE_COEFFICIENT, n_test=10)
    assert np.isfinite(problem.y_train).all() and np.isfinite(problem.y_test).all()


def test_linear_regression_problem_checks_its_intercept():
    fields = _problem_fields(make_sparse_linear_regression(n_samples=5, n_features=7, n_informative=2, n_test=3))
    assert LinearRegressionProblem(*fields).intercept == 0.0
    assert LinearRegressionProblem(*fields, intercept=np.float32(0.5)).intercept == 0.5
    with pytest.raises(ValueError, match="intercept must be a finite number, got inf"):
        LinearRegressionProblem(*fields, intercept=float("inf"))
    with pytest.raises(TypeError, match="intercept must be a real number, got NoneType None"):
        LinearRegressionProblem(*fields, intercept=None)
